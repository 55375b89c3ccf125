"""Where the token embedding sits in a GPT: at the very bottom (where_embedding.svg)."""

import numpy as np

from llmarch import GPT, GPTConfig
from llmarch.diagrams import gpt_diagram
from llmarch.plotting import save_figure

# The small GPT of the "A whole GPT" page (random weights: only the shape matters here).
config = GPTConfig(vocab_size=31, n_positions=64, d_model=32, n_layers=2, n_heads=4)
model = GPT.init(config, np.random.default_rng(0))

print(model.wte.weight.shape)  # (vocab_size, d_model): one row per token
#> (31, 32)
save_figure(gpt_diagram(model, highlight="wte"), "where_embedding.svg")
