"""Table 1 of Vaswani et al. (2017), rebuilt by counting what our own layers do."""

import numpy as np

from llmarch import RNN, Conv1D, MultiHeadAttention, SlidingWindowAttention
from llmarch.complexity import growth_order, max_path_length, multiply_adds, sequential_steps

rng = np.random.default_rng(0)
n, d, k, r = 64, 32, 3, 8  # length, width, kernel size, window


def mixing(layer, n):
    """Multiply-adds that relate positions to each other: the part Table 1 counts."""
    return multiply_adds(layer, n)["mixing"]


# Each layer type's cost as a function of its sizes, and a layer of each type to run.
costs = {
    "self-attention": lambda n, d: mixing(MultiHeadAttention.init(d, 4, rng), n),
    "recurrent": lambda n, d: mixing(RNN.init(d, d, rng), n),
    f"convolutional, k={k}": lambda k, n, d: mixing(Conv1D.init(k, d, d, rng), n),
    f"restricted, r={r}": lambda r, n, d: mixing(SlidingWindowAttention(MultiHeadAttention.init(d, 4, rng), r), n),
}
sizes = {"self-attention": {}, "recurrent": {}, f"convolutional, k={k}": {"k": k}, f"restricted, r={r}": {"r": r}}
layers = {
    "self-attention": MultiHeadAttention.init(d, 4, rng),
    "recurrent": RNN.init(d, d, rng),
    f"convolutional, k={k}": Conv1D.init(k, d, d, rng),
    f"restricted, r={r}": SlidingWindowAttention(MultiHeadAttention.init(d, 4, rng), window=r),
}

print(f"{'layer type':<20} {'cost per layer':<15} {'sequential ops':<15} max path length")
#> layer type           cost per layer  sequential ops  max path length
print(f"{'':<20} {'(order)':<15} {f'n={n} / n={2 * n}':<15} n={n} / n={2 * n}")
#>                      (order)         n=64 / n=128    n=64 / n=128
for name, layer in layers.items():
    order = growth_order(costs[name], **sizes[name], n=n, d=d)  # double each size, watch the count
    steps = f"{sequential_steps(layer, n)} / {sequential_steps(layer, 2 * n)}"
    path = f"{max_path_length(layer, n)} / {max_path_length(layer, 2 * n)}"
    print(f"{name:<20} {order:<15} {steps:<15} {path}")
    #> self-attention       n²·d            1 / 1           1 / 1
    #> recurrent            n·d²            64 / 128        63 / 127
    #> convolutional, k=3   k·n·d²          1 / 1           32 / 64
    #> restricted, r=8      r·n·d           1 / 1           9 / 19

