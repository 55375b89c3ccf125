r"""Attention: a soft, differentiable lookup.

Every query is compared with every key; the softmax of the scaled scores says how much
of each value the query takes (Vaswani et al. 2017, sec. 3.2):

$$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right) V$$
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, check_size, float_dtype

__all__ = ["KVCache", "MultiHeadAttention", "scaled_dot_product_attention", "softmax"]

Array = NDArray[np.floating[Any]]


def softmax(x: ArrayLike, axis: int = -1) -> Array:
    r"""Numerically stable softmax along ``axis``.

    $$\mathrm{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}}, \qquad m = \max_j x_j$$

    Subtracting the maximum $m$ changes nothing mathematically but keeps every exponent
    $\le 0$, so logits of $10^4$ stay finite. A slice that is entirely $-\infty$ (a query
    whose keys are all masked) gets all zeros instead of NaN.

    Parameters
    ----------
    x : array_like
        Scores of any shape; float32 stays float32.
    axis : int, default -1
        The axis that sums to 1.

    Returns
    -------
    numpy.ndarray
        Same shape and floating dtype as ``x``; non-negative, each slice along ``axis``
        sums to 1 (or is all zeros when the slice was all $-\infty$).
    """
    x = as_float_array("x", x)
    if not -x.ndim <= axis < max(x.ndim, 1):
        raise ValueError(f"axis must lie in [-{x.ndim}, {x.ndim - 1}] for x of shape {x.shape}; got {axis}")
    m = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros_like(x)
    m = np.where(np.isfinite(m), m, 0.0).astype(x.dtype, copy=False)
    e = np.exp(x - m)
    total = np.sum(e, axis=axis, keepdims=True)
    return e / np.where(total == 0, 1, total).astype(x.dtype, copy=False)


def _check_mask(mask: ArrayLike, scores_shape: tuple[int, ...]) -> NDArray[np.bool_]:
    mask_array = np.asarray(mask)
    if mask_array.dtype != np.bool_:
        raise TypeError(f"mask must be a boolean array (True = may attend); got dtype {mask_array.dtype}")
    try:
        fits = np.broadcast_shapes(mask_array.shape, scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"mask must broadcast to the scores' shape (..., n_q, n_k) = {scores_shape}; got shape {mask_array.shape}"
        )
    return mask_array


def check_qkv(q: ArrayLike, k: ArrayLike, v: ArrayLike) -> tuple[Array, Array, Array, tuple[int, ...]]:
    """Check queries, keys and values as attention needs them; return them as arrays and the batch shape.

    q ``(..., n_q, d_k)``, k ``(..., n_k, d_k)``, v ``(..., n_k, d_v)``, leading dimensions broadcasting.
    """
    q = as_float_array("q", q, min_ndim=2, layout="(..., n_q, d_k)")
    k = as_float_array("k", k, min_ndim=2, layout="(..., n_k, d_k)")
    v = as_float_array("v", v, min_ndim=2, layout="(..., n_k, d_v)")
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"k: last dimension d_k must equal q's d_k = {q.shape[-1]}; got k of shape {k.shape}")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"v: dimension -2 (n_k) must equal k's n_k = {k.shape[-2]}; got v of shape {v.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(
            "q, k and v: leading (batch) dimensions must broadcast; "
            f"got {q.shape[:-2]}, {k.shape[:-2]} and {v.shape[:-2]}"
        ) from None
    return q, k, v, batch


def scaled_dot_product_attention(
    q: ArrayLike,
    k: ArrayLike,
    v: ArrayLike,
    mask: ArrayLike | None = None,
) -> tuple[Array, Array]:
    r"""Scaled dot-product attention, batched over any leading dimensions.

    $$\mathrm{weights} = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}} + M\right),
    \qquad \mathrm{output} = \mathrm{weights}\, V$$

    where $M_{ij} = 0$ if query $i$ may attend to key $j$ and $-\infty$ otherwise.

    Parameters
    ----------
    q : array_like, shape (..., n_q, d_k)
        Queries.
    k : array_like, shape (..., n_k, d_k)
        Keys.
    v : array_like, shape (..., n_k, d_v)
        Values, one row per key.
    mask : array_like of bool, optional
        Broadcastable to ``(..., n_q, n_k)``; ``True`` where the query may attend.

    Returns
    -------
    output : numpy.ndarray, shape (..., n_q, d_v)
        Each row is a convex combination of the rows of ``v``.
    weights : numpy.ndarray, shape (..., n_q, n_k)
        The attention weights; each row sums to 1. A query with no allowed key gets a
        row of zeros and a zero output, never NaN.

    Raises
    ------
    ValueError
        If a rank is below 2, ``d_k`` or ``n_k`` disagree, the leading dimensions do not
        broadcast, or the mask does not broadcast to the scores.
    TypeError
        If an input is not numeric or the mask is not boolean.
    """
    q, k, v, batch = check_qkv(q, k, v)
    dtype = float_dtype(q, k, v)
    q, k, v = (a.astype(dtype, copy=False) for a in (q, k, v))

    scores = q @ np.swapaxes(k, -1, -2) / dtype.type(np.sqrt(q.shape[-1]))
    if mask is not None:
        allowed = _check_mask(mask, (*batch, q.shape[-2], k.shape[-2]))
        scores = np.where(allowed, scores, dtype.type(-np.inf))
    weights = softmax(scores, axis=-1)
    return weights @ v, weights


def _split_heads(x: Array, n_heads: int) -> Array:
    """``(..., n, d_model)`` -> ``(..., n_heads, n, d_head)``."""
    *lead, n, d_model = x.shape
    return np.swapaxes(x.reshape(*lead, n, n_heads, d_model // n_heads), -2, -3)


def _merge_heads(x: Array) -> Array:
    """``(..., n_heads, n, d_head)`` -> ``(..., n, n_heads * d_head)``."""
    *lead, n_heads, n, d_head = x.shape
    return np.swapaxes(x, -2, -3).reshape(*lead, n, n_heads * d_head)


@dataclass
class KVCache:
    r"""The keys and values one self-attention layer has already computed (the KV cache).

    When a model generates one token at a time, the keys and values of earlier tokens never
    change: only the new token's query, key and value are new. The cache keeps
    $K_{1..t}$ and $V_{1..t}$ and appends the new rows, so step $t+1$ costs one projection
    and one row of attention, $O(t)$, instead of recomputing all $t+1$ tokens:

    $$K \leftarrow \begin{bmatrix} K \\ k_{t+1} \end{bmatrix}, \qquad
    V \leftarrow \begin{bmatrix} V \\ v_{t+1} \end{bmatrix}, \qquad
    \text{out}_{t+1} = \mathrm{softmax}\!\left(\frac{q_{t+1} K^\top}{\sqrt{d_k}}\right) V$$

    Pass one (empty) cache per layer to [`MultiHeadAttention.attend`][llmarch.MultiHeadAttention.attend]
    and feed it only the new tokens on each call.

    Attributes
    ----------
    keys : numpy.ndarray or None, shape (..., n_heads, n_cached, d_head)
        Keys of the tokens seen so far, per head; ``None`` while empty.
    values : numpy.ndarray or None, shape (..., n_heads, n_cached, d_head)
        Their values.
    """

    keys: Array | None = None
    values: Array | None = None

    @property
    def length(self) -> int:
        """Number of tokens cached so far, $t$."""
        return 0 if self.keys is None else int(self.keys.shape[-2])

    def append(self, k: Array, v: Array) -> tuple[Array, Array]:
        """Add the new tokens' keys and values (shape ``(..., n_heads, n_new, d_head)``); return all of them."""
        if self.keys is None or self.values is None:
            self.keys, self.values = k, v
        else:
            self.keys = np.concatenate([self.keys, k.astype(self.keys.dtype, copy=False)], axis=-2)
            self.values = np.concatenate([self.values, v.astype(self.values.dtype, copy=False)], axis=-2)
        return self.keys, self.values


