"""The four parts of one GPT block, in the order the code names them (gpt_block.svg)."""

import numpy as np

from llmarch import GPT, GPTConfig
from llmarch.diagrams import block_diagram
from llmarch.plotting import save_figure

# The small GPT of the "A whole GPT" page (random weights: only the shape matters here).
config = GPTConfig(vocab_size=31, n_positions=64, d_model=32, n_layers=2, n_heads=4)
model = GPT.init(config, np.random.default_rng(0))

block = model.blocks[0]  # every block has the same four parts
for name in ("ln_1", "attn", "ln_2", "mlp"):
    print(f"{name:<5}", type(getattr(block, name)).__name__)
    #> ln_1  LayerNorm
    #> attn  MultiHeadAttention
    #> ln_2  LayerNorm
    #> mlp   FeedForward
save_figure(block_diagram(block), "gpt_block.svg")
