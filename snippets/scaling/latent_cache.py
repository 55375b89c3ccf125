"""The KV cache at DeepSeek-V3's width: multi-head, grouped-query, latent."""

import dataclasses

from llmarch import DecoderConfig, kv_cache_bytes

deepseek = DecoderConfig.preset("deepseek-v3")  # 61 layers, 128 heads
latent_fields = ("q_lora_rank", "kv_lora_rank", "qk_rope_head_dim",
                 "qk_nope_head_dim", "v_head_dim")
plain = {**dict.fromkeys(latent_fields), "family": None, "d_head": 128}
variants = {  # the same 128 heads of 128, with their keys and values cached
    "MHA, 128 KV heads": dataclasses.replace(deepseek, **plain, n_kv_heads=128),
    "GQA,   8 KV heads": dataclasses.replace(deepseek, **plain, n_kv_heads=8),
    "MQA,   1 KV head": dataclasses.replace(deepseek, **plain, n_kv_heads=1),
    "MLA, latent 512+64": deepseek,
}
KiB, GiB = 2**10, 2**30
print(f"{'61 layers, bf16':<20}{'per token':>12}{'128k tokens':>14}")
#> 61 layers, bf16        per token   128k tokens
for name, config in variants.items():
    per_token = kv_cache_bytes(config, 1, "float16")
    long = kv_cache_bytes(config, 131072, "float16")
    print(f"{name:<20}{per_token / KiB:>8.1f} KiB{long / GiB:>10.1f} GiB")
    #> MHA, 128 KV heads     3904.0 KiB     488.0 GiB
    #> GQA,   8 KV heads      244.0 KiB      30.5 GiB
    #> MQA,   1 KV head        30.5 KiB       3.8 GiB
    #> MLA, latent 512+64      68.6 KiB       8.6 GiB

# Numbers per token and layer:
latent = deepseek.kv_lora_rank + deepseek.qk_rope_head_dim
mha = 2 * 128 * 128
print(f"MLA {latent}, MHA {mha}: {mha / latent:.0f}x fewer")
#> MLA 576, MHA 32768: 57x fewer
print(f"as small as GQA with {latent / (2 * 128):g} key/value heads")
#> as small as GQA with 2.25 key/value heads
