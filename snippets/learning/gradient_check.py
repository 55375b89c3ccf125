"""The gradient check: every gradient of a tiny GPT against finite differences."""

import dataclasses

import numpy as np

from llmarch import Decoder, DecoderConfig

rng = np.random.default_rng(0)
config = dataclasses.replace(
    DecoderConfig.preset("gpt2"), vocab_size=16, n_positions=8, d_model=8,
    n_layers=2, n_heads=2,
)
model = Decoder.init(config, rng, std=0.3, dtype=np.float64)
tokens = rng.integers(0, 16, size=(3, 8))  # 3 sequences of 8 tokens
targets = rng.integers(0, 16, size=(3, 8))  # the next token at each position

loss, grads = model.loss_and_grads(tokens, targets)
params = model.to_hf_state_dict()  # the keys of grads, with the same shapes
print(f"loss {loss:.4f}; {len(grads)} tensors, "
      f"{sum(g.size for g in grads.values())} numbers")
#> loss 3.1159; 28 tensors, 1952 numbers


def loss_at(params):
    return Decoder.from_hf_state_dict(params, config).loss_and_grads(
        tokens, targets)[0]


# Each tensor at once: move it along a random direction u, both ways.
eps, worst = 1e-5, {}
for name, value in params.items():
    u = rng.standard_normal(value.shape)
    up = loss_at({**params, name: value + eps * u})
    down = loss_at({**params, name: value - eps * u})
    nudged, exact = (up - down) / (2 * eps), float((grads[name] * u).sum())
    worst[name] = abs(nudged - exact) / max(abs(exact), 1e-12)
for name in ("wte.weight", "h.0.attn.c_attn.weight", "h.1.mlp.c_fc.bias"):
    print(f"{name:24} relative error {worst[name]:.1e}")
    #> wte.weight               relative error 8.3e-10
    #> h.0.attn.c_attn.weight   relative error 2.4e-08
    #> h.1.mlp.c_fc.bias        relative error 3.7e-10
name = max(worst, key=worst.get)
print(f"worst of all: {name}, {worst[name]:.1e}")
#> worst of all: h.0.attn.c_attn.weight, 2.4e-08
