"""Causal and padding masks, and the two combined, drawn in masks.svg."""

import matplotlib.pyplot as plt
import numpy as np

from llmarch import causal_mask, padding_mask
from llmarch.plotting import save_figure

n = 5
causal = causal_mask(n)
print(causal.astype(int))
#> [[1 0 0 0 0]
#>  [1 1 0 0 0]
#>  [1 1 1 0 0]
#>  [1 1 1 1 0]
#>  [1 1 1 1 1]]

# A batch of two sequences padded to length 5: the first has 3 real tokens.
padding = padding_mask([3, 5], n)
print(padding.shape)
#> (2, 1, 5)
print(padding.astype(int))
#> [[[1 1 1 0 0]]
#>
#>  [[1 1 1 1 1]]]

# Decoder self-attention on a padded batch needs both: broadcast and AND them.
both = causal & padding
print(both.shape)
#> (2, 5, 5)
print(both[0].astype(int))
#> [[1 0 0 0 0]
#>  [1 1 0 0 0]
#>  [1 1 1 0 0]
#>  [1 1 1 0 0]
#>  [1 1 1 0 0]]

fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), facecolor="white",
                         layout="constrained")
panels = [
    (causal, "causal"),
    (np.broadcast_to(padding[0], (n, n)), "padding (3 real tokens)"),
    (both[0], "causal AND padding"),
]
for ax, (mask, title) in zip(axes, panels, strict=True):
    ax.imshow(mask, cmap="Greys_r", vmin=0, vmax=1)
    ax.set_title(title)
    ax.set_xlabel("key (white: may attend)")
    ax.set_ylabel("query")
save_figure(fig, "masks.svg")
