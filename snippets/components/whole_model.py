"""A whole GPT from token ids to logits, drawn from the model object (whole_gpt.svg)."""

import numpy as np

from llmarch import GPT, GPTConfig
from llmarch.diagrams import gpt_diagram
from llmarch.plotting import save_figure

# The small GPT of the "A whole GPT" page (random weights: only the shape matters here).
config = GPTConfig(vocab_size=31, n_positions=64, d_model=32, n_layers=2, n_heads=4)
model = GPT.init(config, np.random.default_rng(0))

print(len(model.blocks), "blocks; token table", model.wte.weight.shape)
#> 2 blocks; token table (31, 32)
save_figure(gpt_diagram(model), "whole_gpt.svg")
