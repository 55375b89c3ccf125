"""Where the feed-forward network sits in a GPT block (where_feed_forward.svg)."""

import numpy as np

from llmarch import GPT, GPTConfig
from llmarch.diagrams import block_diagram
from llmarch.plotting import save_figure

# The small GPT of the "A whole GPT" page (random weights: only the shape matters here).
config = GPTConfig(vocab_size=31, n_positions=64, d_model=32, n_layers=2, n_heads=4)
model = GPT.init(config, np.random.default_rng(0))

block = model.blocks[0]  # every block has the same parts
print(type(block.mlp).__name__, block.mlp.w1.shape, block.mlp.w2.shape)
#> FeedForward (32, 128) (128, 32)
save_figure(block_diagram(block, highlight="mlp"), "where_feed_forward.svg")
