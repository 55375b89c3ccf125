"""Tiled attention against torch's kernel, measured (efficiency_benchmark.svg)."""

import textwrap

from llmarch.benchmarks import load_benchmarks
from llmarch.plotting import bar_chart, save_figure

# Written by `make bench`, shipped with the package.
attention = load_benchmarks()["attention"]
print(textwrap.fill(attention.title, 80))
#> causal attention, batch 1, 12 heads, d_head 64, float32 (CPU)
print(attention.machine().replace("; ", "\n"))  # one fact a line
#> Intel(R) Xeon(R) Processor, 2 cores
#> Python 3.11.7
#> NumPy 2.4.6 with openblas 0.3.31.188.0 (SkylakeX kernel, up to 2 threads)
#> torch 2.13.0+cpu (up to 2 threads)
#> measured 2026-11-29 22:17 UTC
print(
    attention.table(
        ["n", "torch ms", "tiled ms", "plain ms", "tiled/torch", "plain/torch"]
    )
)
#>    n  torch ms  tiled ms  plain ms  tiled/torch  plain/torch
#> ----  --------  --------  --------  -----------  -----------
#>  256      1.34      6.11      5.19         4.55         3.87
#> 1024      11.8      24.8       110         2.11         9.37
#> 2048      39.1      79.5       454         2.03         11.6
print(
    attention.table(
        [
            "n",
            "tiled GFLOP/s",
            "torch GFLOP/s",
            "tiled % of matmul",
            "max |tiled-torch|",
        ]
    )
)
#>    n  tiled GFLOP/s  torch GFLOP/s  tiled % of matmul  max |tiled-torch|
#> ----  -------------  -------------  -----------------  -----------------
#>  256           16.5           75.3                6.5            3.6e-07
#> 1024           64.9            137               25.6            3.6e-07
#> 2048           81.1            165                 32            4.8e-07
print("NumPy matmul, the ceiling:", attention.extra["numpy_matmul_gflops"], "GFLOP/s")
#> NumPy matmul, the ceiling: 253.9 GFLOP/s
print(
    "tiled_attention ran with workers =",
    attention.extra["workers"],
    "- torch chose its",
    attention.extra["torch_backend"],
    "kernel",
)
#> tiled_attention ran with workers = 2 - torch chose its FLASH_ATTENTION kernel
env = attention.environment
print(
    "load average (1, 5, 15 min) before:",
    env["load_average_before"],
    "after:",
    env["load_average_after"],
)
#> load average (1, 5, 15 min) before: [0.62, 0.82, 1.51] after: [0.83, 0.86, 1.52]
for target in attention.targets:
    verdict = "met" if target["met"] else "missed"
    print(
        f"{target['what']}: {target['measured']}",
        f"(target: at most {target['limit']}) - {verdict}",
    )
    #> tiled time / torch time at n = 1024: 2.11 (target: at most 1.5) - missed
    #> tiled time / torch time at n = 2048: 2.03 (target: at most 1.5) - missed

# The same run measured the memory of one head at a long length (with tracemalloc).
memory = load_benchmarks()["attention_memory"]
print(textwrap.fill(memory.title, 80))
#> peak memory of one head of causal attention, d_head 64, float32
print(memory.table())
#>    n  n x n scores MiB  plain MiB  tiled MiB  plain/tiled
#> ----  ----------------  ---------  ---------  -----------
#> 2048                16       48.1       1.63           29
#> 8192               256        768       4.64          166

fig = bar_chart(
    [f"n = {n}" for n in attention.column("n")],
    {
        "torch, fused C++": attention.column("torch ms"),
        "llmarch, tiled": attention.column("tiled ms"),
        "llmarch, plain": attention.column("plain ms"),
    },
    title="Causal attention, 12 heads, d_head 64, float32, CPU",
    ylabel="milliseconds (log scale)",
    logy=True,
)
save_figure(fig, "efficiency_benchmark.svg")
