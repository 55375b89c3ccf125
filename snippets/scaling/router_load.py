"""Where the tokens go: each layer's load in a small mixture of experts."""

import dataclasses

import numpy as np

from llmarch import Decoder, DecoderConfig
from llmarch.moe import expert_load
from llmarch.plotting import matrix_heatmap, save_figure

# Shaped like Mixtral, but small: 4 layers of 8 experts, 2 per token; random weights.
config = dataclasses.replace(
    DecoderConfig.preset("mixtral-8x7b"), vocab_size=256, n_positions=128,
    d_model=64, n_layers=4, n_heads=4, n_kv_heads=2, d_ff=128,
)
model = Decoder.init(config, np.random.default_rng(0), std=0.1)
tokens = np.random.default_rng(1).integers(0, config.vocab_size, size=(8, 64))
model.logits(tokens)  # 512 tokens; every layer keeps where they went

E = config.n_experts
load = np.stack([expert_load(b.mlp.last_routing.experts, E) for b in model.blocks])
print(load)  # tokens per expert, a row per layer; a row sums to 512 x 2
#> [[200 126 142 108  54  90 124 180]
#>  [101 192 104  79 110 111 195 132]
#>  [ 81 203  23 107 174 207  91 138]
#>  [202  53 123 111 209  79 143 104]]
fair = tokens.size * config.n_experts_per_token / E
busiest = ", ".join(f"{share:.2f}" for share in load.max(axis=1) / fair)
print(f"fair share {fair:.0f} tokens; the busiest expert of each layer: {busiest}")
#> fair share 128 tokens; the busiest expert of each layer: 1.56, 1.52, 1.62, 1.63

fig = matrix_heatmap(
    load, title="Tokens per expert (512 tokens, 2 experts each)",
    xlabel="expert", ylabel="layer", colorbar_label="tokens",
    xticklabels=[str(e) for e in range(E)],
    yticklabels=[str(i) for i in range(config.n_layers)], figsize=(6.5, 3.2),
)
save_figure(fig, "router_load.svg")
