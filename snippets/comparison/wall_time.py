"""Wall time of one forward pass, recurrent layers against self-attention."""

from llmarch.benchmarks import load_benchmarks
from llmarch.plotting import line_chart, save_figure

# Nothing is timed while the site builds: `make bench` measured it and wrote the
# results file shipped in the package, with the machine it ran on.
result = load_benchmarks()["recurrent_vs_attention"]
print(result.title)
#> one forward pass over n positions, batch 1, d 512, 8 heads, float32 (NumPy, 1 CPU thread)
print(result.machine())
#> AMD EPYC, 2 cores; Python 3.11.7; NumPy 2.4.6 with openblas 0.3.31.188.0 (Haswell kernel, 2 threads); measured 2026-11-28 19:06 UTC
env = result.environment
print("load average before:", env["load_average_before"])
#> load average before: [1.66, 4.59, 5.71]
print("load average after: ", env["load_average_after"])
#> load average after:  [4.5, 4.93, 5.78]
print(result.table())
#>    n  RNN ms  LSTM ms  attn ms  attn/RNN  RNN GFLOP/s  LSTM GFLOP/s  attn GFLOP/s
#> ----  ------  -------  -------  --------  -----------  ------------  ------------
#>   16    1.01     9.29     1.09      1.08         16.6          7.22          31.3
#>   64    7.63     30.6     2.62     0.343         8.79          8.79          54.5
#>  256    27.8      133     19.6     0.705         9.65           8.1          34.2
#> 1024     110      725      246      2.23         9.76          5.92          17.5
#> 2048     284     1518     2453      8.63         7.56          5.66          5.25

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
