"""Released models side by side, every number read from their configs or counted."""

from llmarch import DecoderConfig, count_parameters, kv_cache_bytes

names = ["gpt2", "gpt2-xl", "llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b",
         "llama-3.1-70b", "llama-3.1-405b", "mistral-7b", "qwen3-0.6b", "qwen3-8b",
         "qwen3-32b"]
configs = {name: DecoderConfig.preset(name) for name in names}

# The shape: width, depth, heads, the feed-forward.
row = "{:<15}{:>7}{:>7}{:>10}{:>7}  {}"
print(row.format("model", "d", "layers", "heads/KV", "d_head", "feed-forward"))
#> model                d layers  heads/KV d_head  feed-forward
for name, c in configs.items():
    ffn = f"{'SwiGLU' if c.feed_forward == 'swiglu' else 'GELU MLP'} {c.d_ff:,}"
    heads = f"{c.n_heads}/{c.n_kv_heads}"
    print(row.format(name, c.d_model, c.n_layers, heads, c.d_head, ffn))
    #> gpt2               768     12     12/12     64  GELU MLP 3,072
    #> gpt2-xl           1600     48     25/25     64  GELU MLP 6,400
    #> llama-3.2-1b      2048     16      32/8     64  SwiGLU 8,192
    #> llama-3.2-3b      3072     28      24/8    128  SwiGLU 8,192
    #> llama-3.1-8b      4096     32      32/8    128  SwiGLU 14,336
    #> llama-3.1-70b     8192     80      64/8    128  SwiGLU 28,672
    #> llama-3.1-405b   16384    126     128/8    128  SwiGLU 53,248
    #> mistral-7b        4096     32      32/8    128  SwiGLU 14,336
    #> qwen3-0.6b        1024     28      16/8    128  SwiGLU 3,072
    #> qwen3-8b          4096     36      32/8    128  SwiGLU 12,288
    #> qwen3-32b         5120     64      64/8    128  SwiGLU 25,600


def positions(c):
    if c.positions == "learned":
        return "learned"
    scaled = f" x{c.rope_scaling.factor:g}" if c.rope_scaling else ""
    return f"RoPE {c.rope_theta:.0e}{scaled}".replace("e+0", "e")


# The choices, the size, and what one token costs in the KV cache (bf16: 2 bytes).
row = "{:<15}{:<9}{:<15}{:>7}{:>6}{:>10}{:>10}"
print()
#>
heading = ("model", "norm", "positions", "window", "tied", "params", "KV/token")
print(row.format(*heading))
#> model          norm     positions       window  tied    params  KV/token
for name, c in configs.items():
    norm = ("LN" if c.norm == "layernorm" else "RMS") + ("+QK" if c.qk_norm else "")
    window = c.sliding_window or "-"
    tied = "yes" if c.tie_embeddings else "no"
    params = f"{count_parameters(c) / 1e9:.2f}B"
    kv = f"{kv_cache_bytes(c, 1, 'float16') // 1024} KiB"
    print(row.format(name, norm, positions(c), window, tied, params, kv))
    #> gpt2           LN       learned              -   yes     0.12B    36 KiB
    #> gpt2-xl        LN       learned              -   yes     1.56B   300 KiB
    #> llama-3.2-1b   RMS      RoPE 5e5 x32         -   yes     1.24B    32 KiB
    #> llama-3.2-3b   RMS      RoPE 5e5 x32         -   yes     3.21B   112 KiB
    #> llama-3.1-8b   RMS      RoPE 5e5 x8          -    no     8.03B   128 KiB
    #> llama-3.1-70b  RMS      RoPE 5e5 x8          -    no    70.55B   320 KiB
    #> llama-3.1-405b RMS      RoPE 5e5 x8          -    no   405.85B   504 KiB
    #> mistral-7b     RMS      RoPE 1e4          4096    no     7.24B   128 KiB
    #> qwen3-0.6b     RMS+QK   RoPE 1e6             -   yes     0.60B   112 KiB
    #> qwen3-8b       RMS+QK   RoPE 1e6             -    no     8.19B   144 KiB
    #> qwen3-32b      RMS+QK   RoPE 1e6             -    no    32.76B   256 KiB
