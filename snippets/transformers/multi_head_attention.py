"""Multi-head self-attention over a short embedded sentence."""

import numpy as np

from llmarch import MultiHeadAttention, sinusoidal_positional_encoding
from llmarch.diagrams import multi_head_diagram
from llmarch.plotting import save_figure

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)

tokens = ["attention", "is", "all", "you", "need"]
d_model, n_heads = 8, 2

# Embed: one random vector per token, plus the sinusoidal position signal.
embedding = rng.standard_normal((len(tokens), d_model))
x = embedding + sinusoidal_positional_encoding(len(tokens), d_model)

mha = MultiHeadAttention.init(d_model, n_heads, rng, std=0.5)
output, weights = mha.attend(x)

print("input: ", x.shape)
#> input:  (5, 8)
print("output:", output.shape)
#> output: (5, 8)
print("weights (heads, queries, keys):", weights.shape)
#> weights (heads, queries, keys): (2, 5, 5)

# Each head spreads its attention differently over the same sentence.
for head in range(n_heads):
    print(f"head {head}, query 'need':", weights[head, -1])
    #> head 0, query 'need': [0.09  0.001 0.845 0.028 0.036]
    #> head 1, query 'need': [0.298 0.028 0.022 0.05  0.602]

# How this layer cuts Q, K and V into its heads and joins their outputs, drawn from it.
save_figure(multi_head_diagram(mha, n_tokens=len(tokens)), "multi_head.svg")
