"""The position-wise feed-forward network, and its activations (activations.svg)."""

import numpy as np

from llmarch import FeedForward, gelu, gelu_tanh, relu
from llmarch.plotting import line_chart, save_figure

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)

d_model, d_ff = 8, 32  # the hidden layer is 4 times wider, as in the paper
ffn = FeedForward.init(d_model, d_ff, rng, activation="gelu_tanh", std=0.3)

x = rng.standard_normal((3, d_model))
x[2] = x[0]  # the same vector at positions 0 and 2
y = ffn(x)
print(y.shape)
#> (3, 8)
# Position-wise: equal inputs give equal outputs, wherever they sit.
print(np.allclose(y[0], y[2]))
#> True

# The tanh form of GELU that GPT-2 uses stays close to the exact one.
xs = np.linspace(-4, 4, 401)
print(f"max |gelu - gelu_tanh|: {np.abs(gelu(xs) - gelu_tanh(xs)).max():.1e}")
#> max |gelu - gelu_tanh|: 4.7e-04

curves = {
    "ReLU (Vaswani et al.)": relu(xs),
    "GELU, exact": gelu(xs),
    "GELU, tanh form (GPT-2)": gelu_tanh(xs),
}
fig = line_chart(xs, curves, xlabel="input", ylabel="output", markers=False)
save_figure(fig, "activations.svg")
