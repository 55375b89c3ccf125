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
from llmarch.embedding import check_token_ids
from llmarch.training import cross_entropy

__all__ = ["LSTM", "RNN", "RecurrentLM"]

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


def _check_backward(
    layer: RNN | LSTM, x: ArrayLike, outputs: ArrayLike, grad_outputs: ArrayLike, **states: ArrayLike | None
) -> tuple[Array, Array, Array, list[Array]]:
    """The arguments of ``backward``, checked: ``x (..., n, d_in)``, ``outputs`` and ``grad_outputs (..., n, H)``."""
    x = _check_sequence(x, layer.d_in)
    shape = (*x.shape[:-1], layer.d_hidden)
    checked = []
    for name, value in (("outputs", outputs), ("grad_outputs", grad_outputs)):
        array = as_float_array(name, value, layout="(..., n, d_hidden)")
        if array.shape != shape:
            raise ValueError(
                f"{name} must have shape (..., n, d_hidden) = {shape} (that of x, {x.shape}); got {array.shape}"
            )
        checked.append(_finite(name, array).astype(x.dtype, copy=False))
    initial = [_check_state(name, value, x.shape[:-2], layer.d_hidden, x.dtype) for name, value in states.items()]
    return x, checked[0], checked[1], initial


def _initial(state: Array | None, outputs: Array) -> Array:
    """The initial state ``(..., d_hidden)`` as a length-1 sequence ``(..., 1, d_hidden)``; zeros if None."""
    if state is None:
        return np.zeros_like(outputs[..., :1, :])
    return np.asarray(state, dtype=outputs.dtype)[..., None, :]


def _time_major(a: Array) -> Array:
    """``(..., n, d)`` as a contiguous ``(n, ..., d)``, so that each step of a loop over time reads one block."""
    return np.ascontiguousarray(np.moveaxis(a, -2, 0))


def _flat(a: Array) -> Array:
    """``(..., d)`` as ``(rows, d)``: every position of every sequence one row."""
    return a.reshape(-1, a.shape[-1])


