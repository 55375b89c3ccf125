"""The published GPT-2 and GPT-3 sizes, counted parameter by parameter."""

from llmarch import GPTConfig, count_parameters
from llmarch.sizing import GPT2_TABLE, GPT3_TABLE


def difference(counted, row):
    return f"{counted / row.published_parameters - 1:+.1%}"


# GPT-2 (Radford et al. 2019): the released models, named by their published sizes.
columns = "{:<12} {:>9} {:>15} {:>10}"
print(columns.format("GPT-2", "published", "counted", "difference"))
#> GPT-2        published         counted difference
for row in GPT2_TABLE:
    counted = count_parameters(GPTConfig.preset(row.name))
    published = row.n_params
    print(columns.format(row.name, published, f"{counted:,}", difference(counted, row)))
    #> gpt2              117M     124,439,808      +6.4%
    #> gpt2-medium       345M     354,823,168      +2.8%
    #> gpt2-large        762M     774,030,080      +1.6%
    #> gpt2-xl          1542M   1,557,611,200      +1.0%

# GPT-3 (Brown et al. 2020, Table 2.1), every row as printed. All eight models have
# a context of n_ctx = 2048 tokens and GPT-2's vocabulary of 50257.
columns = "{:<12} {:>9} {:>3} {:>7} {:>3} {:>6} {:>9} {:>15} {:>6}"
heading = ("GPT-3", "published", "L", "d_model", "h", "d_head", "h*d_head", "counted")
print("\n" + columns.format(*heading, "diff"))
#>
#> GPT-3        published   L d_model   h d_head  h*d_head         counted   diff
for row in GPT3_TABLE:
    counted = count_parameters(row.config())
    product = f"{row.n_heads * row.d_head}{'' if row.heads_consistent else ' !'}"
    published = (row.n_params, row.n_layers, row.d_model, row.n_heads, row.d_head)
    counts = (product, f"{counted:,}", difference(counted, row))
    print(columns.format(row.name, *published, *counts))
    #> GPT-3 Small       125M  12     768  12     64       768     125,226,240  +0.2%
    #> GPT-3 Medium      350M  24    1024  16     64      1024     355,871,744  +1.7%
    #> GPT-3 Large       760M  24    1536  16     96      1536     760,300,032  +0.0%
    #> GPT-3 XL          1.3B  24    2048  24    128    3072 !   1,315,723,264  +1.2%
    #> GPT-3 2.7B        2.7B  32    2560  32     80      2560   2,651,553,280  -1.8%
    #> GPT-3 6.7B        6.7B  32    4096  32    128      4096   6,658,404,352  -0.6%
    #> GPT-3 13B        13.0B  40    5140  40    128    5120 !  12,952,938,780  -0.4%
    #> GPT-3 175B      175.0B  96   12288  96    128     12288 174,604,259,328  -0.2%

# In the rows marked !, h x d_head differs from d_model: both cannot be right.
# Which width gives the published size?
for row in GPT3_TABLE:
    if not row.heads_consistent:
        other = row.n_heads * row.d_head
        counted = count_parameters(row.config(d_model=other))
        print(f"{row.name}: with d_model = {row.n_heads} x {row.d_head} = {other},")
        #> GPT-3 XL: with d_model = 24 x 128 = 3072,
        #> GPT-3 13B: with d_model = 40 x 128 = 5120,
        change = difference(counted, row)
        print(f"  {counted:,} parameters, {change} from {row.n_params}")
        #>   2,879,554,560 parameters, +121.5% from 1.3B
        #>   12,853,386,240 parameters, -1.1% from 13.0B
