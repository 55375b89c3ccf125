"""Attention worked by hand on a three-word sentence, checked against llmarch."""

import numpy as np

from llmarch import scaled_dot_product_attention
from llmarch.diagrams import attention_diagram
from llmarch.plotting import save_figure

np.set_printoptions(precision=3, suppress=True)

words = ["cats", "chase", "mice"]
# One query, key and value vector per word (d_k = 2). In a real model these
# come from multiplying embeddings by learned matrices; here they are small
# numbers we can follow.
Q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
K = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
V = np.array([[10.0, 0.0], [0.0, 10.0], [5.0, 5.0]])

# 1. Score every query against every key: how well does the question of
#    word i match what word j offers?
scores = Q @ K.T / np.sqrt(K.shape[1])
print(scores)
#> [[0.707 0.    0.707]
#>  [0.    0.707 0.707]
#>  [0.707 0.707 1.414]]

# 2. Softmax each row: the scores become weights that sum to 1.
weights = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
print(weights)
#> [[0.401 0.198 0.401]
#>  [0.198 0.401 0.401]
#>  [0.248 0.248 0.503]]
print(weights.sum(axis=1))
#> [1. 1. 1.]

# 3. Each word's output is the weighted average of the value vectors.
output = weights @ V
for word, row in zip(words, output, strict=True):
    print(f"{word:>5} -> {row}")
    #>  cats -> [6.017 3.983]
    #> chase -> [3.983 6.017]
    #>  mice -> [5. 5.]

# The library function does the same three steps.
lib_output, lib_weights = scaled_dot_product_attention(Q, K, V)
print(np.allclose(lib_output, output), np.allclose(lib_weights, weights))
#> True True

# Every number of the three steps, drawn in its place.
save_figure(attention_diagram(Q, K, V, tokens=words), "attention_by_hand.svg")
