"""Where the parameters of GPT-2 live, counted exactly (gpt2_parameters.svg)."""

from llmarch import GPTConfig, count_parameters, parameter_breakdown
from llmarch.plotting import bar_chart, save_figure

for name in GPTConfig.presets():
    config = GPTConfig.preset(name)
    print(f"{name:<12} {config.n_layers:>2} layers  d_model {config.d_model:>4}  "
          f"{count_parameters(config):>13,} parameters")
    #> gpt2         12 layers  d_model  768    124,439,808 parameters
    #> gpt2-medium  24 layers  d_model 1024    354,823,168 parameters
    #> gpt2-large   36 layers  d_model 1280    774,030,080 parameters
    #> gpt2-xl      48 layers  d_model 1600  1,557,611,200 parameters

gpt2 = GPTConfig.preset("gpt2")
parts = parameter_breakdown(gpt2)
for part, count in parts.items():
    print(f"{part:<18} {count:>11,}")
    #> token_embedding     38,597,376
    #> position_embedding     786,432
    #> attention           28,348,416
    #> feed_forward        56,669,184
    #> norms                   38,400
    #> output                       0
share = parts["token_embedding"] / count_parameters(gpt2)
ffn_share = parts["feed_forward"] / (parts["feed_forward"] + parts["attention"])
print(f"token embedding: {share:.0%} of gpt2; feed-forward: {ffn_share:.0%} of a block")
#> token embedding: 31% of gpt2; feed-forward: 67% of a block

names = GPTConfig.presets()
breakdowns = [parameter_breakdown(GPTConfig.preset(name)) for name in names]
millions = {
    part.replace("_", " "): [breakdown[part] / 1e6 for breakdown in breakdowns]
    for part in breakdowns[0]
    if part != "output"  # tied: no parameters of its own
}
fig = bar_chart(
    names, millions, stacked=True, horizontal=True, ylabel="parameters (millions)"
)
save_figure(fig, "gpt2_parameters.svg")
