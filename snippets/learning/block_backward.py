"""Backpropagation through one GPT-2 block, and one gradient checked by nudging."""

import dataclasses

import numpy as np

from llmarch import Decoder, DecoderConfig, Tape, causal_mask

rng = np.random.default_rng(0)
config = dataclasses.replace(
    DecoderConfig.preset("gpt2"), vocab_size=16, n_positions=8, d_model=8,
    n_layers=1, n_heads=2,
)
model = Decoder.init(config, rng, std=0.3, dtype=np.float64)  # exact enough to check
block = model.blocks[0]
x = rng.standard_normal((5, 8))  # 5 positions, width 8
mask = causal_mask(5)

# Forward, recorded: each layer keeps what its backward pass needs.
with Tape() as tape:
    y = block(x, mask)
# Backward: from dL/dy (here a random one) to dL/dx and every weight's gradient.
grad_y = rng.standard_normal(y.shape)
grad_x, grads = block.backward(grad_y, tape)
print("dL/dx:", grad_x.shape, "and", len(grads), "weight gradients:")
#> dL/dx: (5, 8) and 16 weight gradients:
parts = {}
for name in sorted(grads):
    part, weight = name.split(".")
    parts.setdefault(part, []).append(weight)
for part, weights in parts.items():
    print(f"  {part:5} {' '.join(weights)}")
    #>   attn  b_k b_o b_q b_v w_k w_o w_q w_v
    #>   ln_1  beta gamma
    #>   ln_2  beta gamma
    #>   mlp   b1 b2 w1 w2


def loss(block):
    """The scalar whose gradient backward computed: L = sum(dL/dy * y)."""
    return float((grad_y * block(x, mask)).sum())


# Nudge one weight of the query projection up and down, watch L move.
eps, w = 1e-6, block.attn.w_q
w[2, 3] += eps
up = loss(block)
w[2, 3] -= 2 * eps
down = loss(block)
w[2, 3] += eps
print(f"backward:           {grads['attn.w_q'][2, 3]:.10f}")
#> backward:           -0.0324213028
print(f"nudged (central):   {(up - down) / (2 * eps):.10f}")
#> nudged (central):   -0.0324213030
