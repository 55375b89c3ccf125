"""Wall time of one forward pass, recurrent layers against self-attention, as `make bench` measured it."""

from llmarch.benchmarks import load_benchmarks
from llmarch.plotting import line_chart, save_figure

# Timing is never done while the site builds: `make bench` measured it and wrote the results
# file shipped in the package, with the machine it ran on.
result = load_benchmarks()["recurrent_vs_attention"]
print(result.title)
#> one forward pass over n positions, batch 1, d 512, 8 heads, float32 (NumPy, CPU)
print(result.machine())
#> AMD EPYC, 2 cores; Python 3.11.7; NumPy 2.4.6 with openblas 0.3.31.188.0 (Haswell kernel, 2 threads); measured 2026-11-28 18:48 UTC
environment = result.environment
print("load average before and after:", environment["load_average_before"], environment["load_average_after"])
#> load average before and after: [4.87, 5.96, 5.98] [6.98, 6.84, 6.36]
print(result.table())
#>    n  RNN ms  LSTM ms  attn ms  attn/RNN  RNN GFLOP/s  LSTM GFLOP/s  attn GFLOP/s
#> ----  ------  -------  -------  --------  -----------  ------------  ------------
#>   16    1.07     3.77    0.721     0.672         15.6          17.8          47.3
#>   64    3.23     12.5      1.7     0.527         20.8          21.4          83.7
#>  256    12.4     47.1     6.31     0.507         21.6          22.8           106
#> 1024     241     8438      866       3.6         4.46          0.51          4.96
#> 2048     412    20683     2919      7.08         5.21          0.42          4.41

fig = line_chart(
    result.column("n"),
    {
        "RNN": result.column("RNN ms"),
        "LSTM": result.column("LSTM ms"),
        "self-attention": result.column("attn ms"),
    },
    title="One forward pass of one layer, measured",
    xlabel="sequence length n (tokens)",
    ylabel="milliseconds (log scale)",
    logx=True,
    logy=True,
)
save_figure(fig, "comparison_wall_time.svg")
