"""Grouped-query attention: Llama 3.1 8B's KV cache with 32, 8 and 1 KV heads."""

import dataclasses

from llmarch import DecoderConfig, count_parameters, kv_cache_bytes

llama = DecoderConfig.preset("llama-3.1-8b")  # 32 query heads, 8 key/value heads
variants = {
    "MHA, 32 KV heads": dataclasses.replace(llama, n_kv_heads=32),
    "GQA,  8 KV heads": llama,
    "MQA,  1 KV head": dataclasses.replace(llama, n_kv_heads=1),
}
GiB = 2**30
print(f"{'llama-3.1-8b':<18}{'8k tokens':>11}{'128k tokens':>13}{'parameters':>15}")
#> llama-3.1-8b        8k tokens  128k tokens     parameters
for name, config in variants.items():  # bf16: 2 bytes a number
    short, long = (kv_cache_bytes(config, n, "float16") / GiB
                   for n in (8192, 131072))
    params = count_parameters(config)
    print(f"{name:<18}{short:>7.2f} GiB{long:>9.2f} GiB{params:>15,}")
    #> MHA, 32 KV heads     4.00 GiB    64.00 GiB  8,835,567,616
    #> GQA,  8 KV heads     1.00 GiB    16.00 GiB  8,030,261,248
    #> MQA,  1 KV head      0.12 GiB     2.00 GiB  7,795,380,224

# Against the weights themselves, also in bf16:
for name, config in variants.items():
    cache = kv_cache_bytes(config, 131072, "float16")
    weights = count_parameters(config) * 2
    print(f"{name}: at 128k tokens the cache is {cache / weights:.2f}x the weights")
    #> MHA, 32 KV heads: at 128k tokens the cache is 3.89x the weights
    #> GQA,  8 KV heads: at 128k tokens the cache is 1.07x the weights
    #> MQA,  1 KV head: at 128k tokens the cache is 0.14x the weights
