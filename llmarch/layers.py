r"""The position-wise building blocks around attention: layer norm and the feed-forward network."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, check_size

__all__ = ["FeedForward", "LayerNorm", "gelu", "gelu_tanh", "relu"]

Array = NDArray[np.floating[Any]]
Activation = Literal["relu", "gelu", "gelu_tanh"]


def relu(x: ArrayLike) -> Array:
    r"""Rectified linear unit, $\mathrm{ReLU}(x) = \max(0, x)$."""
    x = as_float_array("x", x)
    return np.maximum(x, 0, dtype=x.dtype)


# NumPy has no erf and SciPy would be a second runtime dependency, so the exact GELU calls
# math.erf element by element: exact to float precision, and fast enough for teaching sizes.
_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x: ArrayLike) -> Array:
    r"""Gaussian error linear unit, exact form (Hendrycks and Gimpel 2016).

    $$\mathrm{GELU}(x) = x\,\Phi(x) = \frac{x}{2}\left(1 + \mathrm{erf}\!\left(\frac{x}{\sqrt 2}\right)\right)$$
    """
    x = as_float_array("x", x)
    return (0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))).astype(x.dtype, copy=False)


def gelu_tanh(x: ArrayLike) -> Array:
    r"""GELU, tanh approximation (the form GPT-2 uses).

    $$\mathrm{GELU}(x) \approx \frac{x}{2}\left(1 + \tanh\!\left(\sqrt{2/\pi}\,(x + 0.044715\,x^3)\right)\right)$$
    """
    x = as_float_array("x", x)
    c = x.dtype.type(math.sqrt(2.0 / math.pi))
    return 0.5 * x * (1.0 + np.tanh(c * (x + x.dtype.type(0.044715) * x**3)))


ACTIVATIONS = {"relu": relu, "gelu": gelu, "gelu_tanh": gelu_tanh}


@dataclass
class LayerNorm:
    r"""Layer normalisation over the last axis (Ba et al. 2016).

    $$\mathrm{LN}(x) = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}} + \beta$$

    with $\mu$ and $\sigma^2$ the mean and (biased) variance of the $d$ features of each
    position.

    Attributes
    ----------
    gamma : numpy.ndarray, shape (d,)
        Scale, initialised to ones.
    beta : numpy.ndarray, shape (d,)
        Shift, initialised to zeros.
    eps : float
        Added to the variance; GPT-2 uses ``1e-5``.
    """

    gamma: Array
    beta: Array
    eps: float = 1e-5

    def __post_init__(self) -> None:
        self.gamma = as_float_array("gamma", self.gamma, ndim=1, layout="(d,)")
        self.beta = as_float_array("beta", self.beta, ndim=1, layout="(d,)")
        if self.beta.shape != self.gamma.shape:
            raise ValueError(f"beta must have the shape of gamma {self.gamma.shape}; got {self.beta.shape}")
        if not self.eps >= 0:
            raise ValueError(f"eps must be a non-negative number; got {self.eps!r}")

    @classmethod
    def init(cls, d: int, *, eps: float = 1e-5, dtype: type[np.floating[Any]] = np.float64) -> LayerNorm:
        """The identity-like start: $\\gamma = 1$, $\\beta = 0$."""
        d = check_size("d", d, minimum=1)
        return cls(np.ones(d, dtype=dtype), np.zeros(d, dtype=dtype), eps)

    def __call__(self, x: ArrayLike) -> Array:
        """Normalise ``x`` of shape ``(..., d)``; returns the same shape and dtype."""
        x = as_float_array("x", x, min_ndim=1, layout="(..., d)")
        if x.shape[-1] != self.gamma.shape[0]:
            raise ValueError(f"x: last dimension must be d = {self.gamma.shape[0]}; got shape {x.shape}")
        mean = x.mean(axis=-1, keepdims=True)
        var = x.var(axis=-1, keepdims=True)
        normed = (x - mean) / np.sqrt(var + x.dtype.type(self.eps))
        return normed * self.gamma.astype(x.dtype, copy=False) + self.beta.astype(x.dtype, copy=False)


@dataclass
class FeedForward:
    r"""Position-wise feed-forward network (Vaswani et al. 2017, sec. 3.3).

    The same two-layer MLP is applied to every position on its own:

    $$\mathrm{FFN}(x) = f(x W_1 + b_1)\, W_2 + b_2$$

    with $f$ = ReLU in the original paper and GELU in GPT-2; usually $d_\text{ff} = 4\,d_\text{model}$.

    Attributes
    ----------
    w1 : numpy.ndarray, shape (d_model, d_ff)
    b1 : numpy.ndarray, shape (d_ff,)
    w2 : numpy.ndarray, shape (d_ff, d_model)
    b2 : numpy.ndarray, shape (d_model,)
    activation : {"relu", "gelu", "gelu_tanh"}
    """

    w1: Array
    b1: Array
    w2: Array
    b2: Array
    activation: Activation = "relu"

    def __post_init__(self) -> None:
        self.w1 = as_float_array("w1", self.w1, ndim=2, layout="(d_model, d_ff)")
        d_model, d_ff = self.w1.shape
        self.w2 = as_float_array("w2", self.w2, ndim=2, layout="(d_ff, d_model)")
        if self.w2.shape != (d_ff, d_model):
            raise ValueError(f"w2 must have shape (d_ff, d_model) = {(d_ff, d_model)}; got {self.w2.shape}")
        self.b1 = as_float_array("b1", self.b1, ndim=1, layout="(d_ff,)")
        if self.b1.shape != (d_ff,):
            raise ValueError(f"b1 must have shape (d_ff,) = ({d_ff},); got {self.b1.shape}")
        self.b2 = as_float_array("b2", self.b2, ndim=1, layout="(d_model,)")
        if self.b2.shape != (d_model,):
            raise ValueError(f"b2 must have shape (d_model,) = ({d_model},); got {self.b2.shape}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {self.activation!r}")

    @classmethod
    def init(
        cls,
        d_model: int,
        d_ff: int,
        rng: np.random.Generator | None = None,
        *,
        activation: Activation = "relu",
        std: float = 0.02,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> FeedForward:
        """Random weights from $\\mathcal{N}(0, \\mathrm{std}^2)$, zero biases."""
        d_model = check_size("d_model", d_model, minimum=1)
        d_ff = check_size("d_ff", d_ff, minimum=1)
        rng = np.random.default_rng() if rng is None else rng
        return cls(
            (rng.standard_normal((d_model, d_ff)) * std).astype(dtype),
            np.zeros(d_ff, dtype=dtype),
            (rng.standard_normal((d_ff, d_model)) * std).astype(dtype),
            np.zeros(d_model, dtype=dtype),
            activation,
        )

    def __call__(self, x: ArrayLike) -> Array:
        """Apply to ``x`` of shape ``(..., d_model)``; returns the same shape and dtype."""
        x = as_float_array("x", x, min_ndim=1, layout="(..., d_model)")
        if x.shape[-1] != self.w1.shape[0]:
            raise ValueError(f"x: last dimension must be d_model = {self.w1.shape[0]}; got shape {x.shape}")
        dt = x.dtype
        hidden = ACTIVATIONS[self.activation](x @ self.w1.astype(dt, copy=False) + self.b1.astype(dt, copy=False))
        return hidden @ self.w2.astype(dt, copy=False) + self.b2.astype(dt, copy=False)
