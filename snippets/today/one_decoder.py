"""One Decoder, four families: a small model of each, its parts and tensor names."""

import dataclasses

import numpy as np

from llmarch import Decoder, DecoderConfig
from llmarch.checkpoint import hf_shapes

sizes = dict(vocab_size=64, n_positions=32, d_model=32, n_layers=2, n_heads=4)
print(f"{'family':<8}{'norm':<12}{'feed-forward':<13}{'heads/KV':<10}queries in HF")
#> family  norm        feed-forward heads/KV  queries in HF
for name in ("gpt2", "llama-3.1-8b", "mistral-7b", "qwen3-0.6b"):
    preset = DecoderConfig.preset(name)
    heads = {} if name == "gpt2" else {"n_kv_heads": 2, "d_head": 8, "d_ff": 64}
    config = dataclasses.replace(preset, **sizes, **heads)  # same family, smaller
    block = Decoder.init(config, np.random.default_rng(0)).blocks[0]
    qk = "+QK" if block.attn.q_norm is not None else ""
    norm, mlp = type(block.ln_1).__name__ + qk, type(block.mlp).__name__
    heads = f"{block.attn.n_heads}/{block.attn.n_kv_heads}"
    # The first block's query weights, under the name from_hf_state_dict reads:
    queries = next(k for k in hf_shapes(config) if "attn" in k)
    print(f"{config.family:<8}{norm:<12}{mlp:<13}{heads:<10}{queries}")
    #> gpt2    LayerNorm   FeedForward  4/4       h.0.attn.c_attn.weight
    #> llama   RMSNorm     SwiGLU       4/2       layers.0.self_attn.q_proj.weight
    #> mistral RMSNorm     SwiGLU       4/2       layers.0.self_attn.q_proj.weight
    #> qwen3   RMSNorm+QK  SwiGLU       4/2       layers.0.self_attn.q_proj.weight
