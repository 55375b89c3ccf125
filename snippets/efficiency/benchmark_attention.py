"""The measured benchmark: tiled attention against torch's fused kernel (efficiency_benchmark.svg)."""

import matplotlib.pyplot as plt
import numpy as np

from llmarch.benchmarks import load_benchmarks
from llmarch.plotting import save_figure

attention = load_benchmarks()["attention"]  # written by `make bench`, shipped with the package
print(attention.title)
print(attention.machine())
print(attention.table(["n", "torch ms", "tiled ms", "plain ms", "tiled/torch", "plain/torch"]))
print(attention.table(["n", "tiled GFLOP/s", "torch GFLOP/s", "tiled % of matmul", "max |tiled-torch|"]))
print("NumPy matmul, the ceiling:", attention.extra["numpy_matmul_gflops"], "GFLOP/s")
for target in attention.targets:
    verdict = "met" if target["met"] else "missed"
    print(f"{target['what']}: {target['measured']} (target: at most {target['limit']}) - {verdict}")

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
