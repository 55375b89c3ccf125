"""Total and active parameters of released mixtures of experts, counted."""

from llmarch import DecoderConfig, count_parameters

names = ["llama-3.1-70b", "mixtral-8x7b", "qwen3-30b-a3b", "deepseek-v3"]
row = "{:<15}{:>9}{:>18}{:>17}{:>7}"
print(row.format("model", "experts", "total", "active", "share"))
#> model            experts             total           active  share
for name in names:
    c = DecoderConfig.preset(name)
    total, active = count_parameters(c), count_parameters(c, active=True)
    experts = f"{c.n_experts_per_token}/{c.n_experts}" if c.n_experts else "dense"
    if c.n_shared_experts:  # DeepSeek-V3: 1 shared expert + 8 of 256 routed ones
        experts = f"{c.n_shared_experts}+{experts}"
    share = f"{active / total:.1%}"
    print(row.format(name, experts, f"{total:,}", f"{active:,}", share))
    #> llama-3.1-70b      dense    70,553,706,496   70,553,706,496 100.0%
    #> mixtral-8x7b         2/8    46,702,792,704   12,879,925,248  27.6%
    #> qwen3-30b-a3b      8/128    30,532,122,624    3,353,032,704  11.0%
    #> deepseek-v3      1+8/256   671,026,404,352   37,552,282,624   5.6%

# The model cards, in billions: total / active per token.
cards = {"mixtral-8x7b": (46.7, 12.9), "qwen3-30b-a3b": (30.5, 3.3),
         "deepseek-v3": (671, 37)}
for name, (total, active) in cards.items():
    c = DecoderConfig.preset(name)
    counted = count_parameters(c) / 1e9, count_parameters(c, active=True) / 1e9
    print(f"{name:<14} card {total:>5g}B /{active:>5g}B   "
          f"counted {counted[0]:6.2f}B /{counted[1]:6.2f}B")
    #> mixtral-8x7b   card  46.7B / 12.9B   counted  46.70B / 12.88B
    #> qwen3-30b-a3b  card  30.5B /  3.3B   counted  30.53B /  3.35B
    #> deepseek-v3    card   671B /   37B   counted 671.03B / 37.55B
