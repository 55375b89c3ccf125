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

from llmarch._validate import as_float_array, as_generator, check_memory, check_size, float_dtype, random_normal
from llmarch.layers import RMSNorm, linear_backward
from llmarch.positional import apply_rotary
from llmarch.tape import Tape, recorded, save_for_backward

__all__ = [
    "KVCache",
    "MultiHeadAttention",
    "attention",
    "grouped_query_attention",
    "grouped_query_attention_backward",
    "scaled_dot_product_attention",
    "softmax",
]

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
        Scores of any shape (a single number is a slice of one); float32 stays float32.
    axis : int, default -1
        The axis that sums to 1.

    Returns
    -------
    numpy.ndarray
        Same shape and floating dtype as ``x``; non-negative, each slice along ``axis``
        sums to 1 (or is all zeros when the slice was all $-\infty$).
    """
    x = as_float_array("x", x, allow_neg_inf=True)  # -inf is a masked score
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an integer; got {type(axis).__name__} {axis!r}")
    if x.ndim == 0:
        x = x.reshape(1)
        return _softmax(x, -1).reshape(())
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis must lie in [-{x.ndim}, {x.ndim - 1}] for x of shape {x.shape}; got {axis}")
    return _softmax(x, int(axis))


def _softmax(x: Array, axis: int) -> Array:
    """The kernel of [`softmax`][llmarch.softmax], for a float array and a valid axis."""
    m = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros_like(x)
    m = np.where(np.isfinite(m), m, 0.0).astype(x.dtype, copy=False)
    e = np.exp(x - m)
    total = np.sum(e, axis=axis, keepdims=True)
    return e / np.where(total == 0, 1, total).astype(x.dtype, copy=False)


def check_mask(mask: ArrayLike, scores_shape: tuple[int, ...], sizes_from: str = "q and k") -> NDArray[np.bool_]:
    """Check that ``mask`` is boolean and broadcasts to ``scores_shape`` (the sizes of ``sizes_from``)."""
    mask_array = np.asarray(mask)
    if mask_array.dtype != np.bool_:
        raise TypeError(f"mask must be a boolean array (True = may attend); got dtype {mask_array.dtype}")
    try:
        fits = np.broadcast_shapes(mask_array.shape, scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"mask must broadcast to the scores' shape (..., n_q, n_k) = {scores_shape}, set by {sizes_from}; "
            f"got shape {mask_array.shape}"
        )
    return mask_array


def check_qkv(
    q: ArrayLike, k: ArrayLike, v: ArrayLike, finite: bool = True
) -> tuple[Array, Array, Array, tuple[int, ...]]:
    """Check queries, keys and values as attention needs them; return them as arrays and the batch shape.

    q ``(..., n_q, d_k)``, k ``(..., n_k, d_k)``, v ``(..., n_k, d_v)``, leading dimensions broadcasting,
    ``d_k >= 1`` (the scores are divided by $\\sqrt{d_k}$), and finite unless ``finite=False`` (tiled
    attention checks its output instead: it never reads a tile it skips).
    """
    q = as_float_array("q", q, min_ndim=2, layout="(..., n_q, d_k)", finite=finite)
    k = as_float_array("k", k, min_ndim=2, layout="(..., n_k, d_k)", finite=finite)
    v = as_float_array("v", v, min_ndim=2, layout="(..., n_k, d_v)", finite=finite)
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"k: last dimension d_k must equal q's d_k = {q.shape[-1]}; got k of shape {k.shape}")
    if q.shape[-1] == 0:
        raise ValueError(f"q: last dimension d_k must be at least 1 (scores are divided by sqrt(d_k)); got {q.shape}")
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
        If a rank is below 2, ``d_k`` is 0, ``d_k`` or ``n_k`` disagree, the leading
        dimensions do not broadcast, or the mask does not broadcast to the scores.
    TypeError
        If an input is not numeric or the mask is not boolean.
    """
    q, k, v, batch = check_qkv(q, k, v)
    dtype = float_dtype(q, k, v)
    q, k, v = (a.astype(dtype, copy=False) for a in (q, k, v))
    if mask is not None:
        mask = check_mask(mask, (*batch, q.shape[-2], k.shape[-2]))
    return attention(q, k, v, mask)


