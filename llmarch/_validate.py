"""Argument checks shared by every module.

Each check raises ``TypeError`` or ``ValueError`` whose message names the argument,
says what was expected and shows what came, so a learner never has to decode a NumPy
broadcasting message or an ``IndexError``. They belong at the public entry points
(constructors, ``init``, a model's ``__call__``); the kernels those call trust their inputs.
"""

from __future__ import annotations

import numbers
import os
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "as_float_array",
    "as_generator",
    "check_divisible",
    "check_memory",
    "check_number",
    "check_size",
    "float_dtype",
    "random_normal",
]


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
    finite: bool = True,
    allow_neg_inf: bool = False,
) -> NDArray[np.floating[Any]]:
    """Return ``value`` as a float32 or float64 array, checking its rank and that it is finite.

    float32 and float64 pass through unchanged; integers and booleans become float64.
    ``layout`` (for example ``"(..., n_q, d_k)"``) is quoted in error messages. NaN and
    infinity are refused (a NaN would spread silently through every later step) unless
    ``finite=False``; ``allow_neg_inf`` lets $-\\infty$ through, the score of a masked key.
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
    if finite and array.size:
        with np.errstate(invalid="ignore", over="ignore"):
            total = np.sum(array, dtype=np.float64)  # NaN and inf reach the sum: one pass, no copy
        bad = (
            None if np.isfinite(total) else np.isnan(array) | (np.isposinf(array) if allow_neg_inf else np.isinf(array))
        )
        if bad is not None and bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            what = "finite (or -inf)" if allow_neg_inf else "finite"
            raise ValueError(f"{name} must be {what}; got {array[index]} at index {index}")
    return array


def check_number(name: str, value: Any, *, minimum: float | None = None, positive: bool = False) -> float:
    """Check that ``value`` is a finite real number (``>= minimum``, ``> 0`` if ``positive``); return it."""
    wanted = "a positive number" if positive else "a finite number" if minimum is None else f"a number >= {minimum:g}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {wanted}; got {type(value).__name__} {value!r}")
    number = float(value)
    if not np.isfinite(number) or (minimum is not None and number < minimum) or (positive and number <= 0):
        raise ValueError(f"{name} must be {wanted}; got {value!r}")
    return number


def check_memory(names: str, shape: tuple[int, ...], dtype: Any = np.float64) -> None:
    """Refuse to allocate an array of ``shape`` that cannot fit in this machine's memory.

    ``names`` (the arguments the shape comes from) are quoted in the error, so that a size
    typed with too many zeros gets a message instead of NumPy's ``MemoryError``.
    """
    needed = int(np.prod([int(n) for n in shape], dtype=object)) * np.dtype(dtype).itemsize
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: assume a large machine
        available = 2**46
    if needed > available:
        raise ValueError(
            f"{names}: an array of shape {shape} needs {needed:.3g} bytes, more than this machine's "
            f"{available / 2**30:.0f} GiB of memory"
        )


def random_normal(
    rng: np.random.Generator, shape: tuple[int, ...], std: float, dtype: Any, names: str = "the sizes"
) -> NDArray[np.floating[Any]]:
    r"""Weights drawn from $\mathcal{N}(0, \mathrm{std}^2)$, after checking ``std`` and the memory they need."""
    std = check_number("std", std, minimum=0.0)
    check_memory(names, shape, dtype)
    with np.errstate(over="ignore"):  # an overflow is reported below, naming std
        weights = rng.standard_normal(shape) * std
    if not np.isfinite(weights).all():
        raise ValueError(f"std must be small enough that the weights stay finite; got {std!r}")
    return weights.astype(dtype)


def check_size(name: str, value: Any, *, minimum: int = 0) -> int:
    """Check that ``value`` is an integer of at least ``minimum`` and return it as ``int``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return int(value)


def check_divisible(name: str, value: int, by_name: str, by: int) -> None:
    """Raise ``ValueError`` unless ``value`` (the argument ``name``) is a multiple of ``by`` (``by_name``).

    ``check_divisible("d_model", 10, "n_heads", 4)``: "d_model must be divisible by n_heads = 4;
    got d_model = 10".
    """
    if value % by:
        raise ValueError(f"{name} must be divisible by {by_name} = {by}; got {name} = {value}")


def as_generator(name: str, rng: Any) -> np.random.Generator:
    """``rng`` as a NumPy ``Generator``: a Generator as is, an int as a seed, ``None`` as a fresh one.

    ``rng = as_generator("rng", rng)`` at the top of every ``init`` that draws random weights.
    """
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        expected = f"{name} must be a numpy.random.Generator, an int seed or None"
        raise TypeError(f"{expected}; got {type(rng).__name__} {rng!r}")
    if rng < 0:
        raise ValueError(f"{name} must be a non-negative int seed; got {rng}")
    return np.random.default_rng(int(rng))
