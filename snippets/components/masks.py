"""Causal and padding masks, and the two combined, drawn in masks.svg."""

import numpy as np

from llmarch import causal_mask, padding_mask
from llmarch.plotting import heatmaps, save_figure

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

panels = {
    "causal": causal,
    "padding (3 real tokens)": np.broadcast_to(padding[0], (n, n)),
    "causal AND padding": both[0],
}
fig = heatmaps(
    panels, xlabel="key (yellow: may attend)", colorbar_label=None, panel_size=2.1
)
save_figure(fig, "masks.svg")
