r"""Sliding-window attention: each query looks only at the $r$ most recent keys.

Vaswani et al. (2017, sec. 4 and Table 1) call it *restricted* self-attention: limiting
each position to a neighbourhood of size $r$ cuts the cost per layer from $O(n^2 d)$ to
$O(r\,n\,d)$, and in exchange information needs about $n / r$ layers to cross the whole
sequence. Longformer and Mistral use the same idea.

Here the scores are computed only inside the window (never as an $n \times n$ table that is
then masked), so the saving is real: $r$ scores per query, not $n$.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, check_size, float_dtype
from llmarch.attention import MultiHeadAttention, softmax

__all__ = ["SlidingWindowAttention", "sliding_window_attention"]

Array = NDArray[np.floating[Any]]


def sliding_window_attention(q: ArrayLike, k: ArrayLike, v: ArrayLike, window: int) -> Array:
    r"""Causal attention in which query $t$ sees only keys $t-r+1, \dots, t$.

    $$\mathrm{output}_t = \sum_{s=\max(1,\,t-r+1)}^{t} w_{ts}\, v_s, \qquad
    w_{t\cdot} = \mathrm{softmax}_s\!\left(\frac{q_t \cdot k_s}{\sqrt{d_k}}\right)$$

    Equal to `scaled_dot_product_attention` with a band mask of width $r$,
    but it computes $n r$ scores instead of $n^2$.

    Parameters
    ----------
    q, k : array_like, shape (..., n, d_k)
        Queries and keys of the same sequence.
    v : array_like, shape (..., n, d_v)
        Values.
    window : int
        $r \ge 1$, the number of keys each query sees (itself included).

    Returns
    -------
    numpy.ndarray, shape (..., n, d_v)
    """
    q = as_float_array("q", q, min_ndim=2, layout="(..., n, d_k)")
    k = as_float_array("k", k, min_ndim=2, layout="(..., n, d_k)")
    v = as_float_array("v", v, min_ndim=2, layout="(..., n, d_v)")
    window = check_size("window", window, minimum=1)
    if k.shape != q.shape:
        raise ValueError(f"k must have the shape of q {q.shape} (self-attention); got {k.shape}")
    if v.shape[:-1] != q.shape[:-1]:
        raise ValueError(f"v must have shape (..., n, d_v) with (..., n) = {q.shape[:-1]}; got {v.shape}")
    dtype = float_dtype(q, k, v)
    return _windowed(*(a.astype(dtype, copy=False) for a in (q, k, v)), window)


def _windowed(q: Array, k: Array, v: Array, window: int) -> Array:
    """`sliding_window_attention` on checked arrays of one dtype."""
    dtype, n = q.dtype, q.shape[-2]
    padding = [(0, 0)] * (q.ndim - 2) + [(window - 1, 0), (0, 0)]
    # keys[..., t, :, j] is key t - window + 1 + j: the window that ends at t.
    keys = sliding_window_view(np.pad(k, padding), window, axis=-2)
    values = sliding_window_view(np.pad(v, padding), window, axis=-2)
    scores = np.einsum("...nd,...ndw->...nw", q, keys) / dtype.type(np.sqrt(q.shape[-1]))
    before_start = np.arange(n)[:, None] - window + 1 + np.arange(window)[None, :] < 0  # the padding
    weights = softmax(np.where(before_start, dtype.type(-np.inf), scores), axis=-1)
    return np.einsum("...nw,...ndw->...nd", weights, values)


@dataclass
class SlidingWindowAttention:
    r"""Multi-head self-attention restricted to a causal window of $r$ positions.

    The projections are those of ``attention`` (a `MultiHeadAttention`);
    only the attention itself is replaced by `sliding_window_attention`. It computes in the
    dtype of those weights.

    Attributes
    ----------
    attention : MultiHeadAttention
        Supplies $W^Q, W^K, W^V, W^O$, their biases and the number of heads.
    window : int
        $r$, the number of positions each query sees (itself included).
    """

    attention: MultiHeadAttention
    window: int

    def __post_init__(self) -> None:
        if not isinstance(self.attention, MultiHeadAttention):
            raise TypeError(f"attention must be a MultiHeadAttention; got {type(self.attention).__name__}")
        a = self.attention
        if a.n_kv_heads != a.n_heads or a.q_norm is not None or a.d_head * a.n_heads != a.d_model:
            raise ValueError(
                "attention must be plain multi-head attention (n_kv_heads = n_heads, d_head = d_model / "
                "n_heads, no QK-norm); the Decoder's sliding_window covers grouped-query models"
            )
        self.window = check_size("window", self.window, minimum=1)

    @property
    def d_model(self) -> int:
        """Model dimension $d_\\text{model}$."""
        return self.attention.d_model

    def __call__(self, x: ArrayLike) -> Array:
        """Self-attention over ``x`` of shape ``(..., n, d_model)``; returns the same shape."""
        mha = self.attention
        x = as_float_array("x", x, min_ndim=2, layout="(..., n, d_model)").astype(mha.w_q.dtype, copy=False)
        if x.shape[-1] != mha.d_model:
            raise ValueError(f"x: last dimension must be d_model = {mha.d_model}; got shape {x.shape}")
        if x.shape[-2] == 0:
            raise ValueError(f"x must hold at least one position (..., n, d_model); got shape {x.shape}")

        def split(a: Array) -> Array:  # (..., n, d_model) -> (..., h, n, d_head)
            return np.swapaxes(a.reshape(*a.shape[:-1], mha.n_heads, mha.d_head), -2, -3)

        def project(a: Array, w: Array, b: Array | None) -> Array:
            return a @ w if b is None else a @ w + b

        q, k, v = (split(project(x, w, b)) for w, b in ((mha.w_q, mha.b_q), (mha.w_k, mha.b_k), (mha.w_v, mha.b_v)))
        heads = np.swapaxes(_windowed(q, k, v, self.window), -2, -3)
        return project(heads.reshape(*x.shape[:-1], mha.d_model), mha.w_o, mha.b_o)
