"""Trained heads beside random ones: which look one character back, which copy."""

import numpy as np

from llmarch import Decoder, causal_mask
from llmarch.corpus import shakespeare, split
from llmarch.plotting import heatmaps, save_figure
from llmarch.trained import load
from llmarch.training import cross_entropy

np.set_printoptions(precision=2, suppress=True)
trained = load("shakespeare-gpt")
tokenizer = trained.tokenizer
models = {"trained": trained.model,
          "random": Decoder.init(trained.model.config, np.random.default_rng(0))}


def attention_maps(model, ids):
    """Every head's weights, (layers, heads, n, n): the blocks, run one by one."""
    n = len(ids)
    x = model.wte.weight[ids] + model.wpe.weight[:n]
    maps = []
    for block in model.blocks:
        out, weights = block.attn.attend(block.ln_1(x), mask=causal_mask(n))
        h = x + out
        x = h + block.mlp(block.ln_2(h))
        maps.append(weights)
    return np.stack(maps)


# Previous-token score: the weight each character puts on the one just before
# it, averaged over 20 windows of text the model never trained on.
_, val = split(tokenizer.encode(shakespeare()))
windows = [val[s:s + 64] for s in range(0, 20 * 500, 500)]
previous = {name: np.mean([np.diagonal(attention_maps(m, w), -1, -2, -1).mean(-1)
                           for w in windows], axis=0) for name, m in models.items()}

# Induction score: 30 random letters, then the same 30 again. In the second
# copy, a head that copies looks at the letter after the current one's earlier
# occurrence: 29 positions back. Averaged over 20 random sequences.
letters = tokenizer.encode("abcdefghijklmnopqrstuvwxyz")
rng = np.random.default_rng(1)
repeats = [np.tile(rng.choice(letters, 30), 2) for _ in range(20)]
induction = {name: np.mean([np.diagonal(attention_maps(m, r), -29, -2, -1)[..., 1:30]
                            .mean(-1) for r in repeats], axis=0)
             for name, m in models.items()}

for title, score in (("previous-token", previous), ("induction", induction)):
    print(f"{title} score, trained (rows: layers 0-3, columns: heads 0-3)")
    #> previous-token score, trained (rows: layers 0-3, columns: heads 0-3)
    #> induction score, trained (rows: layers 0-3, columns: heads 0-3)
    print(score["trained"])
    #> [[0.25 0.26 0.31 0.27]
    #>  [0.2  0.05 0.27 0.21]
    #>  [0.27 0.22 0.19 0.28]
    #>  [0.14 0.12 0.17 0.15]]
    #> [[0.   0.   0.   0.  ]
    #>  [0.01 0.01 0.   0.  ]
    #>  [0.   0.   0.   0.01]
    #>  [0.   0.01 0.   0.  ]]
    low, high = score["random"].min(), score["random"].max()
    print(f"  random weights: {low:.2f} to {high:.2f}")
    #>   random weights: 0.06 to 0.06
    #>   random weights: 0.02 to 0.02

# Does the model use the repeat? Its loss on each copy of the random letters
# (predicting letters 1-29 of each copy: letter 0 of the second cannot be known).
for name, m in models.items():
    first = np.mean([cross_entropy(m.logits(r)[0:29], r[1:30])[0] for r in repeats])
    second = np.mean([cross_entropy(m.logits(r)[30:59], r[31:60])[0] for r in repeats])
    print(f"{name:7} loss on the first copy {first:.2f}, on the second {second:.2f}")
    #> trained loss on the first copy 6.31, on the second 6.43
    #> random  loss on the first copy 4.34, on the second 4.35

# Draw the best previous-token head and the best induction head, trained and random.
text = tokenizer.encode("To be, or not to be, that is")
labels = [c.replace(" ", "\u2423") for c in tokenizer.decode(text)]
short = np.tile(rng.choice(letters, 12), 2)
short_labels = list(tokenizer.decode(short))
panels, ticks = {}, {}
for ids, names, score in ((text, labels, previous),
                          (short, short_labels, induction)):
    layer, head = np.unravel_index(score["trained"].argmax(), score["trained"].shape)
    for name, m in models.items():
        title = f"{name}: layer {layer}, head {head}"
        panels[title] = attention_maps(m, ids)[layer, head]
        ticks[title] = (names, names)
fig = heatmaps(panels, ticks, per_row=2, panel_size=3.4, vmax=1.0, label_rotation=0,
               title="The strongest previous-token head (top), induction head (bottom)")
save_figure(fig, "trained_heads.svg")
