r"""Residual connections with layer norm: the two ways to wrap a sublayer.

Every attention and feed-forward sublayer of a transformer sits on a residual path: its
output is *added* to its input, so each layer only has to learn a correction, and
gradients reach early layers through the plain sum. Where the layer norm goes is the one
design choice:

- **post-LN** (Vaswani et al. 2017): normalise after the sum, $\mathrm{LN}(x + F(x))$;
- **pre-LN** (GPT-2 and most models since): normalise the sublayer's input only,
  $x + F(\mathrm{LN}(x))$, leaving the residual path untouched, which trains deep stacks
  stably without a learning-rate warm-up (Xiong et al. 2020). A pre-LN stack ends with
  one final layer norm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array

__all__ = ["post_ln_residual", "pre_ln_residual"]

Array = NDArray[np.floating[Any]]
Sublayer = Callable[[Array], Array]


def _check_stream(x: ArrayLike, sublayer: Any, norm: Any) -> Array:
    """``x`` as a finite float array ``(..., d_model)``; ``sublayer`` and ``norm`` callables."""
    for name, function in (("sublayer", sublayer), ("norm", norm)):
        if not callable(function):
            raise TypeError(
                f"{name} must be a callable mapping (..., d_model) to the same shape (a function or a layer); "
                f"got {type(function).__name__} {function!r}"
            )
    return as_float_array("x", x, min_ndim=1, layout="(..., d_model)")


def _same_shape(name: str, got: Any, shape: tuple[int, ...]) -> Array:
    """What ``name`` returned, checked to be an array of the residual stream's ``shape``."""
    got_shape = getattr(got, "shape", None)
    if got_shape != shape:
        what = f"shape {got_shape}" if got_shape is not None else "None" if got is None else type(got).__name__
        raise ValueError(f"{name} must return an array of x's shape {shape}, to be added to x; it returned {what}")
    if not np.isfinite(got).all():
        raise ValueError(f"{name} returned NaN or infinity, for a finite x")
    return got


def pre_ln_residual(x: ArrayLike, sublayer: Sublayer, norm: Sublayer) -> Array:
    r"""Pre-LN residual block (GPT-2): normalise, apply the sublayer, add the input back.

    $$y = x + F(\mathrm{LN}(x))$$

    Parameters
    ----------
    x : array_like, shape (..., d_model)
        The residual stream.
    sublayer : callable
        $F$: attention or feed-forward, mapping ``(..., d_model)`` to the same shape.
    norm : callable
        $\mathrm{LN}$, usually a [`LayerNorm`][llmarch.LayerNorm].

    Returns
    -------
    numpy.ndarray, shape (..., d_model)

    Raises
    ------
    TypeError
        If ``sublayer`` or ``norm`` is not callable, or ``x`` is not a real numeric array.
    ValueError
        If ``x`` holds NaN or infinity, or ``sublayer`` or ``norm`` returns another shape than
        ``x``'s, or NaN or infinity.
    """
    x = _check_stream(x, sublayer, norm)
    h = _same_shape("norm", norm(x), x.shape)
    return x + _same_shape("sublayer", sublayer(h), x.shape)


def post_ln_residual(x: ArrayLike, sublayer: Sublayer, norm: Sublayer) -> Array:
    r"""Post-LN residual block (Vaswani et al. 2017): apply the sublayer, add, then normalise.

    $$y = \mathrm{LN}(x + F(x))$$

    The paper's "Add & Norm": $\mathrm{LayerNorm}(x + \mathrm{Sublayer}(x))$ (sec. 3.1).

    Parameters
    ----------
    x : array_like, shape (..., d_model)
        The residual stream.
    sublayer : callable
        $F$: attention or feed-forward, mapping ``(..., d_model)`` to the same shape.
    norm : callable
        $\mathrm{LN}$, usually a [`LayerNorm`][llmarch.LayerNorm].

    Returns
    -------
    numpy.ndarray, shape (..., d_model)

    Raises
    ------
    TypeError
        If ``sublayer`` or ``norm`` is not callable, or ``x`` is not a real numeric array.
    ValueError
        If ``x`` holds NaN or infinity, or ``sublayer`` or ``norm`` returns another shape than
        ``x``'s, or NaN or infinity.
    """
    x = _check_stream(x, sublayer, norm)
    h = x + _same_shape("sublayer", sublayer(x), x.shape)
    return _same_shape("norm", norm(h), x.shape)
