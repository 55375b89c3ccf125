"""Latent attention two ways: keys and values rebuilt, or the latent read directly."""

import dataclasses

import numpy as np

from llmarch import Decoder, DecoderConfig, kv_cache_bytes

# Shaped like DeepSeek-V3, but small: 4 heads, a latent of 16, a rotary part of 8.
config = dataclasses.replace(
    DecoderConfig.preset("deepseek-v3"), vocab_size=256, n_positions=64,
    d_model=64, n_layers=2, n_heads=4, d_ff=96, d_ff_expert=32, n_experts=8,
    n_experts_per_token=2, n_expert_groups=4, n_groups_per_token=2,
    first_k_dense=1, q_lora_rank=32, kv_lora_rank=16, qk_rope_head_dim=8,
    qk_nope_head_dim=16, v_head_dim=16,
)
model = Decoder.init(config, np.random.default_rng(0), std=0.3, dtype=np.float64)
tokens = np.random.default_rng(1).integers(0, config.vocab_size, 24)

attn = model.blocks[0].attn
print(attn.w_uk.shape, attn.w_uv.shape)  # W^UK and W^UV: (latent, heads, width)
#> (16, 4, 16) (16, 4, 16)

x = model.wte.weight[tokens]
causal = np.tril(np.ones((len(tokens), len(tokens)), dtype=bool))
expanded, _ = attn.attend(x, causal, absorb=False)  # keys and values built
absorbed, _ = attn.attend(x, causal, absorb=True)  # queries moved into the latent
print(f"largest difference: {np.abs(absorbed - expanded).max():.1e}")
#> largest difference: 3.1e-15

# The whole model, both ways:
logits = {}
for absorb in (False, True):
    for block in model.blocks:
        block.attn.absorb = absorb
    logits[absorb] = model.logits(tokens)
print(np.allclose(logits[False], logits[True], rtol=1e-12, atol=1e-12))
#> True

# The cache: the latent and one rotary key per token and layer, no head axis.
caches = model.new_caches()
model.hidden_states(tokens, caches)
print(caches[0].latent.shape, caches[0].rope_key.shape)
#> (24, 16) (24, 8)
held = sum(cache.nbytes for cache in caches)
print(held, held == kv_cache_bytes(config, len(tokens), np.float64))
#> 9216 True
