"""An encoder block built post-LN and one built pre-LN (post_ln.svg, pre_ln.svg)."""

import numpy as np

from llmarch import EncoderLayer
from llmarch.diagrams import block_diagram
from llmarch.plotting import save_figure

rng = np.random.default_rng(0)
post = EncoderLayer.init(d_model=32, n_heads=4, d_ff=128, rng=rng, norm="post")
pre = EncoderLayer.init(d_model=32, n_heads=4, d_ff=128, rng=rng, norm="pre")

# The same parts and weights' shapes; only where the norms go differs.
x = rng.standard_normal((6, 32))
print(post(x).shape, pre(x).shape)
#> (6, 32) (6, 32)
save_figure(block_diagram(post, title="Post-LN (Vaswani et al. 2017)"), "post_ln.svg")
save_figure(block_diagram(pre, title="Pre-LN (GPT-2 and most since)"), "pre_ln.svg")
