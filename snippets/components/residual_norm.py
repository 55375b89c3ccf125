"""Pre-LN and post-LN residual blocks, side by side (residual_stream.svg)."""

import numpy as np

from llmarch import FeedForward, LayerNorm, post_ln_residual, pre_ln_residual
from llmarch.plotting import line_chart, save_figure

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)
d_model, n_layers = 64, 24

# Layer norm: every position ends up with mean 0 and variance 1.
x = rng.standard_normal((4, d_model)) * 5 + 3
normed = LayerNorm.init(d_model)(x)
print(normed.mean(axis=-1).round(6) + 0.0, normed.var(axis=-1).round(6))
#> [0. 0. 0. 0.] [1. 1. 1. 1.]

# With a sublayer that outputs zeros, pre-LN passes x through untouched:
# its residual path is a clean identity. Post-LN normalises it anyway.
def zero(h):
    return np.zeros_like(h)


norm = LayerNorm.init(d_model)
print(np.array_equal(pre_ln_residual(x, zero, norm), x))
#> True
print(np.array_equal(post_ln_residual(x, zero, norm), x))
#> False

# A stack of 24 feed-forward sublayers, wrapped both ways, on a stream of std 1.
stream = rng.standard_normal((4, d_model))
ffns = [
    FeedForward.init(d_model, 4 * d_model, rng, activation="gelu_tanh", std=0.1)
    for _ in range(n_layers)
]
pre, post = stream, stream
pre_scale, post_scale = [stream.std()], [stream.std()]
for ffn in ffns:
    pre = pre_ln_residual(pre, ffn, norm)
    post = post_ln_residual(post, ffn, norm)
    pre_scale.append(pre.std())
    post_scale.append(post.std())
print(f"std at the start {pre_scale[0]:.2f}; after {n_layers} layers: "
      f"pre-LN {pre_scale[-1]:.2f}, post-LN {post_scale[-1]:.2f}")
#> std at the start 1.01; after 24 layers: pre-LN 4.43, post-LN 1.00

layers = np.arange(n_layers + 1)  # 0: the stream before the first layer
fig = line_chart(
    layers,
    {"pre-LN: x + F(LN(x))": pre_scale, "post-LN: LN(x + F(x))": post_scale},
    xlabel="layers applied",
    ylabel="std of the residual stream",
    figsize=(6, 3.4),
)
save_figure(fig, "residual_stream.svg")
