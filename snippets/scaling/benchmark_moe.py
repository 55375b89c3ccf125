"""Measured by `make bench`: experts against a dense model of their active size."""

from llmarch.benchmarks import load_benchmarks

results = load_benchmarks()
moe = results["moe"]  # written by `make bench`, shipped with the package
print(moe.title)
#> Greedy generation of 64 tokens after 32, float32, 1 thread each
print(moe.machine().replace("; ", "\n"))  # one fact a line
#> AMD EPYC, 2 cores
#> Python 3.11.7
#> NumPy 2.4.6 with openblas 0.3.31.188.0 (Haswell kernel, up to 2 threads)
#> torch 2.13.0+cpu (up to 1 threads)
#> measured 2026-12-01 14:07 UTC
print("load average (1, 5, 15 min) before:", moe.environment["load_average_before"])
#> load average (1, 5, 15 min) before: [5.82, 4.9, 4.7]
print(moe.table())
#>     shape               model  parameters      active  llmarch tok/s  HF tok/s  ratio
#> ---------  ------------------  ----------  ----------  -------------  --------  -----
#> width 128               dense     853,120     853,120            310       137   2.26
#> width 128  mixture of experts   2,626,688     857,216            194      96.5   2.01
#> width 512               dense  12,849,664  12,849,664           58.4      33.6   1.74
#> width 512  mixture of experts  41,177,600  12,866,048           40.4      27.1   1.49
for what, ratio in moe.extra.items():
    print(f"{what}: {ratio}")
    #> width 128: mixture of experts / dense speed, llmarch: 0.625
    #> width 128: mixture of experts / dense speed, transformers: 0.704
    #> width 512: mixture of experts / dense speed, llmarch: 0.692
    #> width 512: mixture of experts / dense speed, transformers: 0.807

cache = results["latent_cache"]  # the memory of the cache, measured
print(cache.title)
#> The KV cache after 512 tokens: 2 layers, 16 query heads, width 2048, float32
print(cache.table(["attention", "tokens", "cache bytes", "bytes / token / layer"]))
#>                        attention  tokens  cache bytes  bytes / token / layer
#> --------------------------------  ------  -----------  ---------------------
#> grouped-query, 8 KV heads of 128     512      8388608                   8192
#>                 latent, 512 + 64     512      2359296                   2304
print(cache.table(["attention", "numbers / token / layer"]))
#>                        attention  numbers / token / layer
#> --------------------------------  -----------------------
#> grouped-query, 8 KV heads of 128                     2048
#>                 latent, 512 + 64                      576
