"""Four attention heads over one sentence, drawn head by head in attention_heads.svg."""

import numpy as np

from llmarch import MultiHeadAttention, sinusoidal_positional_encoding
from llmarch.plotting import attention_heads, save_figure

np.set_printoptions(precision=2, suppress=True)
rng = np.random.default_rng(0)

tokens = ["the", "quick", "brown", "fox", "jumps", "over", "the", "dog"]
d_model, n_heads = 32, 4

# A random embedding per distinct word (both "the" share one), plus positions.
vocab = sorted(set(tokens))
table = rng.standard_normal((len(vocab), d_model))
x = table[[vocab.index(t) for t in tokens]]
x = x + sinusoidal_positional_encoding(len(tokens), d_model)

mha = MultiHeadAttention.init(d_model, n_heads, rng, std=0.4)
output, weights = mha.attend(x)
print("weights:", weights.shape, "(heads, queries, keys)")
#> weights: (4, 8, 8) (heads, queries, keys)

# Which word does "fox" attend to most, in each head?
fox = tokens.index("fox")
for head in range(n_heads):
    print(f"head {head}: fox -> {tokens[int(weights[head, fox].argmax())]}")
    #> head 0: fox -> dog
    #> head 1: fox -> fox
    #> head 2: fox -> quick
    #> head 3: fox -> the

fig = attention_heads(weights, tokens, title="One layer, four heads (random weights)")
save_figure(fig, "attention_heads.svg")
