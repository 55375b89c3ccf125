"""The sinusoidal positional encoding: a heatmap in positional_encoding.svg."""

import numpy as np

from llmarch import sinusoidal_positional_encoding
from llmarch.plotting import matrix_heatmap, save_figure

np.set_printoptions(precision=3, suppress=True)

pe = sinusoidal_positional_encoding(n_positions=64, d_model=32)
print(pe.shape)
#> (64, 32)

# Every row is one position; the first features turn fast, the last ones slowly.
print("position 0:", pe[0, :6])
#> position 0: [0. 1. 0. 1. 0. 1.]
print("position 1:", pe[1, :6])
#> position 1: [0.841 0.54  0.533 0.846 0.311 0.95 ]

fig = matrix_heatmap(
    pe,
    title="Sinusoidal positional encoding",
    xlabel="feature (even: sin, odd: cos)",
    ylabel="position",
    colorbar_label="value",
    cmap="RdBu_r",
    vmin=-1,
    vmax=1,
    figsize=(7, 5),
)
save_figure(fig, "positional_encoding.svg")
