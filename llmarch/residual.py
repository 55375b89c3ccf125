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
    """
    x = as_float_array("x", x, min_ndim=1, layout="(..., d_model)")
    return x + sublayer(norm(x))


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
    """
    x = as_float_array("x", x, min_ndim=1, layout="(..., d_model)")
    return norm(x + sublayer(x))
