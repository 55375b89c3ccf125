"""How the n x n score matrix grows with the text (efficiency_score_memory.svg)."""

import numpy as np

from llmarch import GPTConfig
from llmarch.plotting import line_chart, save_figure

gpt2 = GPTConfig.preset("gpt2")  # 12 layers of 12 heads, d_model 768
bytes_per_float = 4  # float32
tile = 128 * 512  # one tile of tiled attention: 128 queries against 512 keys


def gib(n_bytes):
    return n_bytes / 2**30


print(
    f"{'n':>7} {'one head':>12} {'all heads, all layers':>22}",
    f"{'multiply-adds, one head':>24}",
)
#>       n     one head  all heads, all layers  multiply-adds, one head
for n in (1024, 4096, 16384, 65536, 131072):
    one_head = n * n * bytes_per_float
    every_head = one_head * gpt2.n_heads * gpt2.n_layers
    work = (
        2 * n * n * gpt2.d_head
    )  # q.k for every pair, then the weighted sum of values
    print(
        f"{n:>7} {gib(one_head):>8.3f} GiB {gib(every_head):>18.1f} GiB {work:>24.2e}"
    )
    #>    1024    0.004 GiB                0.6 GiB                 1.34e+08
    #>    4096    0.062 GiB                9.0 GiB                 2.15e+09
    #>   16384    1.000 GiB              144.0 GiB                 3.44e+10
    #>   65536   16.000 GiB             2304.0 GiB                 5.50e+11
    #>  131072   64.000 GiB             9216.0 GiB                 2.20e+12

# Twice the text: four times the scores, four times the work.
print((2 * 4096) ** 2 / 4096**2)
#> 4.0

lengths = 2.0 ** np.arange(8, 18)
fig = line_chart(
    lengths,
    {
        "scores of one head, n × n": gib(lengths**2 * bytes_per_float),
        "scores of all GPT-2 heads and layers": gib(
            lengths**2 * bytes_per_float * gpt2.n_heads * gpt2.n_layers
        ),
        "tiled attention, one head: a tile, the queries and the output": gib(
            (tile + 2 * lengths * gpt2.d_head) * bytes_per_float
        ),
    },
    title="Memory for attention scores as the text grows (float32)",
    xlabel="sequence length n (tokens)",
    ylabel="GiB (log scale)",
    logx=True,
    logy=True,
)
save_figure(fig, "efficiency_score_memory.svg")
