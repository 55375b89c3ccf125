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
from llmarch.tape import Tape, recorded, save_for_backward, sum_rows

__all__ = [
    "FeedForward",
    "LayerNorm",
    "RMSNorm",
    "SwiGLU",
    "gelu",
    "gelu_backward",
    "gelu_tanh",
    "gelu_tanh_backward",
    "linear_backward",
    "relu",
    "relu_backward",
    "silu",
    "silu_backward",
]

Array = NDArray[np.floating[Any]]
Activation = Literal["relu", "gelu", "gelu_tanh"]


def relu(x: ArrayLike) -> Array:
    r"""Rectified linear unit, $\mathrm{ReLU}(x) = \max(0, x)$."""
    x = as_float_array("x", x)
    return np.maximum(x, 0, dtype=x.dtype)


def relu_backward(x: Array, grad: Array) -> Array:
    r"""$\bar x = \bar y \odot [x > 0]$ for $y = \mathrm{ReLU}(x)$."""
    return grad * (x > 0)


# NumPy has no erf and SciPy would be a second runtime dependency, so the exact GELU calls
# math.erf element by element: exact to float precision, and fast enough for teaching sizes.
_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x: ArrayLike) -> Array:
    r"""Gaussian error linear unit, exact form (Hendrycks and Gimpel 2016).

    $$\mathrm{GELU}(x) = x\,\Phi(x) = \frac{x}{2}\left(1 + \mathrm{erf}\!\left(\frac{x}{\sqrt 2}\right)\right)$$
    """
    x = as_float_array("x", x)
    return (0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))).astype(x.dtype, copy=False)


def gelu_backward(x: Array, grad: Array) -> Array:
    r"""$\bar x = \bar y \odot \left(\Phi(x) + x\,\varphi(x)\right)$ for $y = x\,\Phi(x)$, $\varphi = \Phi'$."""
    cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return (grad * (cdf + x * pdf)).astype(x.dtype, copy=False)


def gelu_tanh(x: ArrayLike) -> Array:
    r"""GELU, tanh approximation (the form GPT-2 uses).

    $$\mathrm{GELU}(x) \approx \frac{x}{2}\left(1 + \tanh\!\left(\sqrt{2/\pi}\,(x + 0.044715\,x^3)\right)\right)$$
    """
    x = as_float_array("x", x)
    c = x.dtype.type(math.sqrt(2.0 / math.pi))
    return 0.5 * x * (1.0 + np.tanh(c * (x + x.dtype.type(0.044715) * (x * x * x))))  # x * x * x: 10x faster than x**3


def gelu_tanh_backward(x: Array, grad: Array) -> Array:
    r"""The derivative of [`gelu_tanh`][llmarch.gelu_tanh], times ``grad``.

    With $u = \sqrt{2/\pi}\,(x + 0.044715\,x^3)$ and $t = \tanh u$:

    $$\bar x = \bar y \odot \left(\tfrac12 (1 + t) + \tfrac12\, x\, (1 - t^2)\, u'\right), \qquad
      u' = \sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\, x^2)$$
    """
    c, a = x.dtype.type(math.sqrt(2.0 / math.pi)), x.dtype.type(0.044715)
    x2 = x * x
    t = np.tanh(c * x * (1 + a * x2))
    return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * a * x2))


def silu(x: ArrayLike) -> Array:
    r"""Sigmoid linear unit, also called swish (Elfwing et al. 2017; Ramachandran et al. 2017).

    $$\mathrm{SiLU}(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}}$$

    Computed as $x \cdot \tfrac12\left(1 + \tanh(x/2)\right)$, the same number written so
    that no exponential can overflow.
    """
    x = as_float_array("x", x)
    half = x.dtype.type(0.5)
    return x * half * (1 + np.tanh(half * x))


def silu_backward(x: Array, grad: Array) -> Array:
    r"""$\bar x = \bar y \odot \sigma(x)\,\big(1 + x\,(1 - \sigma(x))\big)$ for $y = x\,\sigma(x)$."""
    half = x.dtype.type(0.5)
    sigmoid = half * (1 + np.tanh(half * x))
    return grad * sigmoid * (1 + x * (1 - sigmoid))


