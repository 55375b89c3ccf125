"""Table 1 of Vaswani et al. (2017), rebuilt by counting what our own layers do."""

import numpy as np

from llmarch import RNN, Conv1D, MultiHeadAttention, SlidingWindowAttention
from llmarch.complexity import (
    growth_order,
    max_path_length,
    multiply_adds,
    sequential_steps,
)

rng = np.random.default_rng(0)
n, d, k, r = 64, 32, 3, 8  # length, width, kernel size, window


def mixing(layer, n):
    """Multiply-adds that relate positions to each other: the part Table 1 counts."""
    return multiply_adds(layer, n)["mixing"]


def windowed(d, r):
    return SlidingWindowAttention(MultiHeadAttention.init(d, 4, rng), window=r)


# Each layer type's cost as a function of its sizes, the sizes it has besides n and
# d, and one layer of each type to run.
conv, restricted = f"convolutional, k={k}", f"restricted, r={r}"
costs = {
    "self-attention": lambda n, d: mixing(MultiHeadAttention.init(d, 4, rng), n),
    "recurrent": lambda n, d: mixing(RNN.init(d, d, rng), n),
    conv: lambda k, n, d: mixing(Conv1D.init(k, d, d, rng), n),
    restricted: lambda r, n, d: mixing(windowed(d, r), n),
}
sizes = {"self-attention": {}, "recurrent": {}, conv: {"k": k}, restricted: {"r": r}}
layers = {
    "self-attention": MultiHeadAttention.init(d, 4, rng),
    "recurrent": RNN.init(d, d, rng),
    conv: Conv1D.init(k, d, d, rng),
    restricted: windowed(d, r),
}

columns = "{:<20} {:<15} {:<15} {}"
heading = ("layer type", "cost per layer", "sequential ops", "max path length")
print(columns.format(*heading))
#> layer type           cost per layer  sequential ops  max path length
lengths = f"n={n} / n={2 * n}"
print(columns.format("", "(order)", lengths, lengths))
#>                      (order)         n=64 / n=128    n=64 / n=128
for name, layer in layers.items():
    # Double each size in turn and watch the count: that gives the order.
    order = growth_order(costs[name], **sizes[name], n=n, d=d)
    steps = f"{sequential_steps(layer, n)} / {sequential_steps(layer, 2 * n)}"
    path = f"{max_path_length(layer, n)} / {max_path_length(layer, 2 * n)}"
    print(columns.format(name, order, steps, path))
    #> self-attention       n²·d            1 / 1           1 / 1
    #> recurrent            n·d²            64 / 128        63 / 127
    #> convolutional, k=3   k·n·d²          1 / 1           32 / 64
    #> restricted, r=8      r·n·d           1 / 1           9 / 19
