"""The position-wise feed-forward network, and its activations (activations.svg)."""

import matplotlib.pyplot as plt
import numpy as np

from llmarch import FeedForward, gelu, gelu_tanh, relu
from llmarch.plotting import save_figure

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

fig, ax = plt.subplots(figsize=(6, 3.6), facecolor="white", layout="constrained")
ax.plot(xs, relu(xs), label="ReLU (Vaswani et al.)")
ax.plot(xs, gelu(xs), label="GELU, exact")
ax.plot(xs, gelu_tanh(xs), "--", label="GELU, tanh form (GPT-2)")
ax.set_xlabel("input")
ax.set_ylabel("output")
ax.legend()
ax.grid(alpha=0.3)
save_figure(fig, "activations.svg")
