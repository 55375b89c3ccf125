"""The measured benchmark: generating with and without the KV cache."""

from llmarch.benchmarks import load_benchmarks

kv = load_benchmarks()["kv_cache"]  # written by `make bench`, shipped with the package
print(kv.title)
#> GPT.generate, d_model 128, 4 layers, 4 heads, vocabulary 256, float32, greedy, 1 BLAS thread
print(kv.machine())
#> AMD EPYC, 2 cores; Python 3.11.7; NumPy 2.4.6 with openblas 0.3.31.188.0 (Haswell kernel, 2 threads); measured 2026-11-28 20:00 UTC
print(kv.table())
#> new tokens  cache s  no cache s  cache ms/token  no cache ms/token  speed-up
#> ----------  -------  ----------  --------------  -----------------  --------
#>         64    0.122       0.365             1.9                5.7         3
#>        256    0.466        5.15            1.82               20.1      11.1
#>       1024     2.66         112             2.6                109      42.2
print(
    "load average (1, 5, 15 min) before:",
    kv.environment["load_average_before"],
    "after:",
    kv.environment["load_average_after"],
)
#> load average (1, 5, 15 min) before: [0.76, 2.28, 2.82] after: [1.01, 1.82, 2.58]
for target in kv.targets:
    verdict = "met" if target["met"] else "missed"
    print(
        f"{target['what']}: {target['measured']}",
        f"(target: at least {target['limit']}) - {verdict}",
    )
    #> speed-up with the cache at 256 new tokens: 11.1 (target: at least 5.0) - met
