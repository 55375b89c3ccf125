"""The measured benchmark: tiled attention against torch's fused kernel (efficiency_benchmark.svg)."""

import matplotlib.pyplot as plt
import numpy as np

from llmarch.benchmarks import load_benchmarks
from llmarch.plotting import save_figure

attention = load_benchmarks()["attention"]  # written by `make bench`, shipped with the package
print(attention.title)
#> causal attention, batch 1, 12 heads, d_head 64, float32 (CPU)
print(attention.machine())
#> AMD EPYC, 2 cores; Python 3.11.7; NumPy 2.4.6 with openblas 0.3.31.188.0 (Haswell kernel, 2 threads); torch 2.13.0+cpu (2 threads); measured 2026-11-28 18:58 UTC
print(attention.table(["n", "torch ms", "tiled ms", "plain ms", "tiled/torch", "plain/torch"]))
#>    n  torch ms  tiled ms  plain ms  tiled/torch  plain/torch
#> ----  --------  --------  --------  -----------  -----------
#>  256      14.8      40.5       494         2.73         33.3
#> 1024       155       141      1060         0.91         6.86
#> 2048       295       557      3676         1.89         12.5
print(attention.table(["n", "tiled GFLOP/s", "torch GFLOP/s", "tiled % of matmul", "max |tiled-torch|"]))
#>    n  tiled GFLOP/s  torch GFLOP/s  tiled % of matmul  max |tiled-torch|
#> ----  -------------  -------------  -----------------  -----------------
#>  256            2.5            6.8               10.4            8.3e-07
#> 1024           11.4           10.4               47.5            1.2e-06
#> 2048           11.6           21.8               48.2            8.6e-07
print("NumPy matmul, the ceiling:", attention.extra["numpy_matmul_gflops"], "GFLOP/s")
#> NumPy matmul, the ceiling: 24.0 GFLOP/s
print("tiled_attention ran with workers =", attention.extra["workers"], "- torch chose its", attention.extra["torch_backend"], "kernel")
#> tiled_attention ran with workers = 2 - torch chose its FLASH_ATTENTION kernel
env = attention.environment
print("load average (1, 5, 15 min) before:", env["load_average_before"], "after:", env["load_average_after"])
#> load average (1, 5, 15 min) before: [6.01, 6.24, 6.28] after: [6.66, 6.4, 6.34]
for target in attention.targets:
    verdict = "met" if target["met"] else "missed"
    print(f"{target['what']}: {target['measured']} (target: at most {target['limit']}) - {verdict}")
    #> tiled time / torch time at n = 1024: 0.91 (target: at most 1.5) - met
    #> tiled time / torch time at n = 2048: 1.89 (target: at most 1.5) - missed

lengths = np.array(attention.column("n"))
fig, ax = plt.subplots(figsize=(6.5, 3.8), facecolor="white", layout="constrained")
width = 0.27
for offset, (label, column) in zip((-1, 0, 1), [("torch, fused C++", "torch ms"), ("llmarch, tiled", "tiled ms"), ("llmarch, plain", "plain ms")], strict=True):
    ax.bar(np.arange(len(lengths)) + offset * width, attention.column(column), width, label=label)
ax.set_xticks(np.arange(len(lengths)), labels=[f"n = {n}" for n in lengths])
ax.set_yscale("log")
ax.set_ylabel("milliseconds (log scale)")
ax.set_title("Causal attention, 12 heads, d_head 64, float32, CPU", fontsize=10)
ax.legend()
ax.grid(axis="y", alpha=0.3)
save_figure(fig, "efficiency_benchmark.svg")
