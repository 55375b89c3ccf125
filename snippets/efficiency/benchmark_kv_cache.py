"""The measured benchmark: generating with and without the KV cache."""

from llmarch.benchmarks import load_benchmarks

kv = load_benchmarks()["kv_cache"]  # written by `make bench`, shipped with the package
print(kv.title)
#> GPT.generate, d_model 128, 4 layers, 4 heads, vocabulary 256, float32, greedy
print(kv.machine())
#> AMD EPYC, 2 cores; Python 3.11.7; NumPy 2.4.6 with openblas 0.3.31.188.0 (Haswell kernel, 2 threads); torch 2.13.0+cpu (2 threads); measured 2026-11-28 19:00 UTC
print(kv.table())
#> new tokens  cache s  no cache s  cache ms/token  no cache ms/token  speed-up
#> ----------  -------  ----------  --------------  -----------------  --------
#>         64    0.206       0.637            3.22               9.95       3.1
#>        256     1.22         7.3            4.77               28.5         6
#>       1024     6.18         172            6.04                168      27.7
print("load average (1, 5, 15 min) before:", kv.environment["load_average_before"], "after:", kv.environment["load_average_after"])
#> load average (1, 5, 15 min) before: [7.01, 6.5, 6.37] after: [5.31, 6.2, 6.31]
for target in kv.targets:
    verdict = "met" if target["met"] else "missed"
    print(f"{target['what']}: {target['measured']} (target: at least {target['limit']}) - {verdict}")
    #> speed-up with the cache at 256 new tokens: 6.0 (target: at least 5.0) - met
