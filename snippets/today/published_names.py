"""What the names promise and what the configs hold: every preset counted."""

from llmarch import DecoderConfig, count_parameters

print(f"{'preset':<16}{'name says':>10}{'counted':>17}{'off by':>9}")
#> preset           name says          counted   off by
for name in DecoderConfig.presets():
    if name.startswith("gpt2"):
        continue  # GPT-2's names carry no size; the comparison page counts them
    if DecoderConfig.preset(name).n_experts:
        continue  # mixtures of experts: the scaling page counts them, total and active
    said = float(name.rsplit("-", 1)[1].rstrip("b")) * 1e9
    counted = count_parameters(DecoderConfig.preset(name))
    print(f"{name:<16}{said / 1e9:>9g}B{counted:>17,}{counted / said - 1:>+9.1%}")
    #> llama-3.2-1b            1B    1,235,814,400   +23.6%
    #> llama-3.2-3b            3B    3,212,749,824    +7.1%
    #> llama-3.1-8b            8B    8,030,261,248    +0.4%
    #> llama-3.1-70b          70B   70,553,706,496    +0.8%
    #> llama-3.1-405b        405B  405,853,388,800    +0.2%
    #> mistral-7b              7B    7,241,732,096    +3.5%
    #> qwen3-0.6b            0.6B      596,049,920    -0.7%
    #> qwen3-8b                8B    8,190,735,360    +2.4%
    #> qwen3-32b              32B   32,762,123,264    +2.4%
