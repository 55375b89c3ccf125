r"""Recurrent layers: the baselines transformers replaced.

A recurrent layer reads a sequence one position at a time and carries a running summary,
the hidden state $h_t$, from each step to the next. Step $t$ cannot start before step
$t-1$ has finished, so a sequence of $n$ tokens takes $n$ steps one after another; and
whatever position $t$ learns about position $t-k$ must pass through $k$ state updates.

Both layers use the row-vector convention ``x @ w`` of the rest of the package and are
batched: they take ``(..., n, d_in)`` and loop over the ``n`` axis only.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, check_size

__all__ = ["LSTM", "RNN"]

Array = NDArray[np.floating[Any]]


def _sigmoid(x: Array) -> Array:
    # exp of a negative number only, so large |x| neither overflows nor warns.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], bound: float, dtype: Any) -> Array:
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def _finite(name: str, array: Array) -> Array:
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite; it holds NaN or infinity")
    return array


def _check_init(d_in: Any, d_hidden: Any, gates: int, rng: Any, dtype: Any) -> tuple[int, int, np.random.Generator]:
    """The checked arguments of ``init``: sizes, the generator, the float dtype."""
    d_in = check_size("d_in", d_in, minimum=1)
    d_hidden = check_size("d_hidden", d_hidden, minimum=1)
    if max(d_in, d_hidden) * gates * d_hidden > np.iinfo(np.intp).max // 8:
        raise ValueError(f"d_in = {d_in} and d_hidden = {d_hidden} are too large: NumPy cannot hold the weights")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)) or None; got {type(rng).__name__}"
        )
    try:
        kind = np.dtype(dtype)
    except TypeError:
        kind = None
    if kind not in (np.float32, np.float64):
        raise TypeError(f"dtype must be numpy.float32 or numpy.float64; got {dtype!r}")
    return d_in, d_hidden, np.random.default_rng() if rng is None else rng


def _check_weights(w_x: ArrayLike, w_h: ArrayLike, b: ArrayLike, gates: int) -> tuple[Array, Array, Array, int, int]:
    """Validate ``w_x (d_in, gates*H)``, ``w_h (H, gates*H)``, ``b (gates*H,)``; return them and ``d_in, H``."""
    cols = "d_hidden" if gates == 1 else f"{gates} * d_hidden"
    w_x = as_float_array("w_x", w_x, ndim=2, layout=f"(d_in, {cols})")
    w_h = as_float_array("w_h", w_h, ndim=2, layout=f"(d_hidden, {cols})")
    b = as_float_array("b", b, ndim=1, layout=f"({cols},)")
    d_hidden = w_h.shape[0]
    if w_h.shape != (d_hidden, gates * d_hidden):
        raise ValueError(f"w_h must have shape (d_hidden, {cols}) = {(d_hidden, gates * d_hidden)}; got {w_h.shape}")
    if w_x.shape[1] != gates * d_hidden:
        raise ValueError(f"w_x must have shape (d_in, {cols}) with {cols} = {gates * d_hidden}; got {w_x.shape}")
    if b.shape != (gates * d_hidden,):
        raise ValueError(f"b must have shape ({cols},) = ({gates * d_hidden},); got {b.shape}")
    if d_hidden == 0 or w_x.shape[0] == 0:
        raise ValueError(f"d_in and d_hidden must be at least 1; got w_x {w_x.shape}, w_h {w_h.shape}")
    return _finite("w_x", w_x), _finite("w_h", w_h), _finite("b", b), w_x.shape[0], d_hidden


def _check_sequence(x: ArrayLike, d_in: int, name: str = "x", step: bool = False) -> Array:
    layout = "(..., d_in)" if step else "(..., n, d_in)"
    x = as_float_array(name, x, min_ndim=1 if step else 2, layout=layout)
    if x.shape[-1] != d_in:
        raise ValueError(f"{name}: last dimension must be d_in = {d_in}; got shape {x.shape}")
    return _finite(name, x)


def _check_state(
    name: str, value: ArrayLike | None, lead: tuple[int, ...], d_hidden: int, dtype: Any, of: str = "x"
) -> Array:
    """A state ``(..., d_hidden)`` whose leading dimensions ``lead`` are those of the input ``of``."""
    if value is None:
        return np.zeros((*lead, d_hidden), dtype=dtype)
    state = as_float_array(name, value, layout="(..., d_hidden)")
    if state.shape != (*lead, d_hidden):
        raise ValueError(
            f"{name} must have shape (..., d_hidden) = {(*lead, d_hidden)}; got {state.shape} "
            f"(its leading dimensions are those of {of}, {lead})"
        )
    return _finite(name, state).astype(dtype, copy=False)


def _check_step(layer: RNN | LSTM, x_t: ArrayLike, h: ArrayLike | None, h_name: str = "h") -> tuple[Array, Array]:
    """``x_t (..., d_in)`` and ``h (..., d_hidden)`` of one step, checked (None: zeros)."""
    x_t = _check_sequence(x_t, layer.d_in, "x_t", step=True)
    return x_t, _check_state(h_name, h, x_t.shape[:-1], layer.d_hidden, x_t.dtype, "x_t")


@dataclass
class RNN:
    r"""A vanilla (Elman) recurrent layer with a $\tanh$ cell.

    $$h_t = \tanh\left(x_t W_x + h_{t-1} W_h + b\right), \qquad h_0 = 0$$

    The output at position $t$ is the hidden state $h_t$. Backpropagating from $h_t$ to
    $x_{t-k}$ multiplies $k$ Jacobians $\operatorname{diag}(1 - h_s^2)\, W_h^\top$; when their
    norms are below 1 the gradient shrinks exponentially with $k$ (the vanishing gradient,
    Bengio et al. 1994).

    Attributes
    ----------
    w_x : numpy.ndarray, shape (d_in, d_hidden)
        Input weights.
    w_h : numpy.ndarray, shape (d_hidden, d_hidden)
        Recurrent weights.
    b : numpy.ndarray, shape (d_hidden,)
        Bias.
    """

    w_x: Array
    w_h: Array
    b: Array

    def __post_init__(self) -> None:
        self.w_x, self.w_h, self.b, _, _ = _check_weights(self.w_x, self.w_h, self.b, 1)

    @classmethod
    def init(
        cls,
        d_in: int,
        d_hidden: int,
        rng: np.random.Generator | None = None,
        *,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> RNN:
        r"""Weights and bias from $\mathcal{U}(-1/\sqrt{H}, 1/\sqrt{H})$, $H$ = ``d_hidden`` (PyTorch's default)."""
        d_in, d_hidden, rng = _check_init(d_in, d_hidden, 1, rng, dtype)
        bound = 1.0 / np.sqrt(d_hidden)
        return cls(
            _uniform(rng, (d_in, d_hidden), bound, dtype),
            _uniform(rng, (d_hidden, d_hidden), bound, dtype),
            _uniform(rng, (d_hidden,), bound, dtype),
        )

    @property
    def d_in(self) -> int:
        """Input width."""
        return int(self.w_x.shape[0])

    @property
    def d_hidden(self) -> int:
        """Hidden (and output) width $H$."""
        return int(self.w_h.shape[0])

    def step(self, x_t: ArrayLike, h: ArrayLike | None, check: bool = True) -> Array:
        r"""One update $h_t = \tanh(x_t W_x + h_{t-1} W_h + b)$; ``x_t (..., d_in)``, ``h (..., d_hidden)``.

        ``h`` None is the zero state. ``check=False`` skips the argument checks, for a caller
        that made them: ``__call__`` checks once, before its loop.
        """
        if check:
            x_t, h = _check_step(self, x_t, h)
        dt = x_t.dtype
        return np.tanh(x_t @ self.w_x.astype(dt, copy=False) + h @ self.w_h.astype(dt, copy=False) + self.b.astype(dt))

    def __call__(self, x: ArrayLike, h0: ArrayLike | None = None) -> tuple[Array, Array]:
        r"""Run over a sequence, one position after another.

        Parameters
        ----------
        x : array_like, shape (..., n, d_in)
            The inputs; leading dimensions are a batch.
        h0 : array_like, shape (..., d_hidden), optional
            Initial state; zeros by default.

        Returns
        -------
        outputs : numpy.ndarray, shape (..., n, d_hidden)
            $h_1, \dots, h_n$.
        h_n : numpy.ndarray, shape (..., d_hidden)
            The final state (equal to ``outputs[..., -1, :]`` when ``n > 0``).
        """
        x = _check_sequence(x, self.d_in)
        h = _check_state("h0", h0, x.shape[:-2], self.d_hidden, x.dtype)
        outputs = np.empty((*x.shape[:-1], self.d_hidden), dtype=x.dtype)
        for t in range(x.shape[-2]):  # the loop a transformer does not have: step t needs step t-1
            h = self.step(x[..., t, :], h, False)  # checked once, above
            outputs[..., t, :] = h
        return outputs, h


@dataclass
class LSTM:
    r"""A long short-term memory layer (Hochreiter and Schmidhuber 1997, with the forget gate of Gers et al. 2000).

    With $\sigma$ the logistic sigmoid and $\odot$ the elementwise product, each step computes
    four gates from the same pre-activation $z_t = x_t W_x + h_{t-1} W_h + b$, split in four
    blocks of width $H$ in the order input, forget, cell, output (as PyTorch):

    $$i_t = \sigma(z^i_t), \quad f_t = \sigma(z^f_t), \quad g_t = \tanh(z^g_t), \quad o_t = \sigma(z^o_t)$$
    $$c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)$$

    The cell state $c_t$ is the "conveyor belt": from $c_{t-1}$ to $c_t$ the gradient is only
    multiplied by $f_t$, so with a forget gate near 1 it survives many more steps than in
    a vanilla RNN. It still has to pass through every step in between.

    Attributes
    ----------
    w_x : numpy.ndarray, shape (d_in, 4 * d_hidden)
        Input weights for the gates $i, f, g, o$, side by side.
    w_h : numpy.ndarray, shape (d_hidden, 4 * d_hidden)
        Recurrent weights, same layout.
    b : numpy.ndarray, shape (4 * d_hidden,)
        Biases, same layout.
    """

    w_x: Array
    w_h: Array
    b: Array

    def __post_init__(self) -> None:
        self.w_x, self.w_h, self.b, _, _ = _check_weights(self.w_x, self.w_h, self.b, 4)

    @classmethod
    def init(
        cls,
        d_in: int,
        d_hidden: int,
        rng: np.random.Generator | None = None,
        *,
        forget_bias: float = 1.0,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> LSTM:
        r"""Weights and biases from $\mathcal{U}(-1/\sqrt{H}, 1/\sqrt{H})$ (PyTorch's default), plus ``forget_bias``.

        Adding 1 to the forget gate's bias (Jozefowicz et al. 2015; Keras' ``unit_forget_bias``)
        starts the layer remembering: $f_t \approx \sigma(1) \approx 0.73$. Larger values keep
        $f_t$ closer to 1 and the memory longer.
        """
        d_in, d_hidden, rng = _check_init(d_in, d_hidden, 4, rng, dtype)
        if isinstance(forget_bias, bool) or not isinstance(forget_bias, numbers.Real):
            raise TypeError(f"forget_bias must be a finite number; got {type(forget_bias).__name__} {forget_bias!r}")
        if not np.isfinite(forget_bias):
            raise ValueError(f"forget_bias must be a finite number; got {forget_bias!r}")
        bound = 1.0 / np.sqrt(d_hidden)
        b = _uniform(rng, (4 * d_hidden,), bound, dtype)
        b[d_hidden : 2 * d_hidden] += forget_bias
        return cls(
            _uniform(rng, (d_in, 4 * d_hidden), bound, dtype),
            _uniform(rng, (d_hidden, 4 * d_hidden), bound, dtype),
            b,
        )

    @property
    def d_in(self) -> int:
        """Input width."""
        return int(self.w_x.shape[0])

    @property
    def d_hidden(self) -> int:
        """Hidden (and output) width $H$."""
        return int(self.w_h.shape[0])

    def gates(self, x_t: ArrayLike, h: ArrayLike | None) -> tuple[Array, Array, Array, Array]:
        """The gates $i_t, f_t, g_t, o_t$ for input ``x_t (..., d_in)`` and previous output ``h (..., d_hidden)``."""
        return self._gates(*_check_step(self, x_t, h))

    def _gates(self, x_t: Array, h: Array) -> tuple[Array, Array, Array, Array]:
        dt = x_t.dtype
        z = x_t @ self.w_x.astype(dt, copy=False) + h @ self.w_h.astype(dt, copy=False) + self.b.astype(dt)
        z_i, z_f, z_g, z_o = np.split(z, 4, axis=-1)
        return _sigmoid(z_i), _sigmoid(z_f), np.tanh(z_g), _sigmoid(z_o)

    def step(self, x_t: ArrayLike, state: tuple[ArrayLike, ArrayLike], check: bool = True) -> tuple[Array, Array]:
        """One update: ``(h, c)`` at $t-1$ to ``(h, c)`` at $t$; every array ``(..., d_hidden)``.

        ``check=False`` skips the argument checks, for a caller that made them: ``__call__``
        checks once, before its loop.
        """
        if check:
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                got = type(state).__name__ + (f" of length {len(state)}" if isinstance(state, (tuple, list)) else "")
                raise TypeError(f"state must be a pair (h, c) of arrays (..., d_hidden); got {got}")
            x_t, h = _check_step(self, x_t, state[0], "state[0] (h)")
            state = (h, _check_state("state[1] (c)", state[1], x_t.shape[:-1], self.d_hidden, x_t.dtype, "x_t"))
        h, c = state
        i, f, g, o = self._gates(x_t, h)
        c = f * c + i * g
        return o * np.tanh(c), c

    def __call__(
        self,
        x: ArrayLike,
        h0: ArrayLike | None = None,
        c0: ArrayLike | None = None,
    ) -> tuple[Array, tuple[Array, Array]]:
        r"""Run over a sequence, one position after another.

        Parameters
        ----------
        x : array_like, shape (..., n, d_in)
            The inputs; leading dimensions are a batch.
        h0, c0 : array_like, shape (..., d_hidden), optional
            Initial output and cell state; zeros by default.

        Returns
        -------
        outputs : numpy.ndarray, shape (..., n, d_hidden)
            $h_1, \dots, h_n$.
        (h_n, c_n) : tuple of numpy.ndarray, each (..., d_hidden)
            The final output and cell state.
        """
        x = _check_sequence(x, self.d_in)
        lead = x.shape[:-2]
        state = (
            _check_state("h0", h0, lead, self.d_hidden, x.dtype),
            _check_state("c0", c0, lead, self.d_hidden, x.dtype),
        )
        outputs = np.empty((*x.shape[:-1], self.d_hidden), dtype=x.dtype)
        for t in range(x.shape[-2]):  # step t needs the state of step t-1
            state = self.step(x[..., t, :], state, False)  # checked once, above
            outputs[..., t, :] = state[0]
        return outputs, state
