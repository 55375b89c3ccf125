"""The measured benchmark: generating with and without the KV cache."""

import textwrap

from llmarch.benchmarks import load_benchmarks

kv = load_benchmarks()["kv_cache"]  # written by `make bench`, shipped with the package
print(textwrap.fill(kv.title, 80))
#> GPT.generate, d_model 128, 4 layers, 4 heads, vocabulary 256, float32, greedy, 1
#> BLAS thread
print(kv.machine().replace("; ", "\n"))  # one fact a line
#> Intel(R) Xeon(R) Processor, 2 cores
#> Python 3.11.7
#> NumPy 2.4.6 with openblas 0.3.31.188.0 (SkylakeX kernel, up to 2 threads)
#> measured 2026-11-29 22:17 UTC
print(kv.table())
#> new tokens  cache s  no cache s  cache ms/token  no cache ms/token  speed-up
#> ----------  -------  ----------  --------------  -----------------  --------
#>         64     0.07       0.549            1.09               8.57       7.8
#>        256    0.278        6.05            1.08               23.6      21.8
#>       1024     1.49         116            1.45                113      77.9
print(
    "load average (1, 5, 15 min) before:",
    kv.environment["load_average_before"],
    "after:",
    kv.environment["load_average_after"],
)
#> load average (1, 5, 15 min) before: [0.92, 0.88, 1.52] after: [1.0, 0.93, 1.44]
for target in kv.targets:
    verdict = "met" if target["met"] else "missed"
    print(
        f"{target['what']}: {target['measured']}",
        f"(target: at least {target['limit']}) - {verdict}",
    )
    #> speed-up with the cache at 256 new tokens: 21.8 (target: at least 5.0) - met