ACTIVATIONS = {"relu": relu, "gelu": gelu, "gelu_tanh": gelu_tanh}
ACTIVATION_BACKWARD = {"relu": relu_backward, "gelu": gelu_backward, "gelu_tanh": gelu_tanh_backward}


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
        std = np.sqrt(var + x.dtype.type(self.eps))
        normed = (x - mean) / std
        y = normed * self.gamma.astype(x.dtype, copy=False) + self.beta.astype(x.dtype, copy=False)
        save_for_backward(self, y, normed=normed, std=std)
        return y

    def backward(self, grad_output: ArrayLike, tape: Tape) -> tuple[Array, dict[str, Array]]:
        r"""Gradients from $\bar y = \partial L / \partial y$, for the call ``tape`` recorded.

        With $\hat x = (x - \mu) / \sigma$ the normalised input, $\sigma = \sqrt{\sigma^2 + \varepsilon}$,
        $g = \bar y \odot \gamma$ and $\langle \cdot \rangle$ the mean over the $d$ features:

        $$\bar x = \frac{1}{\sigma}\Big(g - \langle g \rangle - \hat x\, \langle g \odot \hat x \rangle\Big),
          \qquad \bar\gamma = \sum_t \bar y_t \odot \hat x_t, \qquad \bar\beta = \sum_t \bar y_t$$

        The two means are what $\mu$ and $\sigma$ pass back: moving one feature moves every
        feature's normalised value a little.

        Returns
        -------
        grad_x : numpy.ndarray, shape (..., d)
        grads : dict
            ``{"gamma", "beta"}``, shape ``(d,)``.
        """
        grad, s = recorded(self, tape, grad_output)
        g = grad * self.gamma.astype(grad.dtype, copy=False)
        mean_g, mean_gx = g.mean(axis=-1, keepdims=True), (g * s.normed).mean(axis=-1, keepdims=True)
        grad_x = (g - mean_g - s.normed * mean_gx) / s.std
        return grad_x, {"gamma": sum_rows(grad * s.normed), "beta": sum_rows(grad)}


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
        rms = np.sqrt(mean_square + x.dtype.type(self.eps))
        y = x / rms * self.gamma.astype(x.dtype, copy=False)
        save_for_backward(self, y, x=x, rms=rms)
        return y

    def backward(self, grad_output: ArrayLike, tape: Tape) -> tuple[Array, dict[str, Array]]:
        r"""Gradients from $\bar y = \partial L / \partial y$, for the call ``tape`` recorded.

        With $r = \sqrt{\langle x^2 \rangle + \varepsilon}$, $\hat x = x / r$, $g = \bar y \odot \gamma$
        and $\langle \cdot \rangle$ the mean over the $d$ features:

        $$\bar x = \frac{1}{r}\Big(g - \hat x\, \langle g \odot \hat x \rangle\Big), \qquad
          \bar\gamma = \sum_t \bar y_t \odot \hat x_t$$

        LayerNorm's formula without the term of the mean.

        Returns
        -------
        grad_x : numpy.ndarray, shape (..., d)
        grads : dict
            ``{"gamma"}``, shape ``(d,)``.
        """
        grad, s = recorded(self, tape, grad_output)
        normed = s.x / s.rms
        g = grad * self.gamma.astype(grad.dtype, copy=False)
        grad_x = (g - normed * (g * normed).mean(axis=-1, keepdims=True)) / s.rms
        return grad_x, {"gamma": sum_rows(grad * normed)}


def _linear(x: Array, w: Array, b: Array | None) -> Array:
    """``x @ w + b`` in ``x``'s dtype (``b`` may be absent)."""
    y = x @ w.astype(x.dtype, copy=False)
    return y if b is None else y + b.astype(x.dtype, copy=False)


def linear_backward(x: Array, w: Array, grad: Array) -> tuple[Array, Array, Array]:
    r"""Backward of a linear layer $y = x W + b$ applied at every position $t$.

    $$\bar x = \bar y\, W^\top, \qquad \bar W = \sum_t x_t^\top \bar y_t, \qquad \bar b = \sum_t \bar y_t$$

    Parameters
    ----------
    x : numpy.ndarray, shape (..., d_in)
        The layer's input.
    w : numpy.ndarray, shape (d_in, d_out)
    grad : numpy.ndarray, shape (..., d_out)
        $\bar y$.

    Returns
    -------
    grad_x, grad_w, grad_b : numpy.ndarray
        Shapes ``(..., d_in)``, ``(d_in, d_out)``, ``(d_out,)``.
    """
    rows = grad.reshape(-1, grad.shape[-1])
    grad_w = x.reshape(-1, x.shape[-1]).T @ rows
    return grad @ w.T.astype(grad.dtype, copy=False), grad_w, rows.sum(axis=0)


