r"""Attention masks: which keys each query may look at.

Every mask here is a boolean array where ``True`` means *may attend*. A mask is applied to
the scores before the softmax by setting the disallowed scores to $-\infty$, so those
keys get exactly zero weight.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import check_size

__all__ = ["causal_mask", "padding_mask"]

# The most entries one array may have: what NumPy can index, at one byte an entry.
_MAX_ENTRIES = np.iinfo(np.intp).max


def _check_entries(name: str, value: int, entries: int, shape: str) -> None:
    """Refuse a size whose array NumPy could not even describe, naming the argument."""
    if entries > _MAX_ENTRIES:
        raise ValueError(f"{name} = {value} is too large: the mask {shape} would have {entries:.3g} entries")


def causal_mask(n: int) -> NDArray[np.bool_]:
    r"""Lower-triangular mask for autoregressive (decoder) attention.

    Query position $i$ may attend to key position $j$ only if $j \le i$, so no token sees
    the future:

    $$M_{ij} = [\, j \le i \,]$$

    Parameters
    ----------
    n : int
        Sequence length, ``n >= 0``.

    Returns
    -------
    numpy.ndarray
        Boolean array of shape ``(n, n)``; ``True`` where a query may attend.

    Examples
    --------
    >>> causal_mask(3).astype(int)
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    """
    n = check_size("n", n)
    _check_entries("n", n, n * n, "(n, n)")
    return np.tri(n, n, dtype=bool)


def padding_mask(lengths: ArrayLike, n: int) -> NDArray[np.bool_]:
    r"""Key mask that hides padding at the end of each sequence in a batch.

    Sequence $b$ holds ``lengths[b]`` real tokens followed by padding; a query may attend
    to key $j$ only if $j < \text{lengths}_b$.

    Parameters
    ----------
    lengths : array_like of int, shape (batch,)
        Number of real tokens in each sequence, each between 0 and ``n``; ``[]`` is an
        empty batch.
    n : int
        Padded sequence length.

    Returns
    -------
    numpy.ndarray
        Boolean array of shape ``(batch, 1, n)``, which broadcasts against scores of shape
        ``(batch, n_q, n)``. Combine it with a causal mask by ``&``.
    """
    n = check_size("n", n)
    try:
        lengths_array = np.asarray(lengths)
    except (TypeError, ValueError) as exc:  # ragged nested lists and the like
        raise TypeError(
            f"lengths must be a 1-D array of integers (batch,); got {type(lengths).__name__}: {exc}"
        ) from None
    if lengths_array.size == 0 and lengths_array.ndim == 1:
        lengths_array = lengths_array.astype(np.int64)  # an empty batch: [] is float64 to NumPy
    if lengths_array.ndim != 1 or lengths_array.dtype.kind not in "iu":
        raise TypeError(
            "lengths must be a 1-D array of integers (batch,); "
            f"got dtype {lengths_array.dtype}, shape {lengths_array.shape}"
        )
    if lengths_array.size and (lengths_array.min() < 0 or lengths_array.max() > n):
        raise ValueError(f"lengths must lie between 0 and n={n}; got {lengths_array.tolist()}")
    _check_entries("n", n, max(len(lengths_array), 1) * n, "(batch, 1, n)")
    return (np.arange(n) < lengths_array[:, None])[:, None, :]
