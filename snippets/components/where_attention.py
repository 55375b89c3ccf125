"""Where multi-head attention sits in a GPT block (where_attention.svg)."""

import numpy as np

from llmarch import GPT, GPTConfig
from llmarch.diagrams import block_diagram
from llmarch.plotting import save_figure

# The small GPT of the "A whole GPT" page (random weights: only the shape matters here).
config = GPTConfig(vocab_size=31, n_positions=64, d_model=32, n_layers=2, n_heads=4)
model = GPT.init(config, np.random.default_rng(0))

block = model.blocks[0]  # every block has the same parts
print(type(block.attn).__name__, block.attn.n_heads, "heads of", block.attn.d_head)
#> MultiHeadAttention 4 heads of 8
save_figure(block_diagram(block, highlight="attn"), "where_attention.svg")
