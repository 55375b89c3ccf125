r"""The position-wise building blocks around attention: norms and feed-forward networks.

Each comes in the classic form of GPT-2 and the form today's LLMs use instead:
[`LayerNorm`][llmarch.LayerNorm] | [`RMSNorm`][llmarch.RMSNorm], and
[`FeedForward`][llmarch.FeedForward] (a GELU MLP) | [`SwiGLU`][llmarch.SwiGLU] (a gated one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, as_generator, check_memory, check_size, random_normal

__all__ = ["FeedForward", "LayerNorm", "RMSNorm", "SwiGLU", "gelu", "gelu_tanh", "relu", "silu"]

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


def silu(x: ArrayLike) -> Array:
    r"""Sigmoid linear unit, also called swish (Elfwing et al. 2017; Ramachandran et al. 2017).

    $$\mathrm{SiLU}(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}}$$

    Computed as $x \cdot \tfrac12\left(1 + \tanh(x/2)\right)$, the same number written so
    that no exponential can overflow.
    """
    x = as_float_array("x", x)
    half = x.dtype.type(0.5)
    return x * half * (1 + np.tanh(half * x))


ACTIVATIONS = {"relu": relu, "gelu": gelu, "gelu_tanh": gelu_tanh}


def _check_eps(eps: Any) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not math.isfinite(eps):
        raise TypeError(f"eps must be a positive number; got {type(eps).__name__} {eps!r}")
    if eps <= 0:
        # eps = 0 divides by zero on a constant input, and NaN would spread through the model.
        raise ValueError(f"eps must be a positive number (it keeps a constant input finite); got {eps!r}")
    return float(eps)


def _check_last_dim(name: str, x: Array, d: int, what: str = "d") -> None:
    if x.shape[-1] != d:
        raise ValueError(f"{name}: last dimension must be {what} = {d}; got shape {x.shape}")


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
        Added to the variance, $\varepsilon > 0$; GPT-2 uses ``1e-5``.
    """

    gamma: Array
    beta: Array
    eps: float = 1e-5

    def __post_init__(self) -> None:
        self.gamma = as_float_array("gamma", self.gamma, ndim=1, layout="(d,)")
        self.beta = as_float_array("beta", self.beta, ndim=1, layout="(d,)")
        if self.beta.shape != self.gamma.shape:
            raise ValueError(f"beta must have the shape of gamma {self.gamma.shape}; got {self.beta.shape}")
        self.eps = _check_eps(self.eps)

    @classmethod
    def init(cls, d: int, *, eps: float = 1e-5, dtype: type[np.floating[Any]] = np.float64) -> LayerNorm:
        """The identity-like start: $\\gamma = 1$, $\\beta = 0$."""
        d = check_size("d", d, minimum=1)
        check_memory("d", (2, d), dtype)
        return cls(np.ones(d, dtype=dtype), np.zeros(d, dtype=dtype), eps)

    def __call__(self, x: ArrayLike) -> Array:
        """Normalise ``x`` of shape ``(..., d)``; returns the same shape and dtype."""
        x = as_float_array("x", x, min_ndim=1, layout="(..., d)")
        _check_last_dim("x", x, self.gamma.shape[0])
        mean = x.mean(axis=-1, keepdims=True)
        var = x.var(axis=-1, keepdims=True)
        normed = (x - mean) / np.sqrt(var + x.dtype.type(self.eps))
        return normed * self.gamma.astype(x.dtype, copy=False) + self.beta.astype(x.dtype, copy=False)


