r"""Tiled attention: exact attention without ever holding the $n \times n$ score matrix.

Plain attention computes every score $s_{ij} = q_i \cdot k_j / \sqrt{d_k}$ at once, an
$n_q \times n_k$ matrix per head, before its softmax. Tiled attention walks the keys in
blocks and keeps, for each query, only three running quantities (Milakov and Gimelshein
2018, *Online normalizer calculation for softmax*; Dao et al. 2022, *FlashAttention*):

$$m = \max_j s_j, \qquad \ell = \sum_j e^{s_j - m}, \qquad o = \sum_j e^{s_j - m}\, v_j$$

When a new block of scores arrives, its maximum may exceed $m$; everything kept so far is
then rescaled by $\alpha = e^{m_\text{old} - m_\text{new}}$, which is exact. After the last
block, the output is $o / \ell$, the same number plain attention gives.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import check_size, float_dtype
from llmarch.attention import check_mask, check_qkv

__all__ = ["tiled_attention"]

Array = NDArray[np.floating[Any]]


def tiled_attention(
    q: ArrayLike,
    k: ArrayLike,
    v: ArrayLike,
    causal: bool = False,
    block_size: int = 128,
    *,
    key_block_size: int = 512,
    mask: ArrayLike | None = None,
    workers: int = 1,
) -> Array:
    r"""Attention computed one tile of scores at a time, with an online softmax.

    Gives the same output as
    [`scaled_dot_product_attention`][llmarch.scaled_dot_product_attention] (to float
    rounding) but never forms the ``(n_q, n_k)`` score matrix: only one
    ``(block_size, key_block_size)`` tile of scores per head exists at a time.

    For each block of queries, the key blocks $t = 1, 2, \dots$ update the running row
    maximum $m$, the running sum $\ell$ and the running output $o$:

    $$m^{(t)} = \max\!\left(m^{(t-1)},\ \max_{j \in B_t} s_j\right), \qquad
    \alpha = e^{m^{(t-1)} - m^{(t)}}$$

    $$\ell^{(t)} = \alpha\, \ell^{(t-1)} + \sum_{j \in B_t} e^{s_j - m^{(t)}}, \qquad
    o^{(t)} = \alpha\, o^{(t-1)} + \sum_{j \in B_t} e^{s_j - m^{(t)}}\, v_j$$

    starting from $m^{(0)} = -\infty$, $\ell^{(0)} = 0$, $o^{(0)} = 0$; the output is
    $o^{(T)} / \ell^{(T)}$.

    Parameters
    ----------
    q : array_like, shape (..., n_q, d_k)
        Queries.
    k : array_like, shape (..., n_k, d_k)
        Keys.
    v : array_like, shape (..., n_k, d_v)
        Values, one row per key.
    causal : bool, default False
        If True, query $i$ may attend only to keys $j \le i$ (the mask
        [`causal_mask`][llmarch.causal_mask] gives when ``n_q == n_k``). Key blocks that lie
        wholly above the diagonal are skipped, not computed and then masked.
    block_size : int, default 128
        Number of queries in one tile. ``n_q`` need not be a multiple of it; the last
        block is shorter.
    key_block_size : int, default 512
        Number of keys in one tile; ``n_k`` need not be a multiple of it either. Longer
        tiles make each NumPy call do more work for the same memory per query.
    mask : array_like of bool, optional
        Broadcastable to ``(..., n_q, n_k)``; ``True`` where the query may attend. Combined
        with ``causal`` by logical and. A tile the mask hides entirely is skipped.
    workers : int, default 1
        Threads that work on different query blocks at once (each block's rows of the
        output depend on no other block). Above 1 it needs ``threadpoolctl``
        (``pip install 'llmarch[fast]'``), which keeps NumPy's BLAS to one thread per worker
        while the call runs (for the whole process).

    Returns
    -------
    numpy.ndarray, shape (..., n_q, d_v)
        The attention output; float32 if ``q``, ``k`` and ``v`` are all float32, else
        float64. A query with no allowed key gets a zero row, never NaN.

    Raises
    ------
    ValueError
        If a rank is below 2, ``d_k`` is 0, ``d_k`` or ``n_k`` disagree, the leading dimensions
        do not broadcast, the mask does not broadcast to the scores, ``block_size``,
        ``key_block_size`` or ``workers`` is below 1, or an input holds NaN or infinity that
        would reach the output (one in a tile skipped whole, by ``causal`` or ``mask``, is
        never read).
    TypeError
        If an input is not numeric, the mask is not boolean, ``causal`` is not a bool, or
        ``block_size``, ``key_block_size`` or ``workers`` is not an integer.
    ImportError
        If ``workers > 1`` and threadpoolctl is not installed.

    Notes
    -----
    Besides the inputs, the scaled queries and the output, the memory used is one tile of
    scores and the running $m$, $\ell$ and $o$ of one block of queries, per head and per
    worker: $O(B_q B_k + B_q d_v)$ with $B_q$ = ``block_size`` and $B_k$ = ``key_block_size``,
    instead of the $O(n_q n_k)$ of plain attention. Under ``causal=True`` each query block
    visits the keys only up to its last query, so about half the tiles are never computed.
    """
    q, k, v, batch = check_qkv(q, k, v, finite=False)  # NaN in a tile skipped whole is never read
    if q.shape[-1] == 0:
        raise ValueError(f"q and k: d_k must be at least 1 (scores are divided by sqrt(d_k)); got q of shape {q.shape}")
    if not isinstance(causal, (bool, np.bool_)):
        raise TypeError(f"causal must be a bool; got {type(causal).__name__} {causal!r}")
    block = check_size("block_size", block_size, minimum=1)
    key_block = check_size("key_block_size", key_block_size, minimum=1)
    workers = check_size("workers", workers, minimum=1)
    n_q, n_k, d_v = q.shape[-2], k.shape[-2], v.shape[-1]
    try:
        allowed = None if mask is None else np.broadcast_to(check_mask(mask, (*batch, n_q, n_k)), (*batch, n_q, n_k))
    except ValueError as exc:
        raise ValueError(f"{exc} (n_q from q, shape {q.shape}; n_k from k, shape {k.shape})") from None

    dtype = float_dtype(q, k, v)
    # Scale the queries once, O(n d) work, instead of every score, O(n^2) work. Broadcasting
    # to the common batch shape makes views, not copies.
    scale = dtype.type(1.0 / np.sqrt(q.shape[-1]))
    q = np.broadcast_to(q.astype(dtype, copy=False) * scale, (*batch, n_q, q.shape[-1]))
    k_t = np.swapaxes(np.broadcast_to(k.astype(dtype, copy=False), (*batch, n_k, k.shape[-1])), -1, -2)
    v = np.broadcast_to(v.astype(dtype, copy=False), (*batch, n_k, d_v))
    out = np.empty((*batch, n_q, d_v), dtype=dtype)

    def attend(q_start: int) -> None:
        # One block of queries: its rows of the output depend on no other query block.
        q_stop = min(q_start + block, n_q)
        k_end = min(n_k, q_stop) if causal else n_k  # causal: keys after the block's last query never count
        rows = slice(q_start, q_stop)
        with np.errstate(over="ignore", invalid="ignore"):  # a non-finite output is an error, raised below
            out[..., rows, :] = _attend_query_block(q[..., rows, :], k_t, v, q_start, k_end, key_block, causal, allowed)

    _for_each(attend, range(0, n_q, block), workers)
    if not np.isfinite(out).all():
        # Checked on the output: NaN or infinity in a tile that is skipped whole is never read.
        culprit = next((name for name, a in (("v", v), ("k", k_t), ("q", q)) if not np.isfinite(a).all()), None)
        if culprit is None:
            raise ValueError("q and k: the scores overflow; their values are too large for the dtype")
        raise ValueError(f"{culprit} holds NaN or infinity, so the output would not be finite")
    return out


def _attend_query_block(
    q_block: Array,
    k_t: Array,
    v: Array,
    q_start: int,
    k_end: int,
    key_block: int,
    causal: bool,
    allowed: NDArray[np.bool_] | None,
) -> Array:
    """The online softmax over the key blocks, for one block of (already scaled) queries."""
    *batch, n_rows, _ = q_block.shape
    dtype = q_block.dtype
    minus_inf = dtype.type(-np.inf)
    m = np.full((*batch, n_rows, 1), minus_inf, dtype=dtype)  # running maximum of the scores
    ell = np.zeros((*batch, n_rows, 1), dtype=dtype)  # running sum of exp(score - m)
    o = np.zeros((*batch, n_rows, v.shape[-1]), dtype=dtype)  # running sum of exp(score - m) * value
    q_positions = np.arange(q_start, q_start + n_rows)[:, None]

    for k_start in range(0, k_end, key_block):
        k_stop = min(k_start + key_block, k_end)
        hidden = None if allowed is None else ~allowed[..., q_start : q_start + n_rows, k_start:k_stop]
        if causal and k_stop - 1 > q_start:  # the tile crosses the diagonal: hide the keys after each query
            after_query = np.arange(k_start, k_stop) > q_positions
            hidden = after_query if hidden is None else hidden | after_query
        if hidden is not None and hidden.all():
            continue  # nothing in this tile may be attended to

        s = q_block @ k_t[..., k_start:k_stop]  # this tile's scores, (..., n_rows, tile)
        if hidden is not None:
            # Only the columns from the first hidden key on need touching (under a causal
            # mask, the few that cross the diagonal).
            first = int(np.argmax(hidden.any(axis=tuple(range(hidden.ndim - 1)))))
            np.copyto(s[..., first:], minus_inf, where=hidden[..., first:])

        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        # A row with no allowed key so far has m_new = -inf; shifting it by 0 instead keeps
        # exp(-inf - (-inf)) = NaN out: its exponentials are then exactly 0.
        shift = np.where(m_new == minus_inf, dtype.type(0), m_new)
        alpha = np.exp(m - shift)  # rescales what was summed against the old maximum
        # p = exp(s - shift), the tile's unnormalised weights (all <= 1), computed in place:
        # the tile is the one large array here, so no second copy of it is made.
        p = np.exp(np.subtract(s, shift, out=s), out=s)
        ell *= alpha  # ell = alpha * ell + sum(p), in place
        ell += p.sum(axis=-1, keepdims=True)
        o *= alpha  # o = alpha * o + p @ v, in place
        o += p @ v[..., k_start:k_stop, :]
        m = m_new

    # Divide once at the end; a row that never saw an allowed key keeps o = 0 and ell = 0.
    return o / np.where(ell == 0, dtype.type(1), ell)


def _for_each(attend: Callable[[int], None], starts: range, workers: int) -> None:
    """Run ``attend`` on every query block: in turn, or on ``workers`` threads."""
    workers = min(workers, len(starts))  # a thread per query block at most
    if workers <= 1:
        for start in starts:
            attend(start)
        return
    # NumPy releases the GIL inside its loops, so threads do run on several cores. Each
    # thread's matrix products must then stay on one core: a BLAS that also splits every
    # small product over all cores fights the threads for them and runs many times slower.
    with _one_blas_thread(), ThreadPoolExecutor(workers) as pool:
        # Later query blocks see more keys under a causal mask: start them first, so the
        # threads finish together.
        for future in [pool.submit(attend, start) for start in reversed(starts)]:
            future.result()


def _one_blas_thread() -> AbstractContextManager[Any]:
    """Limit NumPy's BLAS to one thread (process-wide) for the duration of the ``with`` block."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        raise ImportError(
            "tiled_attention(workers > 1) needs threadpoolctl to keep BLAS to one thread per worker: "
            "pip install 'llmarch[fast]'"
        ) from None
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


_controller: Any = None