def _cast_like(grads: dict[str, Array], layer: RNN | LSTM) -> dict[str, Array]:
    return {k: g.astype(getattr(layer, k).dtype, copy=False) for k, g in grads.items()}


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

    def backward(
        self, x: ArrayLike, outputs: ArrayLike, grad_outputs: ArrayLike, h0: ArrayLike | None = None, check: bool = True
    ) -> tuple[Array, dict[str, Array]]:
        r"""Backpropagation through time: gradients of a loss $L$ from $\partial L / \partial h_t$ at every $t$.

        With $a_t = x_t W_x + h_{t-1} W_h + b$ and $\delta_t = \partial L / \partial a_t$, walking
        back from $t = n$ (where $\delta_{n+1} = 0$):

        $$\delta_t = \Big(\frac{\partial L}{\partial h_t} + \delta_{t+1} W_h^\top\Big) \odot (1 - h_t^2)$$

        $$\frac{\partial L}{\partial W_x} = \sum_t x_t^\top \delta_t, \quad
          \frac{\partial L}{\partial W_h} = \sum_t h_{t-1}^\top \delta_t, \quad
          \frac{\partial L}{\partial b} = \sum_t \delta_t, \quad
          \frac{\partial L}{\partial x_t} = \delta_t W_x^\top$$

        The first term of $\delta_t$ is what position $t$'s own output contributes; the second
        is everything later positions send back through $h_t$. Only the $\delta$ recursion runs
        step by step; each weight gradient is then one matrix product over all positions.

        Parameters
        ----------
        x : numpy.ndarray, shape (..., n, d_in)
            The inputs of the forward pass.
        outputs : numpy.ndarray, shape (..., n, d_hidden)
            Its outputs $h_1, \dots, h_n$ (what ``self(x, h0)`` returned first).
        grad_outputs : numpy.ndarray, shape (..., n, d_hidden)
            $\partial L / \partial h_t$ from the layers above (zeros where $h_t$ is not used).
        h0 : numpy.ndarray, shape (..., d_hidden), optional
            The initial state of the forward pass; zeros by default.
        check : bool
            ``False`` skips the argument checks, for a caller that made them.

        Returns
        -------
        grad_x : numpy.ndarray, shape (..., n, d_in)
        grads : dict
            ``{"w_x", "w_h", "b"}``, shaped as the weights.
        """
        if check:
            x, outputs, grad_outputs, (h0,) = _check_backward(self, x, outputs, grad_outputs, h0=h0)
        w_x, w_h = self.w_x.astype(x.dtype, copy=False), self.w_h.astype(x.dtype, copy=False)
        h_prev = np.concatenate([_initial(h0, outputs), outputs[..., :-1, :]], axis=-2)
        local, upstream = _time_major(1.0 - outputs**2), _time_major(grad_outputs)  # tanh' for every t at once
        delta = np.empty_like(local)
        carry = np.zeros_like(local[0])  # delta_{t+1} W_h^T
        for t in range(len(local) - 1, -1, -1):  # backward in time, one step after another
            delta[t] = (upstream[t] + carry) * local[t]
            carry = delta[t] @ w_h.T
        delta = np.moveaxis(delta, 0, -2)
        grads = {"w_x": _flat(x).T @ _flat(delta), "w_h": _flat(h_prev).T @ _flat(delta), "b": _flat(delta).sum(0)}
        return delta @ w_x.T, _cast_like(grads, self)


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

    def backward(
        self,
        x: ArrayLike,
        outputs: ArrayLike,
        grad_outputs: ArrayLike,
        h0: ArrayLike | None = None,
        c0: ArrayLike | None = None,
        check: bool = True,
    ) -> tuple[Array, dict[str, Array]]:
        r"""Backpropagation through time: gradients of a loss $L$ from $\partial L / \partial h_t$ at every $t$.

        The gates are recomputed from ``x`` and ``outputs`` (all positions in one product, since
        every $h_{t-1}$ is known), the cell states by their recursion. Then, walking back from
        $t = n$ with $\bar h_t = \partial L/\partial h_t$ and $\bar c_t = \partial L/\partial c_t$
        (both carried from $t + 1$, zero after the end):

        $$\bar h_t = \frac{\partial L}{\partial h_t} + \bar z_{t+1} W_h^\top, \qquad
          \bar c_t = \bar h_t \odot o_t \odot (1 - \tanh^2 c_t) + \bar c_{t+1} \odot f_{t+1}$$

        $$\bar z^i_t = \bar c_t \odot g_t \odot i_t (1 - i_t), \quad
          \bar z^f_t = \bar c_t \odot c_{t-1} \odot f_t (1 - f_t), \quad
          \bar z^g_t = \bar c_t \odot i_t \odot (1 - g_t^2), \quad
          \bar z^o_t = \bar h_t \odot \tanh c_t \odot o_t (1 - o_t)$$

        and, with $\bar z_t = [\bar z^i_t, \bar z^f_t, \bar z^g_t, \bar z^o_t]$ as for the RNN,
        $\partial L/\partial W_x = \sum_t x_t^\top \bar z_t$,
        $\partial L/\partial W_h = \sum_t h_{t-1}^\top \bar z_t$,
        $\partial L/\partial b = \sum_t \bar z_t$, $\partial L/\partial x_t = \bar z_t W_x^\top$.
        The term $\bar c_{t+1} \odot f_{t+1}$ is the conveyor belt: from one cell state to the
        previous the gradient is only multiplied by the forget gate.

        Parameters
        ----------
        x, outputs, grad_outputs
            As for [`RNN.backward`][llmarch.RNN.backward].
        h0 : numpy.ndarray, shape (..., d_hidden), optional
            As for [`RNN.backward`][llmarch.RNN.backward]: the initial hidden state, zeros by default.
        c0 : numpy.ndarray, shape (..., d_hidden), optional
            The initial cell state of the forward pass; zeros by default.
        check : bool
            ``False`` skips the argument checks, for a caller that made them.

        Returns
        -------
        grad_x : numpy.ndarray, shape (..., n, d_in)
        grads : dict
            ``{"w_x", "w_h", "b"}``, shaped as the weights.
        """
        if check:
            x, outputs, grad_outputs, (h0, c0) = _check_backward(self, x, outputs, grad_outputs, h0=h0, c0=c0)
        dt, hidden = x.dtype, self.d_hidden
        w_x, w_h = self.w_x.astype(dt, copy=False), self.w_h.astype(dt, copy=False)
        h_prev = np.concatenate([_initial(h0, outputs), outputs[..., :-1, :]], axis=-2)
        z = _time_major(x @ w_x + h_prev @ w_h + self.b.astype(dt))  # (n, ..., 4H), time first
        i, f = _sigmoid(z[..., :hidden]), _sigmoid(z[..., hidden : 2 * hidden])
        g, o = np.tanh(z[..., 2 * hidden : 3 * hidden]), _sigmoid(z[..., 3 * hidden :])
        c = np.empty_like(i)
        c_t = _time_major(_initial(c0, outputs))[0]
        c_prev = np.empty_like(c)
        for t in range(len(c)):  # the cell states, as in the forward pass
            c_prev[t], c[t] = c_t, f[t] * c_t + i[t] * g[t]
            c_t = c[t]
        tanh_c = np.tanh(c)
        # What each gate passes back per unit of grad_c (i, f, g) or grad_h (o), for every t at once:
        through_c = np.stack([g * i * (1.0 - i), c_prev * f * (1.0 - f), i * (1.0 - g**2)], axis=-2)
        through_o, h_to_c = tanh_c * o * (1.0 - o), o * (1.0 - tanh_c**2)
        upstream = _time_major(grad_outputs)
        grad_z = np.empty((*c.shape[:-1], 4, hidden), dtype=dt)
        carry_h, carry_c = np.zeros_like(c_t), np.zeros_like(c_t)
        for t in range(len(c) - 1, -1, -1):  # backward in time
            grad_h = upstream[t] + carry_h
            grad_c = grad_h * h_to_c[t] + carry_c
            grad_z[t, ..., :3, :] = grad_c[..., None, :] * through_c[t]
            grad_z[t, ..., 3, :] = grad_h * through_o[t]
            carry_h, carry_c = grad_z[t].reshape(*c_t.shape[:-1], 4 * hidden) @ w_h.T, grad_c * f[t]
        grad_z = np.moveaxis(grad_z.reshape(*c.shape[:-1], 4 * hidden), 0, -2)
        grads = {"w_x": _flat(x).T @ _flat(grad_z), "w_h": _flat(h_prev).T @ _flat(grad_z), "b": _flat(grad_z).sum(0)}
        return grad_z @ w_x.T, _cast_like(grads, self)


