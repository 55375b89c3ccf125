r"""How much of the last output's gradient reaches an input $k$ positions back.

Training a language model pushes the error at position $n$ back to every earlier input.
What arrives at input $x_{n-k}$ is the Jacobian

$$J_k = \frac{\partial y_n}{\partial x_{n-k}}$$

applied to the error. Its spectral norm $\lVert J_k \rVert_2$ (the largest factor by which
a change in $x_{n-k}$ can move $y_n$) measures how well the layer can learn a dependency
$k$ positions long. A recurrent layer reaches $x_{n-k}$ only through $k$ state updates,
whose Jacobians multiply; self-attention reaches every position in one step.

`input_jacobians` computes the Jacobians exactly (backpropagation written out by
hand for `RNN`, `LSTM` and
`MultiHeadAttention`); `finite_difference_jacobians` estimates them
for any layer by nudging each input, and serves as an independent check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, check_size
from llmarch.attention import MultiHeadAttention, softmax
from llmarch.recurrent import LSTM, RNN

__all__ = ["finite_difference_jacobians", "gradient_norms", "input_jacobians"]

Array = NDArray[np.floating[Any]]
Layer = RNN | LSTM | MultiHeadAttention


def _check_layer_input(layer: Any, x: ArrayLike) -> Array:
    if not isinstance(layer, RNN | LSTM | MultiHeadAttention):
        raise TypeError(f"layer must be an RNN, LSTM or MultiHeadAttention; got {type(layer).__name__}")
    d_in = layer.d_model if isinstance(layer, MultiHeadAttention) else layer.d_in
    x = as_float_array("x", x, ndim=2, layout="(n, d_in)").astype(np.float64)
    if x.shape[0] < 1 or x.shape[1] != d_in:
        raise ValueError(f"x must have shape (n, d_in) with n >= 1 and d_in = {d_in}; got {x.shape}")
    return x


def _rnn_jacobians(rnn: RNN, x: Array) -> Array:
    outputs, _ = rnn(x)
    w_x, w_h = rnn.w_x.astype(np.float64), rnn.w_h.astype(np.float64)
    grad_h = np.eye(rnn.d_hidden)  # d h_last / d h_t, starting at t = last
    jacobians = np.empty((x.shape[0], rnn.d_hidden, rnn.d_in))
    for t in range(x.shape[0] - 1, -1, -1):
        grad_a = grad_h * (1.0 - outputs[t] ** 2)  # through tanh: d h_last / d a_t
        jacobians[t] = grad_a @ w_x.T
        grad_h = grad_a @ w_h.T
    return jacobians


def _lstm_jacobians(lstm: LSTM, x: Array) -> Array:
    n, hidden = x.shape[0], lstm.d_hidden
    hs, cs, gates = [np.zeros(hidden)], [np.zeros(hidden)], []
    for t in range(n):  # forward, keeping what the backward pass needs
        i, f, g, o = lstm.gates(x[t], hs[-1])
        cs.append(f * cs[-1] + i * g)
        hs.append(o * np.tanh(cs[-1]))
        gates.append((i, f, g, o))
    w_x, w_h = lstm.w_x.astype(np.float64), lstm.w_h.astype(np.float64)
    grad_h, grad_c = np.eye(hidden), np.zeros((hidden, hidden))  # d h_last / d h_t and / d c_t
    jacobians = np.empty((n, hidden, lstm.d_in))
    for t in range(n - 1, -1, -1):
        i, f, g, o = gates[t]
        c, c_prev = cs[t + 1], cs[t]
        tanh_c = np.tanh(c)
        grad_c = grad_c + grad_h * (o * (1.0 - tanh_c**2))
        grad_z = np.concatenate(
            [
                grad_c * (g * i * (1.0 - i)),  # input gate
                grad_c * (c_prev * f * (1.0 - f)),  # forget gate
                grad_c * (i * (1.0 - g**2)),  # cell candidate
                grad_h * (tanh_c * o * (1.0 - o)),  # output gate
            ],
            axis=1,
        )
        jacobians[t] = grad_z @ w_x.T
        grad_h = grad_z @ w_h.T
        grad_c = grad_c * f
    return jacobians


def _attention_jacobians(mha: MultiHeadAttention, x: Array) -> Array:
    d, d_head = mha.d_model, mha.d_head
    weights = {name: getattr(mha, name).astype(np.float64) for name in ("w_q", "w_k", "w_v", "w_o")}
    biases = {name: getattr(mha, name).astype(np.float64) for name in ("b_q", "b_k", "b_v")}
    jacobians = np.zeros((x.shape[0], d, d))
    for head in range(mha.n_heads):
        cols = slice(head * d_head, (head + 1) * d_head)
        w_q, w_k, w_v = (weights[w][:, cols] for w in ("w_q", "w_k", "w_v"))
        w_o = weights["w_o"][cols, :]
        q = x[-1] @ w_q + biases["b_q"][cols]
        k = x @ w_k + biases["b_k"][cols]
        v = x @ w_v + biases["b_v"][cols]
        a = softmax(k @ q / np.sqrt(d_head))  # the last query's weights over all n keys
        out = a @ v
        centred = a[:, None] * (v - out)  # d out / d score_j = a_j (v_j - out)
        # d out / d x_j: through v_j, and through score_j via k_j.
        grad_out = a[:, None, None] * w_v.T[None] + centred[:, :, None] * (w_k @ q)[None, None, :] / np.sqrt(d_head)
        # The last position's own input also moves the query, and with it every score.
        grad_out[-1] += centred.T @ (k @ w_q.T) / np.sqrt(d_head)
        jacobians += np.einsum("ke,jkd->jed", w_o, grad_out)
    return jacobians


def input_jacobians(layer: Layer, x: ArrayLike) -> Array:
    r"""Exact Jacobians of the layer's last output with respect to each input position.

    $$J[t] = \frac{\partial y_{n}}{\partial x_{t}}, \qquad t = 1, \dots, n$$

    (rows of ``J[t]`` index the output features, columns the input features). For the
    recurrent layers this is backpropagation through time; for multi-head self-attention
    it differentiates $y_n = \sum_h \mathrm{softmax}(K_h q_{h,n} / \sqrt{d_h})^\top V_h W^O_h$
    through the values, the keys and (at $t = n$) the query. The last position may attend
    to every position, so a causal mask would change nothing here.

    Parameters
    ----------
    layer : RNN, LSTM or MultiHeadAttention
        For attention, self-attention over ``x`` (no mask).
    x : array_like, shape (n, d_in)
        One sequence; computed in float64.

    Returns
    -------
    numpy.ndarray, shape (n, d_out, d_in)
        ``J[t]``; ``d_out`` is ``d_hidden`` (recurrent) or ``d_model`` (attention).
    """
    x = _check_layer_input(layer, x)
    if isinstance(layer, RNN):
        return _rnn_jacobians(layer, x)
    if isinstance(layer, LSTM):
        return _lstm_jacobians(layer, x)
    return _attention_jacobians(layer, x)


def finite_difference_jacobians(
    f: Callable[[Array], ArrayLike],
    x: ArrayLike,
    *,
    eps: float = 1e-6,
    chunk: int = 256,
) -> Array:
    r"""Jacobians of ``f``'s last output row with respect to each input row, by central differences.

    $$J[t]_{:,j} \approx \frac{f(x + \varepsilon e_{tj})_n - f(x - \varepsilon e_{tj})_n}{2\varepsilon}$$

    All $2 n d_\text{in}$ nudged copies of ``x`` go through ``f`` as one batch (in pieces of
    ``chunk``), so ``f`` must accept a leading batch dimension, as every layer here does.
    Accurate to about ``1e-8`` relative; a Jacobian far smaller than that (a long-range
    RNN gradient) is lost in rounding, which is why `input_jacobians` exists.

    Parameters
    ----------
    f : callable
        Maps ``(batch, n, d_in)`` to ``(batch, n, d_out)``.
    x : array_like, shape (n, d_in)
        The point to differentiate at (float64).
    eps : float, default 1e-6
        Step size $\varepsilon$.
    chunk : int, default 256
        Nudged copies per call of ``f``.

    Returns
    -------
    numpy.ndarray, shape (n, d_out, d_in)
    """
    if not callable(f):
        raise TypeError(f"f must be callable; got {type(f).__name__}")
    x = as_float_array("x", x, ndim=2, layout="(n, d_in)").astype(np.float64)
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive number; got {eps!r}")
    chunk = check_size("chunk", chunk, minimum=1)
    n, d_in = x.shape
    steps = np.zeros((n * d_in, n, d_in))
    steps.reshape(n * d_in, n * d_in)[np.arange(n * d_in), np.arange(n * d_in)] = eps
    nudged = np.concatenate([x + steps, x - steps])
    last = []
    for start in range(0, len(nudged), chunk):
        out = as_float_array("f(x)", f(nudged[start : start + chunk]), ndim=3, layout="(batch, n, d_out)")
        last.append(out[:, -1, :])
    plus, minus = np.split(np.concatenate(last), 2)
    # plus[t * d_in + j] is the output after nudging x[t, j].
    return ((plus - minus) / (2 * eps)).reshape(n, d_in, -1).transpose(0, 2, 1)


def gradient_norms(layer: Layer, x: ArrayLike) -> Array:
    r"""How strongly the last output depends on the input $k$ positions back, for $k = 0, \dots, n-1$.

    $$g_k = \left\lVert \frac{\partial y_n}{\partial x_{n-k}} \right\rVert_2$$

    the spectral norm of the exact Jacobian from `input_jacobians`: an error signal
    of size 1 at $y_n$ reaches $x_{n-k}$ with size at most $g_k$.

    Parameters
    ----------
    layer : RNN, LSTM or MultiHeadAttention
    x : array_like, shape (n, d_in)

    Returns
    -------
    numpy.ndarray, shape (n,)
        ``g[k]``, the distance ``k = 0`` being the last position itself.
    """
    jacobians = input_jacobians(layer, x)
    return np.linalg.norm(jacobians[::-1], ord=2, axis=(1, 2))