@dataclass
class RMSNorm:
    r"""Root-mean-square normalisation (Zhang and Sennrich 2019): Llama, Mistral, Qwen.

    $$\mathrm{RMSNorm}(x) = \gamma \odot \frac{x}{\sqrt{\tfrac1d \sum_{i=1}^{d} x_i^2 + \varepsilon}}$$

    Layer norm without the mean and without the shift $\beta$: it only rescales each
    position to unit root mean square. One reduction instead of two and $d$ parameters
    instead of $2d$, and in practice it trains as well.

    Attributes
    ----------
    gamma : numpy.ndarray, shape (d,)
        Scale, initialised to ones (Hugging Face calls it ``weight``).
    eps : float
        Added to the mean square, $\varepsilon > 0$: ``1e-5`` in Llama 3 and Mistral,
        ``1e-6`` in Qwen3.
    """

    gamma: Array
    eps: float = 1e-6

    def __post_init__(self) -> None:
        self.gamma = as_float_array("gamma", self.gamma, ndim=1, layout="(d,)")
        self.eps = _check_eps(self.eps)

    @classmethod
    def init(cls, d: int, *, eps: float = 1e-6, dtype: type[np.floating[Any]] = np.float64) -> RMSNorm:
        """The identity-like start: $\\gamma = 1$."""
        d = check_size("d", d, minimum=1)
        check_memory("d", (d,), dtype)
        return cls(np.ones(d, dtype=dtype), eps)

    def __call__(self, x: ArrayLike) -> Array:
        """Normalise ``x`` of shape ``(..., d)``; returns the same shape and dtype."""
        x = as_float_array("x", x, min_ndim=1, layout="(..., d)")
        _check_last_dim("x", x, self.gamma.shape[0])
        mean_square = np.mean(x * x, axis=-1, keepdims=True)
        return x / np.sqrt(mean_square + x.dtype.type(self.eps)) * self.gamma.astype(x.dtype, copy=False)


def _linear(x: Array, w: Array, b: Array | None) -> Array:
    """``x @ w + b`` in ``x``'s dtype (``b`` may be absent)."""
    y = x @ w.astype(x.dtype, copy=False)
    return y if b is None else y + b.astype(x.dtype, copy=False)


def _check_weight(name: str, w: ArrayLike, shape: tuple[int, ...], layout: str, sizes_from: str) -> Array:
    array = as_float_array(name, w, ndim=len(shape), layout=layout)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {layout} = {shape}, the sizes of {sizes_from}; got {array.shape}")
    return array


def _check_bias(name: str, b: ArrayLike | None, size: int, layout: str, sizes_from: str) -> Array | None:
    return None if b is None else _check_weight(name, b, (size,), layout, sizes_from)


@dataclass
class FeedForward:
    r"""Position-wise feed-forward network (Vaswani et al. 2017, sec. 3.3): an MLP.

    The same two-layer MLP is applied to every position on its own:

    $$\mathrm{FFN}(x) = f(x W_1 + b_1)\, W_2 + b_2$$

    with $f$ = ReLU in the original paper and GELU in GPT-2; usually $d_\text{ff} = 4\,d_\text{model}$.

    Attributes
    ----------
    w1 : numpy.ndarray, shape (d_model, d_ff)
    b1 : numpy.ndarray or None, shape (d_ff,)
        ``None``: no bias.
    w2 : numpy.ndarray, shape (d_ff, d_model)
    b2 : numpy.ndarray or None, shape (d_model,)
    activation : {"relu", "gelu", "gelu_tanh"}
    """

    w1: Array
    b1: Array | None
    w2: Array
    b2: Array | None
    activation: Activation = "relu"

    def __post_init__(self) -> None:
        self.w1 = as_float_array("w1", self.w1, ndim=2, layout="(d_model, d_ff)")
        d_model, d_ff = self.w1.shape
        self.w2 = _check_weight("w2", self.w2, (d_ff, d_model), "(d_ff, d_model)", "w1")
        self.b1 = _check_bias("b1", self.b1, d_ff, "(d_ff,)", "w1")
        self.b2 = _check_bias("b2", self.b2, d_model, "(d_model,)", "w1")
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
        bias: bool = True,
        std: float = 0.02,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> FeedForward:
        """Random weights from $\\mathcal{N}(0, \\mathrm{std}^2)$, zero biases (none if ``bias=False``)."""
        d_model = check_size("d_model", d_model, minimum=1)
        d_ff = check_size("d_ff", d_ff, minimum=1)
        rng = as_generator("rng", rng)
        w1 = random_normal(rng, (d_model, d_ff), std, dtype, "d_model, d_ff")
        w2 = random_normal(rng, (d_ff, d_model), std, dtype, "d_model, d_ff")
        b1, b2 = (np.zeros(d_ff, dtype=dtype), np.zeros(d_model, dtype=dtype)) if bias else (None, None)
        return cls(w1, b1, w2, b2, activation)

    def __call__(self, x: ArrayLike) -> Array:
        """Apply to ``x`` of shape ``(..., d_model)``; returns the same shape and dtype."""
        x = as_float_array("x", x, min_ndim=1, layout="(..., d_model)")
        _check_last_dim("x", x, self.w1.shape[0], "d_model")
        return _linear(ACTIVATIONS[self.activation](_linear(x, self.w1, self.b1)), self.w2, self.b2)


