"""The tiles causal attention computes, masks, skips (efficiency_causal_tiles.svg)."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from llmarch.plotting import save_figure

n, block = 1024, 128
tiles = -(-n // block)  # blocks per side, rounding up

# 0 = skipped (every key is in the future), 1 = computed and masked inside,
# 2 = computed whole.
kind = np.zeros((tiles, tiles), dtype=int)
for i in range(tiles):  # query block: queries i*block .. (i+1)*block - 1
    for j in range(tiles):  # key block: keys j*block .. (j+1)*block - 1
        first_query, last_query = i * block, min((i + 1) * block, n) - 1
        first_key, last_key = j * block, min((j + 1) * block, n) - 1
        if first_key > last_query:
            kind[i, j] = 0  # no query of this block may see any of these keys
        elif last_key > first_query:
            kind[i, j] = (
                1  # crosses the diagonal: keys after each query are set to -inf
            )
        else:
            kind[i, j] = 2

for label, value in (
    ("skipped", 0),
    ("on the diagonal (masked inside)", 1),
    ("computed whole", 2),
):
    print(f"{label:>32}: {np.sum(kind == value):>2} of {tiles * tiles} tiles")
    #>                          skipped: 28 of 64 tiles
    #>  on the diagonal (masked inside):  8 of 64 tiles
    #>                   computed whole: 28 of 64 tiles
computed = np.sum(kind > 0) / kind.size
print(
    f"tiles computed: {computed:.0%};",
    f"scores needed by causal attention: {(n + 1) / (2 * n):.0%}",
)
#> tiles computed: 56%; scores needed by causal attention: 50%

colors = ["#dddddd", "#f4a261", "#2a9d8f"]
fig, ax = plt.subplots(figsize=(4.8, 5.4), facecolor="white", layout="constrained")
ax.imshow(kind, cmap=ListedColormap(colors), vmin=0, vmax=2)
ax.set_xticks(
    np.arange(tiles), labels=[str(j * block) for j in range(tiles)], rotation=90
)
ax.set_yticks(np.arange(tiles), labels=[str(i * block) for i in range(tiles)])
ax.set_xticks(np.arange(tiles + 1) - 0.5, minor=True)
ax.set_yticks(np.arange(tiles + 1) - 0.5, minor=True)
ax.grid(which="minor", color="white", linewidth=2)
ax.tick_params(which="minor", length=0)
ax.set_xlabel("first key of the block")
ax.set_ylabel("first query of the block")
ax.set_title(f"n = {n}, blocks of {block}", fontsize=10)
labels = ["skipped", "masked inside", "computed whole"]
fig.legend(
    [Patch(color=c) for c in colors],
    labels,
    loc="outside lower center",
    ncols=3,
    fontsize=9,
)
save_figure(fig, "efficiency_causal_tiles.svg")
