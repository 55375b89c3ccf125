r"""What a layer costs, counted from the layer itself: the columns of Vaswani et al.'s Table 1.

Vaswani et al. (2017, Table 1) compare four ways to relate the $n$ positions of a
sequence of $d$-dimensional vectors:

- **complexity per layer**: multiply-adds, here counted product by product from the
  layer's shapes (`multiply_adds`);
- **sequential operations**: steps that must run one after another, here counted by
  running the layer (`sequential_steps`);
- **maximum path length**: how many layers (or steps) a signal needs to travel between
  the two positions furthest apart, here measured from which outputs move when an input
  moves (`max_path_length`).

`growth_order` turns counts into the orders of the paper's table by doubling one
size at a time.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from llmarch._validate import check_size
from llmarch.attention import MultiHeadAttention
from llmarch.convolution import Conv1D
from llmarch.recurrent import LSTM, RNN
from llmarch.sliding_window import SlidingWindowAttention

__all__ = ["dependence", "growth_order", "max_path_length", "multiply_adds", "sequential_steps"]

Layer = RNN | LSTM | MultiHeadAttention | SlidingWindowAttention | Conv1D
_LAYERS = (RNN, LSTM, MultiHeadAttention, SlidingWindowAttention, Conv1D)


def _check_layer(layer: Any) -> None:
    if not isinstance(layer, _LAYERS):
        names = ", ".join(cls.__name__ for cls in _LAYERS)
        raise TypeError(f"layer must be one of {names}; got {type(layer).__name__}")


def multiply_adds(layer: Layer, n: int) -> dict[str, int]:
    r"""Multiply-adds of the matrix products one forward pass over $n$ positions performs.

    Counted from the layer's shapes, product by product, as its ``__call__`` computes them
    (one sequence; elementwise work such as biases, activations and the softmax is of
    lower order and not counted). The count is split in two:

    - ``"projections"``: products applied to each position on its own;
    - ``"mixing"``: products that combine positions, the part Vaswani et al.'s Table 1
      compares.

    | layer | projections | mixing |
    | --- | --- | --- |
    | ``MultiHeadAttention`` | $4 n d^2$ ($W^Q, W^K, W^V, W^O$) | $2 n^2 d$ ($QK^\top$ and weights $\times V$) |
    | ``SlidingWindowAttention`` | $4 n d^2$ | $2 n r d$ |
    | ``RNN`` | $n\, d_\text{in} H$ ($x_t W_x$) | $n H^2$ ($h_{t-1} W_h$) |
    | ``LSTM`` | $4 n\, d_\text{in} H$ | $4 n H^2$ |
    | ``Conv1D`` | 0 | $n k\, d_\text{in} d_\text{out}$ |

    Parameters
    ----------
    layer : RNN, LSTM, MultiHeadAttention, SlidingWindowAttention or Conv1D
    n : int
        Sequence length.

    Returns
    -------
    dict of str to int
        ``"projections"``, ``"mixing"`` and their sum ``"total"``.
    """
    _check_layer(layer)
    n = check_size("n", n)
    if isinstance(layer, RNN | LSTM):
        gates = 4 if isinstance(layer, LSTM) else 1
        projections = n * layer.d_in * gates * layer.d_hidden
        mixing = n * layer.d_hidden * gates * layer.d_hidden
    elif isinstance(layer, MultiHeadAttention):
        d = layer.d_model
        projections = 4 * n * d * d
        mixing = 2 * n * n * d  # h heads of n x n scores over d/h features, and the weighted sums
    elif isinstance(layer, SlidingWindowAttention):
        d = layer.d_model
        projections = 4 * n * d * d
        mixing = 2 * n * layer.window * d  # r scores per query, r values per output
    else:
        projections = 0
        mixing = n * layer.kernel_size * layer.d_in * layer.d_out
    return {"projections": projections, "mixing": mixing, "total": projections + mixing}


def _input_width(layer: Layer) -> int:
    return layer.d_model if isinstance(layer, MultiHeadAttention | SlidingWindowAttention) else layer.d_in


def sequential_steps(layer: Layer, n: int) -> int:
    """Steps a forward pass over $n$ positions must take one after another.

    A recurrent layer is run on $n$ positions while its ``step`` calls are counted: each
    needs the state the previous one returned, so none can start early. Attention and
    convolution have no such chain: every position is computed by the same few
    whole-sequence products, whose number does not depend on $n$, so the answer is 1.

    Parameters
    ----------
    layer : RNN, LSTM, MultiHeadAttention, SlidingWindowAttention or Conv1D
    n : int
        Sequence length, at least 1.

    Returns
    -------
    int
    """
    _check_layer(layer)
    n = check_size("n", n, minimum=1)
    if not isinstance(layer, RNN | LSTM):
        return 1
    counted = copy.copy(layer)
    calls = 0
    step = counted.step

    def counting_step(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return step(*args)

    setattr(counted, "step", counting_step)  # noqa: B010 - shadow the method on this copy only
    counted(np.zeros((n, layer.d_in)))
    return calls


def dependence(layer: Layer, n: int) -> NDArray[np.bool_]:
    r"""Which positions one application of the layer links: ``D[i, j]`` if position $j$ feeds position $i$ directly.

    For attention and convolution it is measured: input position $j$ of a random sequence
    is moved, and ``D[i, j]`` is set where output $i$ moves. For a recurrent layer the unit
    of work is one step, and step $t$ reads only its own input and the state of step
    $t-1$: ``D`` is the diagonal and the line below it.

    Returns
    -------
    numpy.ndarray of bool, shape (n, n)
    """
    _check_layer(layer)
    n = check_size("n", n, minimum=1)
    if isinstance(layer, RNN | LSTM):
        return np.eye(n, dtype=bool) | np.eye(n, k=-1, dtype=bool)
    d = _input_width(layer)
    x = np.random.default_rng(0).standard_normal((n, d))
    base = layer(x)
    moved = np.empty((n, n))  # moved[j, i]: how far output i moves when input j moves
    chunk = max(1, 2**22 // (n * n * d))  # keep attention's (chunk, h, n, n) scores small
    for start in range(0, n, chunk):
        js = np.arange(start, min(n, start + chunk))
        nudged = np.repeat(x[None], len(js), axis=0)
        nudged[np.arange(len(js)), js] += 1.0
        moved[js] = np.abs(layer(nudged) - base).max(axis=-1)
    return (moved > 1e-9 * moved.max()).T


def max_path_length(layer: Layer, n: int) -> int:
    r"""The most layers (or recurrent steps) a signal needs between any two linked positions.

    The shortest path from position $j$ to position $i$ through the graph of
    `dependence`, maximised over all pairs $(j, i)$ that are linked at all. Found by
    squaring the reachability matrix (paths of at most $1, 2, 4, \dots$ hops), then
    binary search.

    Returns
    -------
    int
        1 for full self-attention; $n - 1$ for a recurrent layer; about $n / (k-1)$ for a
        convolution of width $k$ and $n / (r-1)$ for a window of $r$.
    """
    hop = dependence(layer, n) | np.eye(n, dtype=bool)

    def compose(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> NDArray[np.bool_]:
        return (a.astype(np.float32) @ b.astype(np.float32)) > 0

    powers = [hop]  # powers[i]: reachable in at most 2**i hops
    while not np.array_equal(nxt := compose(powers[-1], powers[-1]), powers[-1]):
        powers.append(nxt)
    closure = powers[-1]
    reached, hops = np.eye(n, dtype=bool), 0
    for i in range(len(powers) - 1, -1, -1):
        candidate = compose(powers[i], reached)
        if not np.array_equal(candidate, closure):
            reached, hops = candidate, hops + 2**i
    return hops + 1


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def growth_order(cost: Callable[..., float], **sizes: int) -> str:
    """The monomial a cost grows like, found by doubling each size in turn.

    ``growth_order(f, n=64, d=64)`` evaluates ``f(n=64, d=64)``, ``f(n=128, d=64)`` and
    ``f(n=64, d=128)``; if doubling ``n`` multiplies the cost by 4 and doubling ``d`` by 2,
    it returns ``"n²·d"``. Sizes appear in the order given; a cost that does not grow
    gives ``"1"``.

    Raises
    ------
    ValueError
        If doubling a size does not multiply the cost by (close to) a power of two, that
        is, the cost is not a monomial in the sizes near the point given.
    """
    if not sizes:
        raise ValueError("sizes: give at least one size to double, e.g. n=64")
    base = float(cost(**sizes))
    if not base > 0:
        raise ValueError(f"cost must be positive at {sizes}; got {base}")
    parts = []
    for name, value in sizes.items():
        exponent = math.log2(float(cost(**{**sizes, name: 2 * value})) / base)
        power = round(exponent)
        if abs(exponent - power) > 0.05:
            raise ValueError(f"cost is not a power of {name} near {sizes}: doubling it multiplies by {2**exponent:.3g}")
        if power:
            parts.append(name if power == 1 else f"{name}{str(power).translate(_SUPERSCRIPTS)}")
    return "·".join(parts) or "1"