@dataclass
class RecurrentLM:
    r"""A recurrent language model: token embedding, an [`RNN`][llmarch.RNN] or [`LSTM`][llmarch.LSTM], a linear output.

    $$e_t = E[\,y_t\,], \qquad h_t = \text{layer}(e_t, h_{t-1}), \qquad z_t = h_t W_\text{out} + b_\text{out}$$

    The scores $z_t$ at position $t$ judge the next token (a language model) or, read at the
    last position only, the class of the whole sequence.

    Attributes
    ----------
    wte : numpy.ndarray, shape (vocab_size, d_model)
        Token embedding $E$.
    rnn : RNN or LSTM
        The recurrent layer, ``d_model`` in, ``d_hidden`` out.
    w_out : numpy.ndarray, shape (d_hidden, vocab_size)
        Output weights.
    b_out : numpy.ndarray, shape (vocab_size,)
        Output bias.
    """

    wte: Array
    rnn: RNN | LSTM
    w_out: Array
    b_out: Array

    def __post_init__(self) -> None:
        self.wte = as_float_array("wte", self.wte, ndim=2, layout="(vocab_size, d_model)")
        self.w_out = as_float_array("w_out", self.w_out, ndim=2, layout="(d_hidden, vocab_size)")
        self.b_out = as_float_array("b_out", self.b_out, ndim=1, layout="(vocab_size,)")
        vocab_size, d_model = self.wte.shape
        if not isinstance(self.rnn, RNN | LSTM):
            raise TypeError(f"rnn must be an RNN or LSTM; got {type(self.rnn).__name__}")
        if self.rnn.d_in != d_model:
            raise ValueError(f"rnn: d_in must be d_model = {d_model} (the width of wte); got {self.rnn.d_in}")
        if self.w_out.shape != (self.rnn.d_hidden, vocab_size):
            raise ValueError(
                f"w_out must have shape (d_hidden, vocab_size) = {(self.rnn.d_hidden, vocab_size)}; "
                f"got {self.w_out.shape}"
            )
        if self.b_out.shape != (vocab_size,):
            raise ValueError(f"b_out must have shape (vocab_size,) = ({vocab_size},); got {self.b_out.shape}")

    @classmethod
    def init(
        cls,
        kind: str,
        vocab_size: int,
        d_model: int,
        d_hidden: int,
        rng: np.random.Generator | None = None,
        *,
        dtype: type[np.floating[Any]] = np.float32,
    ) -> RecurrentLM:
        r"""PyTorch's default initialisation: $E \sim \mathcal{N}(0, 1)$, the rest $\mathcal{U}(\pm 1/\sqrt{H})$.

        ``kind`` is ``"rnn"`` or ``"lstm"``.
        """
        if kind not in ("rnn", "lstm"):
            raise ValueError(f"kind must be 'rnn' or 'lstm'; got {kind!r}")
        vocab_size = check_size("vocab_size", vocab_size, minimum=1)
        rng = np.random.default_rng() if rng is None else rng
        layer = (RNN if kind == "rnn" else LSTM).init(d_model, d_hidden, rng, dtype=dtype)
        bound = 1.0 / np.sqrt(d_hidden)
        return cls(
            rng.standard_normal((vocab_size, d_model)).astype(dtype),
            layer,
            _uniform(rng, (d_hidden, vocab_size), bound, dtype),
            _uniform(rng, (vocab_size,), bound, dtype),
        )

    @property
    def vocab_size(self) -> int:
        """Number of token ids $V$."""
        return int(self.wte.shape[0])

    def parameters(self) -> dict[str, Array]:
        """Every weight by name: ``wte``, ``rnn.w_x``, ``rnn.w_h``, ``rnn.b``, ``w_out``, ``b_out`` (not copies)."""
        return {
            "wte": self.wte,
            "rnn.w_x": self.rnn.w_x,
            "rnn.w_h": self.rnn.w_h,
            "rnn.b": self.rnn.b,
            "w_out": self.w_out,
            "b_out": self.b_out,
        }

    @classmethod
    def from_parameters(cls, params: dict[str, ArrayLike]) -> RecurrentLM:
        """The model with these weights (the names of [`parameters`][llmarch.RecurrentLM.parameters]).

        The layer is an LSTM when ``rnn.w_h`` has shape ``(H, 4 H)``, an RNN when ``(H, H)``.
        """
        expected = {"wte", "rnn.w_x", "rnn.w_h", "rnn.b", "w_out", "b_out"}
        if set(params) != expected:
            missing, extra = sorted(expected - set(params)), sorted(set(params) - expected)
            raise KeyError(f"params must have the keys {sorted(expected)}; missing {missing}, unexpected {extra}")
        w_h = np.asarray(params["rnn.w_h"])
        layer_cls = LSTM if w_h.ndim == 2 and w_h.shape[1] == 4 * w_h.shape[0] else RNN
        layer = layer_cls(params["rnn.w_x"], w_h, params["rnn.b"])
        return cls(params["wte"], layer, params["w_out"], params["b_out"])

    def _check(self, tokens: ArrayLike, targets: ArrayLike | None = None) -> tuple[NDArray[np.int64], Any]:
        ids = check_token_ids("tokens", tokens, self.vocab_size)
        if ids.ndim < 1 or ids.shape[-1] < 1:
            raise ValueError(f"tokens must have shape (..., n) with n >= 1; got shape {ids.shape}")
        if targets is None:
            return ids, None
        labels = check_token_ids("targets", targets, self.vocab_size)
        if labels.shape not in (ids.shape, ids.shape[:-1]):
            raise ValueError(
                f"targets must have the shape of tokens {ids.shape} (a next-token loss at every position) "
                f"or {ids.shape[:-1]} (one class per sequence, read at its last position); got shape {labels.shape}"
            )
        return ids, labels

    def logits(self, tokens: ArrayLike) -> Array:
        """Scores $z_t$ after every prefix: ``tokens (..., n)`` -> ``(..., n, vocab_size)``."""
        ids, _ = self._check(tokens)
        outputs, _ = self.rnn(self.wte[ids])
        return outputs @ self.w_out + self.b_out

    def loss_and_grads(self, tokens: ArrayLike, targets: ArrayLike) -> tuple[float, dict[str, Array]]:
        r"""Mean cross-entropy and its gradient for every weight (named as in ``parameters()``).

        ``targets`` of the shape of ``tokens`` ``(..., n)`` give a next-token loss at every
        position; of shape ``(...)`` (one per sequence), a classification loss on the scores at
        the last position. Backward, layer by layer (with $\bar a = \partial L/\partial a$):

        $$\bar W_\text{out} = \sum_t h_t^\top \bar z_t, \quad \bar b_\text{out} = \sum_t \bar z_t, \quad
          \bar h_t = \bar z_t W_\text{out}^\top, \quad
          \bar E_v = \sum_{t:\, y_t = v} \bar e_t$$

        with $\bar z$ from [`cross_entropy`][llmarch.training.cross_entropy], $\bar e_t$ from
        the layer's backward pass through time, and the embedding's gradient a scatter-add:
        row $v$ of $E$ collects the gradient of every position that looked it up.
        """
        ids, labels = self._check(tokens, targets)
        x = self.wte[ids]
        outputs, _ = self.rnn(x)
        every_position = labels.shape == ids.shape
        hidden = outputs if every_position else outputs[..., -1, :]
        loss, grad_z = cross_entropy(hidden @ self.w_out + self.b_out, labels)
        grad_hidden = grad_z @ self.w_out.T
        if every_position:
            grad_outputs = grad_hidden
        else:
            grad_outputs = np.zeros_like(outputs)
            grad_outputs[..., -1, :] = grad_hidden
        grad_x, grad_rnn = self.rnn.backward(x, outputs, grad_outputs, check=False)
        grad_wte = np.zeros_like(self.wte)
        np.add.at(grad_wte, ids.reshape(-1), _flat(grad_x))
        grads = {"wte": grad_wte, **{f"rnn.{k}": g for k, g in grad_rnn.items()}}
        grads |= {"w_out": _flat(hidden).T @ _flat(grad_z), "b_out": _flat(grad_z).sum(0)}
        return loss, grads