def attention(q: Array, k: Array, v: Array, mask: NDArray[np.bool_] | None = None) -> tuple[Array, Array]:
    """The kernel of [`scaled_dot_product_attention`][llmarch.scaled_dot_product_attention], for checked inputs.

    ``q``, ``k``, ``v`` share one float dtype and ``mask`` (if any) is boolean and broadcasts
    to the scores; returns ``(output, weights)``.
    """
    scores = q @ np.swapaxes(k, -1, -2) / q.dtype.type(np.sqrt(q.shape[-1]))
    if mask is not None:
        scores = np.where(mask, scores, q.dtype.type(-np.inf))
    weights = _softmax(scores, -1)
    return weights @ v, weights


def grouped_query_attention(q: Array, k: Array, v: Array, mask: NDArray[np.bool_] | None = None) -> tuple[Array, Array]:
    r"""Attention of $h$ query heads over $h_{kv}$ key/value heads, each shared by $h / h_{kv}$ queries.

    Query head $j$ reads key/value head $\lfloor j / g \rfloor$, $g = h / h_{kv}$ (the
    order of Hugging Face's ``repeat_kv``). The keys and values are never copied $g$ times:
    the query heads are grouped instead, and broadcasting does the rest.

    Parameters
    ----------
    q : numpy.ndarray, shape (..., h, n_q, d_h)
    k, v : numpy.ndarray, shape (..., h_kv, n_k, d_h)
    mask : numpy.ndarray of bool, optional
        Broadcastable to ``(..., h, n_q, n_k)``.

    Returns
    -------
    output : numpy.ndarray, shape (..., h, n_q, d_h)
    weights : numpy.ndarray, shape (..., h, n_q, n_k)
    """
    *lead, h, n_q, d_h = q.shape
    h_kv = k.shape[-3]
    if h_kv == h:
        return attention(q, k, v, mask)
    groups = h // h_kv
    q = q.reshape(*lead, h_kv, groups, n_q, d_h)
    k, v = k[..., :, None, :, :], v[..., :, None, :, :]
    if mask is not None and mask.ndim >= 3:  # a mask per head: group it like the queries
        mask = np.broadcast_to(mask, (*lead, h, n_q, k.shape[-2])).reshape(*lead, h_kv, groups, n_q, k.shape[-2])
    out, weights = attention(q, k, v, mask)
    return out.reshape(*lead, h, n_q, v.shape[-1]), weights.reshape(*lead, h, n_q, weights.shape[-1])


def grouped_query_attention_backward(
    grad: Array, q: Array, k: Array, v: Array, weights: Array
) -> tuple[Array, Array, Array]:
    r"""Gradients of [`grouped_query_attention`][llmarch.attention.grouped_query_attention] from its output's.

    With $S = Q K^\top / \sqrt{d_h}$, the weights $P = \mathrm{softmax}(S)$ (masked), the
    output $O = P V$ and $\bar O = \partial L / \partial O$:

    $$\bar V = P^\top \bar O, \qquad \bar P = \bar O\, V^\top, \qquad
      \bar S_{ij} = P_{ij} \Big(\bar P_{ij} - \sum_{j'} P_{ij'} \bar P_{ij'}\Big), \qquad
      \bar Q = \frac{\bar S K}{\sqrt{d_h}}, \qquad \bar K = \frac{\bar S^\top Q}{\sqrt{d_h}}$$

    $\bar S$ is the softmax's backward pass; a masked key has $P_{ij} = 0$ and so gets no
    gradient (the mask, causal or a sliding window, needs nothing else). A key/value head
    shared by $g$ query heads collects the gradients of all $g$.

    Parameters
    ----------
    grad : numpy.ndarray, shape (..., h, n_q, d_h)
        $\bar O$.
    q : numpy.ndarray, shape (..., h, n_q, d_h)
    k, v : numpy.ndarray, shape (..., h_kv, n_k, d_h)
    weights : numpy.ndarray, shape (..., h, n_q, n_k)
        $P$, as the forward pass returned it.

    Returns
    -------
    grad_q : numpy.ndarray, shape (..., h, n_q, d_h)
    grad_k, grad_v : numpy.ndarray, shape (..., h_kv, n_k, d_h)
    """
    *lead, h, n_q, d_h = q.shape
    h_kv, n_k = k.shape[-3], k.shape[-2]
    groups = h // h_kv
    q, grad = q.reshape(*lead, h_kv, groups, n_q, d_h), grad.reshape(*lead, h_kv, groups, n_q, d_h)
    p = weights.reshape(*lead, h_kv, groups, n_q, n_k)
    k, v = k[..., :, None, :, :], v[..., :, None, :, :]
    grad_v = (np.swapaxes(p, -1, -2) @ grad).sum(axis=-3)
    grad_p = grad @ np.swapaxes(v, -1, -2)
    grad_s = p * (grad_p - (p * grad_p).sum(axis=-1, keepdims=True)) / q.dtype.type(np.sqrt(d_h))
    grad_q = (grad_s @ k).reshape(*lead, h, n_q, d_h)
    grad_k = (np.swapaxes(grad_s, -1, -2) @ q).sum(axis=-3)
    return grad_q, grad_k, grad_v