@dataclass
class SwiGLU:
    r"""Gated feed-forward network with SiLU, SwiGLU (Shazeer 2020): Llama, Mistral, Qwen.

    Two projections up instead of one: one goes through the SiLU and then *gates* the
    other, element by element, before the projection down:

    $$\mathrm{SwiGLU}(x) = \big(\mathrm{SiLU}(x W_\text{gate}) \odot x W_\text{up}\big)\, W_\text{down}$$

    The gate lets each hidden unit scale its value by a learned, input-dependent amount.
    With three matrices instead of two, models keep the parameter count of a $4d$ MLP by
    using $d_\text{ff} \approx \tfrac{8}{3} d$ (Llama 1 and 2); Llama 3 8B uses $3.5d$.

    Attributes
    ----------
    w_gate, w_up : numpy.ndarray, shape (d_model, d_ff)
        ``gate_proj`` and ``up_proj`` in Hugging Face checkpoints (transposed).
    w_down : numpy.ndarray, shape (d_ff, d_model)
        ``down_proj``.
    b_gate, b_up : numpy.ndarray or None, shape (d_ff,)
        Biases, ``None`` in every model named above.
    b_down : numpy.ndarray or None, shape (d_model,)
    """

    w_gate: Array
    w_up: Array
    w_down: Array
    b_gate: Array | None = None
    b_up: Array | None = None
    b_down: Array | None = None

    def __post_init__(self) -> None:
        self.w_gate = as_float_array("w_gate", self.w_gate, ndim=2, layout="(d_model, d_ff)")
        d_model, d_ff = self.w_gate.shape
        self.w_up = _check_weight("w_up", self.w_up, (d_model, d_ff), "(d_model, d_ff)", "w_gate")
        self.w_down = _check_weight("w_down", self.w_down, (d_ff, d_model), "(d_ff, d_model)", "w_gate")
        self.b_gate = _check_bias("b_gate", self.b_gate, d_ff, "(d_ff,)", "w_gate")
        self.b_up = _check_bias("b_up", self.b_up, d_ff, "(d_ff,)", "w_gate")
        self.b_down = _check_bias("b_down", self.b_down, d_model, "(d_model,)", "w_gate")

    @classmethod
    def init(
        cls,
        d_model: int,
        d_ff: int,
        rng: np.random.Generator | None = None,
        *,
        bias: bool = False,
        std: float = 0.02,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> SwiGLU:
        """Random weights from $\\mathcal{N}(0, \\mathrm{std}^2)$; zero biases if ``bias=True``."""
        d_model = check_size("d_model", d_model, minimum=1)
        d_ff = check_size("d_ff", d_ff, minimum=1)
        rng = as_generator("rng", rng)
        shapes = [(d_model, d_ff), (d_model, d_ff), (d_ff, d_model)]
        weights = [random_normal(rng, shape, std, dtype, "d_model, d_ff") for shape in shapes]
        biases = [np.zeros(shape[1], dtype=dtype) for shape in shapes] if bias else [None] * 3
        return cls(*weights, *biases)

    def __call__(self, x: ArrayLike) -> Array:
        """Apply to ``x`` of shape ``(..., d_model)``; returns the same shape and dtype."""
        x = as_float_array("x", x, min_ndim=1, layout="(..., d_model)")
        _check_last_dim("x", x, self.w_gate.shape[0], "d_model")
        gate = silu(_linear(x, self.w_gate, self.b_gate))
        return _linear(gate * _linear(x, self.w_up, self.b_up), self.w_down, self.b_down)
