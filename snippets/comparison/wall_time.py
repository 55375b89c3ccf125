"""Wall time of one forward pass, recurrent layers against self-attention."""

import textwrap

from llmarch.benchmarks import load_benchmarks
from llmarch.plotting import line_chart, save_figure

# Nothing is timed while the site builds: `make bench` measured it and wrote the
# results file shipped in the package, with the machine it ran on.
result = load_benchmarks()["recurrent_vs_attention"]
print(textwrap.fill(result.title, 80))
#> one forward pass over n positions, batch 1, d 512, 8 heads, float32 (NumPy, 1
#> CPU thread)
print(result.machine().replace("; ", "\n"))  # one fact a line
#> Intel(R) Xeon(R) Processor, 2 cores
#> Python 3.11.7
#> NumPy 2.4.6 with openblas 0.3.31.188.0 (SkylakeX kernel, up to 2 threads)
#> measured 2026-11-29 22:19 UTC
env = result.environment
print("load average before:", env["load_average_before"])
#> load average before: [1.0, 0.93, 1.44]
print("load average after: ", env["load_average_after"])
#> load average after:  [1.0, 0.94, 1.43]
print(result.table())
#>    n  RNN ms  LSTM ms  attn ms  attn/RNN  RNN GFLOP/s  LSTM GFLOP/s  attn GFLOP/s
#> ----  ------  -------  -------  --------  -----------  ------------  ------------
#>   16    1.55     8.54     1.65      1.07         10.8          7.86          20.7
#>   64    5.83     32.5        3     0.515         11.5          8.26          47.5
#>  256    21.8      127     10.8     0.494         12.3          8.47          62.3
#> 1024    84.3      508     99.7      1.18         12.7          8.45          43.1
#> 2048     171     1022      848      4.95         12.6          8.41          15.2

ratio = dict(zip(result.column("n"), result.column("attn/RNN"), strict=True))
print("attention faster than the RNN at n =", [n for n, r in ratio.items() if r < 1])
#> attention faster than the RNN at n = [64, 256]

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
