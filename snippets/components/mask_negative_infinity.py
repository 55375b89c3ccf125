"""Why masks use -inf, not a large finite number like -1e4."""

import numpy as np

from llmarch import scaled_dot_product_attention, softmax

np.set_printoptions(precision=3, suppress=True)

allowed = np.array([True, True, False])  # the third key is padding

# Problem 1: a finite "mask value" is just another score. When real scores
# are themselves very negative, the masked key wins.
scores = np.array([-30_000.0, -25_000.0, 0.0])
additive = softmax(scores + np.where(allowed, 0.0, -1e4))
print("finite -1e4:", additive)
#> finite -1e4: [0. 0. 1.]
print("-inf:       ", softmax(np.where(allowed, scores, -np.inf)))
#> -inf:        [0. 1. 0.]

# Problem 2: a query with nothing to attend to (all keys masked) spreads its
# weight evenly over the padding instead of taking nothing.
nothing = np.zeros(3, dtype=bool)
print("finite -1e4:", softmax(np.zeros(3) + np.where(nothing, 0.0, -1e4)))
#> finite -1e4: [0.333 0.333 0.333]

# With -inf, llmarch gives such a query zero weights and a zero output.
q = np.ones((1, 2))
k = np.ones((3, 2))
v = np.arange(6.0).reshape(3, 2)
output, weights = scaled_dot_product_attention(q, k, v, mask=nothing[None, :])
print("-inf:       ", weights[0], "output", output[0])
#> -inf:        [0. 0. 0.] output [0. 0.]