@dataclass
class MultiHeadAttention:
    r"""Multi-head attention (Vaswani et al. 2017, sec. 3.2.2).

    The model dimension is split into ``n_heads`` heads of size
    $d_\text{head} = d_\text{model} / h$; each head attends on its own, and the heads are
    concatenated and mixed by an output projection:

    $$\mathrm{head}_i = \mathrm{Attention}(X_q W^Q_i,\; X_{kv} W^K_i,\; X_{kv} W^V_i)$$
    $$\mathrm{MultiHead}(X_q, X_{kv}) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_h)\, W^O$$

    With ``context=None`` it is self-attention ($X_{kv} = X_q$); with an encoder output as
    ``context`` it is cross-attention. Weights use the row-vector convention ``x @ w``.

    Attributes
    ----------
    w_q, w_k, w_v, w_o : numpy.ndarray, shape (d_model, d_model)
        Projections; head $i$ uses columns ``i*d_head:(i+1)*d_head`` of ``w_q``, ``w_k``, ``w_v``.
    b_q, b_k, b_v, b_o : numpy.ndarray, shape (d_model,)
        Biases.
    n_heads : int
        Number of heads $h$; must divide ``d_model``.
    """

    w_q: Array
    w_k: Array
    w_v: Array
    w_o: Array
    b_q: Array
    b_k: Array
    b_v: Array
    b_o: Array
    n_heads: int

    def __post_init__(self) -> None:
        self.n_heads = check_size("n_heads", self.n_heads, minimum=1)
        for name in ("w_q", "w_k", "w_v", "w_o"):
            w = as_float_array(name, getattr(self, name), ndim=2, layout="(d_model, d_model)")
            if w.shape[0] != w.shape[1] or w.shape[0] != self.w_q.shape[0]:
                raise ValueError(f"{name} must have shape (d_model, d_model) = {self.w_q.shape}; got {w.shape}")
            setattr(self, name, w)
        d_model = self.w_q.shape[0]
        for name in ("b_q", "b_k", "b_v", "b_o"):
            b = as_float_array(name, getattr(self, name), ndim=1, layout="(d_model,)")
            if b.shape != (d_model,):
                raise ValueError(f"{name} must have shape (d_model,) = ({d_model},); got {b.shape}")
            setattr(self, name, b)
        if d_model % self.n_heads:
            raise ValueError(f"d_model must be divisible by n_heads = {self.n_heads}; got d_model = {d_model}")

    @classmethod
    def init(
        cls,
        d_model: int,
        n_heads: int,
        rng: np.random.Generator | None = None,
        *,
        std: float = 0.02,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> MultiHeadAttention:
        """Random weights drawn from $\\mathcal{N}(0, \\mathrm{std}^2)$ (GPT-2's init), zero biases."""
        d_model = check_size("d_model", d_model, minimum=1)
        n_heads = check_size("n_heads", n_heads, minimum=1)
        if d_model % n_heads:
            raise ValueError(f"d_model must be divisible by n_heads = {n_heads}; got d_model = {d_model}")
        rng = np.random.default_rng() if rng is None else rng
        w = [(rng.standard_normal((d_model, d_model)) * std).astype(dtype) for _ in range(4)]
        b = [np.zeros(d_model, dtype=dtype) for _ in range(4)]
        return cls(*w, *b, n_heads=n_heads)

    @property
    def d_model(self) -> int:
        """Model dimension $d_\\text{model}$."""
        return int(self.w_q.shape[0])

    @property
    def d_head(self) -> int:
        """Per-head dimension $d_\\text{model} / h$."""
        return self.d_model // self.n_heads

    def attend(
        self,
        x: ArrayLike,
        context: ArrayLike | None = None,
        mask: ArrayLike | None = None,
        *,
        cache: KVCache | None = None,
    ) -> tuple[Array, Array]:
        """Run the layer and also return every head's attention weights.

        Parameters
        ----------
        x : array_like, shape (..., n_q, d_model)
            The sequence that asks (the queries).
        context : array_like, shape (..., n_k, d_model), optional
            The sequence that answers (keys and values); ``None`` means ``x`` itself.
        mask : array_like of bool, optional
            Broadcastable to ``(..., n_heads, n_q, n_k)``; a ``(n_q, n_k)`` mask applies
            to every head.
        cache : KVCache, optional
            Self-attention only: ``x`` holds just the new tokens; their keys and values are
            appended to the cache and the queries attend to all cached keys, so
            ``n_k = cache.length`` afterwards. The mask must cover those ``n_k`` keys
            (for generation: the last ``n_q`` rows of a causal mask).

        Returns
        -------
        output : numpy.ndarray, shape (..., n_q, d_model)
        weights : numpy.ndarray, shape (..., n_heads, n_q, n_k)
        """
        if cache is not None and context is not None:
            raise ValueError("cache is for self-attention only: pass context=None when you pass a cache")
        x = as_float_array("x", x, min_ndim=2, layout="(..., n_q, d_model)")
        kv = x if context is None else as_float_array("context", context, min_ndim=2, layout="(..., n_k, d_model)")
        for name, a in (("x", x), ("context", kv)):
            if a.shape[-1] != self.d_model:
                raise ValueError(f"{name}: last dimension must be d_model = {self.d_model}; got shape {a.shape}")
        dtype = x.dtype if kv.dtype == x.dtype else np.dtype(np.float64)

        def project(a: Array, w: Array, b: Array) -> Array:
            return a.astype(dtype, copy=False) @ w.astype(dtype, copy=False) + b.astype(dtype, copy=False)

        q = _split_heads(project(x, self.w_q, self.b_q), self.n_heads)
        k = _split_heads(project(kv, self.w_k, self.b_k), self.n_heads)
        v = _split_heads(project(kv, self.w_v, self.b_v), self.n_heads)
        if cache is not None:
            k, v = cache.append(k, v)
        heads, weights = scaled_dot_product_attention(q, k, v, mask=mask)
        return project(_merge_heads(heads), self.w_o, self.b_o), weights

    def __call__(
        self,
        x: ArrayLike,
        context: ArrayLike | None = None,
        mask: ArrayLike | None = None,
        *,
        cache: KVCache | None = None,
    ) -> Array:
        """Self-attention (``context=None``) or cross-attention; shape ``(..., n_q, d_model)``.

        ``cache`` works as in [`attend`][llmarch.MultiHeadAttention.attend].
        """
        return self.attend(x, context=context, mask=mask, cache=cache)[0]
