"""Why softmax subtracts the maximum: large scores overflow the naive formula."""

import numpy as np

from llmarch import softmax

np.set_printoptions(precision=4, suppress=True)

scores = np.array([1000.0, 999.0, 998.0])

with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(scores) / np.exp(scores).sum()
print("naive:  ", naive)
#> naive:   [nan nan nan]

# Subtracting the largest score leaves the result unchanged and every exponent <= 0.
print("stable: ", softmax(scores))
#> stable:  [0.6652 0.2447 0.09  ]
print("shifted:", softmax(scores - 1000.0))
#> shifted: [0.6652 0.2447 0.09  ]