def _split_heads(x: Array, n_heads: int) -> Array:
    """``(..., n, n_heads * d_head)`` -> ``(..., n_heads, n, d_head)``."""
    *lead, n, width = x.shape
    return np.swapaxes(x.reshape(*lead, n, n_heads, width // n_heads), -2, -3)


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

    With grouped-query attention it holds only the $h_{kv}$ key/value heads. With a
    ``window`` (sliding-window attention, Mistral's rolling buffer) it keeps only what a
    future query can still see: before each append it drops all but the last
    ``window - 1`` tokens, so between one-token steps it holds at most ``window``.

    Pass one (empty) cache per layer to [`MultiHeadAttention.attend`][llmarch.MultiHeadAttention.attend]
    and feed it only the new tokens on each call.

    Attributes
    ----------
    keys : numpy.ndarray or None, shape (..., n_kv_heads, n_cached, d_head)
        Keys of the tokens kept so far, per head; ``None`` while empty.
    values : numpy.ndarray or None, shape (..., n_kv_heads, n_cached, d_head)
        Their values.
    window : int or None
        Keep at most this many tokens between steps (``None``: all of them).
    dropped : int
        Tokens dropped from the front so far (positions ``0 .. dropped - 1``).
    """

    keys: Array | None = None
    values: Array | None = None
    window: int | None = None
    dropped: int = 0

    def __post_init__(self) -> None:
        if self.window is not None:
            self.window = check_size("window", self.window, minimum=1)
        self.dropped = check_size("dropped", self.dropped)

    @property
    def length(self) -> int:
        """Number of tokens seen so far, $t$: the position the next token will have."""
        return self.dropped + self.stored

    @property
    def stored(self) -> int:
        """Number of tokens whose keys and values the cache holds now."""
        return 0 if self.keys is None else int(self.keys.shape[-2])

    def key_positions(self, n_new: int) -> NDArray[np.int64]:
        """Positions of the keys the cache will hold once ``n_new`` more tokens are appended."""
        n_new = check_size("n_new", n_new)
        check_memory("n_new", (n_new,), np.int64)
        kept = self.stored if self.window is None else min(self.stored, self.window - 1)
        return np.arange(self.length - kept, self.length + n_new)

    def append(self, k: ArrayLike, v: ArrayLike) -> tuple[Array, Array]:
        """Add the new tokens' keys and values; return every key and value the cache now holds.

        Parameters
        ----------
        k, v : array_like, shape (..., n_kv_heads, n_new, d_head)
            Keys and values of the same ``n_new`` tokens; after the first call, the leading
            dimensions and ``d_head`` must match what is cached.
        """
        k = as_float_array("k", k, min_ndim=2, layout="(..., n_kv_heads, n_new, d_head)")
        v = as_float_array("v", v, min_ndim=2, layout="(..., n_kv_heads, n_new, d_head)")
        if k.shape[:-1] != v.shape[:-1]:
            raise ValueError(
                "k and v must hold the same tokens, shapes (..., n_new, d) with the same (..., n_new); "
                f"got k of shape {k.shape} and v of shape {v.shape}"
            )
        if self.keys is not None and self.values is not None:
            for name, new, old in (("k", k, self.keys), ("v", v, self.values)):
                if new.shape[:-2] != old.shape[:-2] or new.shape[-1] != old.shape[-1]:
                    raise ValueError(
                        f"{name} must match the cached shape (..., n_new, d) = (*{old.shape[:-2]}, n_new, "
                        f"{old.shape[-1]}); got {new.shape}"
                    )
        return self._append(k, v)

    def _append(self, k: Array, v: Array) -> tuple[Array, Array]:
        """[`append`][llmarch.KVCache.append] for checked arrays (what attention layers call)."""
        if self.keys is None or self.values is None:
            self.keys, self.values = k, v
            return k, v
        if self.window is not None and self.stored > self.window - 1:
            drop = self.stored - (self.window - 1)
            self.keys, self.values = self.keys[..., drop:, :], self.values[..., drop:, :]
            self.dropped += drop
        self.keys = np.concatenate([self.keys, k.astype(self.keys.dtype, copy=False)], axis=-2)
        self.values = np.concatenate([self.values, v.astype(self.values.dtype, copy=False)], axis=-2)
        return self.keys, self.values

    @property
    def nbytes(self) -> int:
        """Bytes of the keys and values held now."""
        return 0 if self.keys is None or self.values is None else int(self.keys.nbytes + self.values.nbytes)


@dataclass
class MultiHeadAttention:
    r"""Multi-head attention (Vaswani et al. 2017, sec. 3.2.2), with grouped-query attention.

    The queries are split into $h$ heads of width $d_h$ (usually $d_\text{model} / h$);
    each head attends on its own, and the heads are concatenated and mixed by an output
    projection:

    $$\mathrm{head}_i = \mathrm{Attention}(X_q W^Q_i,\; X_{kv} W^K_{g(i)},\; X_{kv} W^V_{g(i)}), \qquad
    \mathrm{MultiHead}(X_q, X_{kv}) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_h)\, W^O$$

    In the original, every head has its own keys and values: $h_{kv} = h$ and $g(i) = i$.
    **Grouped-query attention** (GQA; Ainslie et al. 2023; Llama 3, Mistral, Qwen3) gives
    the $h$ query heads only $h_{kv}$ key/value heads, each shared by a group of
    $h / h_{kv}$ of them, $g(i) = \lfloor i\, h_{kv} / h \rfloor$; $h_{kv} = 1$ is multi-query
    attention (Shazeer 2019). The KV cache shrinks by $h / h_{kv}$, and the output barely changes.

    With ``context=None`` it is self-attention ($X_{kv} = X_q$); with an encoder output as
    ``context`` it is cross-attention. Weights use the row-vector convention ``x @ w``.

    Attributes
    ----------
    w_q : numpy.ndarray, shape (d_model, n_heads * d_head)
        Head $i$ uses columns ``i*d_head:(i+1)*d_head``.
    w_k, w_v : numpy.ndarray, shape (d_model, n_kv_heads * d_head)
    w_o : numpy.ndarray, shape (n_heads * d_head, d_model)
    b_q, b_k, b_v, b_o : numpy.ndarray or None
        Biases of the four projections (``None``: no bias, as in Llama).
    n_heads : int
        Number of query heads $h$.
    n_kv_heads : int or None
        Number of key/value heads $h_{kv}$, dividing $h$; ``None`` means $h$.
    q_norm, k_norm : RMSNorm or None
        QK-norm (Qwen3): an RMSNorm over each head's $d_h$ features of the queries and the
        keys, before the rotary embedding. It keeps the scores from growing large.
    """

    w_q: Array
    w_k: Array
    w_v: Array
    w_o: Array
    b_q: Array | None
    b_k: Array | None
    b_v: Array | None
    b_o: Array | None
    n_heads: int
    n_kv_heads: int | None = None
    q_norm: RMSNorm | None = None
    k_norm: RMSNorm | None = None

    def __post_init__(self) -> None:
        self.n_heads = check_size("n_heads", self.n_heads, minimum=1)
        self.n_kv_heads = (
            self.n_heads if self.n_kv_heads is None else check_size("n_kv_heads", self.n_kv_heads, minimum=1)
        )
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"n_kv_heads must divide n_heads = {self.n_heads}; got {self.n_kv_heads}")
        self.w_q = as_float_array("w_q", self.w_q, ndim=2, layout="(d_model, n_heads * d_head)")
        d_model, width = self.w_q.shape
        if width % self.n_heads:
            raise ValueError(f"w_q: its {width} columns must split into n_heads = {self.n_heads} heads")
        d_head = width // self.n_heads
        shapes = {
            "w_k": ((d_model, self.n_kv_heads * d_head), "(d_model, n_kv_heads * d_head)"),
            "w_v": ((d_model, self.n_kv_heads * d_head), "(d_model, n_kv_heads * d_head)"),
            "w_o": ((width, d_model), "(n_heads * d_head, d_model)"),
        }
        for name, (shape, layout) in shapes.items():
            w = as_float_array(name, getattr(self, name), ndim=2, layout=layout)
            if w.shape != shape:
                raise ValueError(f"{name} must have shape {layout} = {shape}, the sizes of w_q; got {w.shape}")
            setattr(self, name, w)
        sizes = {"b_q": width, "b_k": self.n_kv_heads * d_head, "b_v": self.n_kv_heads * d_head, "b_o": d_model}
        for name, size in sizes.items():
            b = getattr(self, name)
            if b is not None:
                b = as_float_array(name, b, ndim=1, layout=f"({size},)")
                if b.shape != (size,):
                    raise ValueError(f"{name} must have shape ({size},), the sizes of w_q; got {b.shape}")
                setattr(self, name, b)
        for name in ("q_norm", "k_norm"):
            norm = getattr(self, name)
            if norm is not None and not (isinstance(norm, RMSNorm) and norm.gamma.shape == (d_head,)):
                raise ValueError(f"{name} must be an RMSNorm over d_head = {d_head} features or None; got {norm!r}")

    @classmethod
    def init(
        cls,
        d_model: int,
        n_heads: int,
        rng: np.random.Generator | None = None,
        *,
        n_kv_heads: int | None = None,
        d_head: int | None = None,
        bias: bool = True,
        qk_norm: bool = False,
        norm_eps: float = 1e-6,
        std: float = 0.02,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> MultiHeadAttention:
        """Random weights drawn from $\\mathcal{N}(0, \\mathrm{std}^2)$ (GPT-2's init), zero biases.

        ``d_head`` defaults to ``d_model // n_heads`` (then ``n_heads`` must divide
        ``d_model``); ``bias=False`` leaves the biases out; ``qk_norm=True`` adds QK-norm.
        """
        d_model = check_size("d_model", d_model, minimum=1)
        n_heads = check_size("n_heads", n_heads, minimum=1)
        n_kv_heads = n_heads if n_kv_heads is None else check_size("n_kv_heads", n_kv_heads, minimum=1)
        if d_head is None:
            if d_model % n_heads:
                raise ValueError(f"d_model must be divisible by n_heads = {n_heads}; got d_model = {d_model}")
            d_head = d_model // n_heads
        d_head = check_size("d_head", d_head, minimum=1)
        rng = as_generator("rng", rng)
        widths = [(d_model, n_heads * d_head), (d_model, n_kv_heads * d_head), (d_model, n_kv_heads * d_head)]
        sizes = "d_model, n_heads, d_head"
        w = [random_normal(rng, shape, std, dtype, sizes) for shape in [*widths, (n_heads * d_head, d_model)]]
        b = [np.zeros(shape[1], dtype=dtype) for shape in [*widths, (0, d_model)]] if bias else [None] * 4
        norms = [RMSNorm.init(d_head, eps=norm_eps, dtype=dtype) for _ in range(2)] if qk_norm else [None, None]
        return cls(*w, *b, n_heads=n_heads, n_kv_heads=n_kv_heads, q_norm=norms[0], k_norm=norms[1])

    @property
    def d_model(self) -> int:
        """Model dimension $d_\\text{model}$."""
        return int(self.w_q.shape[0])

    @property
    def d_head(self) -> int:
        """Per-head dimension $d_h$."""
        return int(self.w_q.shape[1]) // self.n_heads

    def attend(
        self,
        x: ArrayLike,
        context: ArrayLike | None = None,
        mask: ArrayLike | None = None,
        *,
        cache: KVCache | None = None,
        rope: tuple[Array, Array] | None = None,
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
            ``n_k = cache.stored`` afterwards. The mask must cover those ``n_k`` keys
            (for generation: the last ``n_q`` rows of a causal mask).
        rope : (cos, sin), optional
            Rotary embedding of the queries and keys, rotate-half layout
            ([`apply_rotary`][llmarch.positional.apply_rotary]): ``cos`` and ``sin`` of
            shape ``(n_q, d_head / 2)``, the angles of the new tokens' positions
            ([`rotary_angles`][llmarch.positional.rotary_angles]). Self-attention only.

        Returns
        -------
        output : numpy.ndarray, shape (..., n_q, d_model)
        weights : numpy.ndarray, shape (..., n_heads, n_q, n_k)
        """
        if cache is not None and context is not None:
            raise ValueError("cache is for self-attention only: pass context=None when you pass a cache")
        if cache is not None and not isinstance(cache, KVCache):
            raise TypeError(f"cache must be a KVCache or None; got {type(cache).__name__}")
        x = as_float_array("x", x, min_ndim=2, layout="(..., n_q, d_model)")
        kv = x if context is None else as_float_array("context", context, min_ndim=2, layout="(..., n_k, d_model)")
        for name, a in (("x", x), ("context", kv)):
            if a.shape[-1] != self.d_model:
                raise ValueError(f"{name}: last dimension must be d_model = {self.d_model}; got shape {a.shape}")
        dtype = float_dtype(x, kv)
        x, kv = x.astype(dtype, copy=False), kv.astype(dtype, copy=False)
        if rope is not None:
            rope = _check_rope(rope, (x.shape[-2], self.d_head // 2), dtype)
        n_k = kv.shape[-2] if cache is None else len(cache.key_positions(x.shape[-2]))
        scores_shape = (*x.shape[:-2], self.n_heads, x.shape[-2], n_k)
        allowed = None if mask is None else check_mask(mask, scores_shape, "x, context and cache")
        return self._forward(x, kv, allowed, cache, rope)

    def _forward(
        self,
        x: Array,
        kv: Array,
        mask: NDArray[np.bool_] | None = None,
        cache: KVCache | None = None,
        rope: tuple[Array, Array] | None = None,
    ) -> tuple[Array, Array]:
        """[`attend`][llmarch.MultiHeadAttention.attend] for checked inputs of the weights' dtype.

        The order is Hugging Face's: project, split into heads, QK-norm, rotate, append to
        the cache, attend, merge the heads, project out.
        """
        q = _split_heads(_project(x, self.w_q, self.b_q), self.n_heads)
        k = _split_heads(_project(kv, self.w_k, self.b_k), self.n_kv_heads)
        v = _split_heads(_project(kv, self.w_v, self.b_v), self.n_kv_heads)
        if self.q_norm is not None and self.k_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        if rope is not None:
            q, k = apply_rotary(q, *rope), apply_rotary(k, *rope)
        if cache is not None:
            k, v = cache._append(k, v)
        heads, weights = grouped_query_attention(q, k, v, mask)
        merged = _merge_heads(heads)
        out = _project(merged, self.w_o, self.b_o)
        if cache is None:  # a call with a cache (generation) is not recorded
            save_for_backward(self, out, x=x, kv=kv, q=q, k=k, v=v, weights=weights, merged=merged, rope=rope)
        return out, weights

    def backward(self, grad_output: ArrayLike, tape: Tape) -> tuple[Array, dict[str, Array]]:
        r"""Gradients from $\bar y = \partial L / \partial y$, for the self-attention call ``tape`` recorded.

        The forward pass backwards: the output projection and the merge of the heads
        ([`linear_backward`][llmarch.layers.linear_backward]), attention itself
        ([`grouped_query_attention_backward`][llmarch.attention.grouped_query_attention_backward]),
        the rotary embedding, QK-norm ([`RMSNorm.backward`][llmarch.RMSNorm.backward]), and the
        three input projections, whose gradients add up at $x$:

        $$\bar x = \bar Q\, W^{Q\top} + \bar K\, W^{K\top} + \bar V\, W^{V\top}$$

        A rotation is undone by the rotation through the opposite angle (its transpose is its
        inverse), so the rotary embedding passes $\bar q$ back rotated by $-p\,\theta_i$:
        ``apply_rotary(grad, cos, -sin)``.

        Returns
        -------
        grad_x : numpy.ndarray, shape (..., n, d_model)
        grads : dict
            ``{"w_q", "w_k", "w_v", "w_o"}``, the biases there are, and ``"q_norm.gamma"``,
            ``"k_norm.gamma"`` with QK-norm.

        Raises
        ------
        ValueError
            If the recorded call was cross-attention (it had a ``context``): only self-attention
            has a backward pass here.
        """
        grad, s = recorded(self, tape, grad_output)
        if s.kv is not s.x:
            raise ValueError("tape: the recorded call was cross-attention; backward covers self-attention only")
        grad_merged, grad_w_o, grad_b_o = linear_backward(s.merged, self.w_o, grad)
        grad_q, grad_k, grad_v = grouped_query_attention_backward(
            _split_heads(grad_merged, self.n_heads), s.q, s.k, s.v, s.weights
        )
        grads = {}
        if s.rope is not None:
            cos, sin = s.rope
            grad_q, grad_k = apply_rotary(grad_q, cos, -sin), apply_rotary(grad_k, cos, -sin)
        if self.q_norm is not None and self.k_norm is not None:
            grad_q, q_norm = self.q_norm.backward(grad_q, tape)
            grad_k, k_norm = self.k_norm.backward(grad_k, tape)
            grads |= {"q_norm.gamma": q_norm["gamma"], "k_norm.gamma": k_norm["gamma"]}
        grad_x = np.zeros_like(s.x)
        for name, g in (("q", grad_q), ("k", grad_k), ("v", grad_v)):
            grad_in, grads[f"w_{name}"], grad_b = linear_backward(s.x, getattr(self, f"w_{name}"), _merge_heads(g))
            grad_x += grad_in
            if getattr(self, f"b_{name}") is not None:
                grads[f"b_{name}"] = grad_b
        grads["w_o"] = grad_w_o
        if self.b_o is not None:
            grads["b_o"] = grad_b_o
        return grad_x, grads

    def __call__(
        self,
        x: ArrayLike,
        context: ArrayLike | None = None,
        mask: ArrayLike | None = None,
        *,
        cache: KVCache | None = None,
        rope: tuple[Array, Array] | None = None,
    ) -> Array:
        """Self-attention (``context=None``) or cross-attention; shape ``(..., n_q, d_model)``.

        ``cache`` and ``rope`` work as in [`attend`][llmarch.MultiHeadAttention.attend].
        """
        return self.attend(x, context=context, mask=mask, cache=cache, rope=rope)[0]


def _project(x: Array, w: Array, b: Array | None) -> Array:
    """``x @ w + b`` in ``x``'s dtype."""
    y = x @ w.astype(x.dtype, copy=False)
    return y if b is None else y + b.astype(x.dtype, copy=False)


def _check_rope(rope: Any, shape: tuple[int, int], dtype: np.dtype[Any]) -> tuple[Array, Array]:
    if not (isinstance(rope, tuple) and len(rope) == 2):
        raise TypeError(f"rope must be a pair (cos, sin) of arrays; got {type(rope).__name__}")
    cos = as_float_array("rope[0] (cos)", rope[0], ndim=2, layout="(n_q, d_head / 2)")
    sin = as_float_array("rope[1] (sin)", rope[1], ndim=2, layout="(n_q, d_head / 2)")
    if cos.shape != shape or sin.shape != shape:
        raise ValueError(f"rope: cos and sin must have shape (n_q, d_head / 2) = {shape}; got {cos.shape}, {sin.shape}")
    return cos.astype(dtype, copy=False), sin.astype(dtype, copy=False)
