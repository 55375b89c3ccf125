"""The tiles causal attention computes, masks, skips (efficiency_causal_tiles.svg)."""

import numpy as np

from llmarch.plotting import category_grid, save_figure

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
            kind[i, j] = 1  # crosses the diagonal: later keys are set to -inf
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

fig = category_grid(
    kind,
    ["skipped", "masked inside", "computed whole"],
    title=f"n = {n}, blocks of {block}",
    xlabel="first key of the block",
    ylabel="first query of the block",
    xticklabels=[str(j * block) for j in range(tiles)],
    yticklabels=[str(i * block) for i in range(tiles)],
)
save_figure(fig, "efficiency_causal_tiles.svg")