def _weight_grads(**pairs: tuple[Array | None, Array]) -> dict[str, Array]:
    """``{name: gradient}`` for the parameters that exist (a bias of ``None`` has no gradient)."""
    return {name: grad for name, (param, grad) in pairs.items() if param is not None}


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
        a = _linear(x, self.w1, self.b1)
        h = ACTIVATIONS[self.activation](a)
        y = _linear(h, self.w2, self.b2)
        save_for_backward(self, y, x=x, a=a, h=h)
        return y

    def backward(self, grad_output: ArrayLike, tape: Tape) -> tuple[Array, dict[str, Array]]:
        r"""Gradients from $\bar y = \partial L / \partial y$, for the call ``tape`` recorded.

        With $a = x W_1 + b_1$ and $h = f(a)$, two linear layers
        ([`linear_backward`][llmarch.layers.linear_backward]) around the activation's derivative:

        $$\bar h = \bar y\, W_2^\top, \qquad \bar a = \bar h \odot f'(a), \qquad \bar x = \bar a\, W_1^\top$$

        $$\bar W_2 = \sum_t h_t^\top \bar y_t, \quad \bar b_2 = \sum_t \bar y_t, \quad
          \bar W_1 = \sum_t x_t^\top \bar a_t, \quad \bar b_1 = \sum_t \bar a_t$$

        Returns
        -------
        grad_x : numpy.ndarray, shape (..., d_model)
        grads : dict
            ``{"w1", "w2"}`` and the biases there are, ``{"b1", "b2"}``.
        """
        grad, s = recorded(self, tape, grad_output)
        grad_h, grad_w2, grad_b2 = linear_backward(s.h, self.w2, grad)
        grad_a = ACTIVATION_BACKWARD[self.activation](s.a, grad_h)
        grad_x, grad_w1, grad_b1 = linear_backward(s.x, self.w1, grad_a)
        return grad_x, _weight_grads(
            w1=(self.w1, grad_w1), b1=(self.b1, grad_b1), w2=(self.w2, grad_w2), b2=(self.b2, grad_b2)
        )


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
        a = _linear(x, self.w_gate, self.b_gate)
        gate, up = silu(a), _linear(x, self.w_up, self.b_up)
        h = gate * up
        y = _linear(h, self.w_down, self.b_down)
        save_for_backward(self, y, x=x, a=a, gate=gate, up=up, h=h)
        return y

    def backward(self, grad_output: ArrayLike, tape: Tape) -> tuple[Array, dict[str, Array]]:
        r"""Gradients from $\bar y = \partial L / \partial y$, for the call ``tape`` recorded.

        With $a = x W_\text{gate}$, $u = x W_\text{up}$ and $h = \mathrm{SiLU}(a) \odot u$, the
        product rule splits $\bar h = \bar y\, W_\text{down}^\top$ between the two branches:

        $$\bar u = \bar h \odot \mathrm{SiLU}(a), \qquad \bar a = \bar h \odot u \odot \mathrm{SiLU}'(a),
          \qquad \bar x = \bar a\, W_\text{gate}^\top + \bar u\, W_\text{up}^\top$$

        and each weight's gradient is that of a linear layer
        ([`linear_backward`][llmarch.layers.linear_backward]), e.g.
        $\bar W_\text{down} = \sum_t h_t^\top \bar y_t$.

        Returns
        -------
        grad_x : numpy.ndarray, shape (..., d_model)
        grads : dict
            ``{"w_gate", "w_up", "w_down"}`` and the biases there are.
        """
        grad, s = recorded(self, tape, grad_output)
        grad_h, grad_w_down, grad_b_down = linear_backward(s.h, self.w_down, grad)
        grad_a = silu_backward(s.a, grad_h * s.up)
        grad_x_gate, grad_w_gate, grad_b_gate = linear_backward(s.x, self.w_gate, grad_a)
        grad_x_up, grad_w_up, grad_b_up = linear_backward(s.x, self.w_up, grad_h * s.gate)
        grads = _weight_grads(
            w_gate=(self.w_gate, grad_w_gate),
            w_up=(self.w_up, grad_w_up),
            w_down=(self.w_down, grad_w_down),
            b_gate=(self.b_gate, grad_b_gate),
            b_up=(self.b_up, grad_b_up),
            b_down=(self.b_down, grad_b_down),
        )
        return grad_x_gate + grad_x_up, grads
