"""Argument checks shared by every module.

Each check raises ``TypeError`` or ``ValueError`` whose message names the argument,
says what was expected and shows what came, so a learner never has to decode a NumPy
broadcasting message or an ``IndexError``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["as_float_array", "as_generator", "check_same", "check_size", "float_dtype"]


def float_dtype(*arrays: NDArray[Any]) -> np.dtype[Any]:
    """The floating dtype results are computed in: float32 only if every input is float32."""
    if arrays and all(a.dtype == np.float32 for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def as_float_array(
    name: str,
    value: ArrayLike,
    *,
    ndim: int | None = None,
    min_ndim: int | None = None,
    layout: str = "",
) -> NDArray[np.floating[Any]]:
    """Return ``value`` as a float32 or float64 array, checking its rank.

    float32 and float64 pass through unchanged; integers and booleans become float64.
    ``layout`` (for example ``"(..., n_q, d_k)"``) is quoted in error messages.
    """
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists and the like
        expected = f"{name} must be a numeric array {layout}".rstrip()
        raise TypeError(f"{expected}; got {type(value).__name__}: {exc}") from None
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    elif array.dtype.kind == "f":
        if array.dtype not in (np.float32, np.float64):
            array = array.astype(np.float64)
    else:
        raise TypeError(f"{name} must be a real numeric array; got dtype {array.dtype}")
    shape_hint = f" {layout}" if layout else ""
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s){shape_hint}; got shape {array.shape}")
    if min_ndim is not None and array.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s){shape_hint}; got shape {array.shape}")
    return array


def check_size(name: str, value: Any, *, minimum: int = 0) -> int:
    """Check that ``value`` is an integer of at least ``minimum`` and return it as ``int``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return int(value)


def check_same(name: str, got: int, expected: int, what: str) -> None:
    """Raise ``ValueError`` when a dimension ``got`` differs from ``expected``."""
    if got != expected:
        raise ValueError(f"{name}: {what} must be {expected}; got {got}")


def as_generator(name: str, rng: Any) -> np.random.Generator:
    """``rng`` as a NumPy ``Generator``: a Generator as is, an int as a seed, ``None`` as a fresh one."""
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        expected = f"{name} must be a numpy.random.Generator, an int seed or None"
        raise TypeError(f"{expected}; got {type(rng).__name__} {rng!r}")
    if rng < 0:
        raise ValueError(f"{name} must be a non-negative int seed; got {rng}")
    return np.random.default_rng(int(rng))
