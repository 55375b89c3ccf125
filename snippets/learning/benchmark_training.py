"""Measured by `make bench`: one training step here against torch, side by side."""

import textwrap

from llmarch.benchmarks import load_benchmarks

step = load_benchmarks()["training_step"]  # written by `make bench`, shipped
print(textwrap.fill(step.title, 72))
#> One training step of shakespeare-gpt (12 x 64 tokens, 811,264 weights,
#> float32, 1 thread each)
print(step.machine().replace("; ", "\n"))  # one fact a line
#> AMD EPYC, 2 cores
#> Python 3.11.7
#> NumPy 2.4.6 with openblas 0.3.31.188.0 (Haswell kernel, up to 2 threads)
#> torch 2.13.0+cpu (up to 2 threads)
#> measured 2026-12-01 17:37 UTC
env = step.environment
print("load average (1, 5, 15 min) before:", env["load_average_before"],
      "after:", env["load_average_after"])
#> load average (1, 5, 15 min) before: [1.6, 1.94, 2.19] after: [1.87, 1.95, 2.17]
print(step.table())
#>     who  ms/step  tokens/s  loss at step 202  val loss (64 windows)
#> -------  -------  --------  ----------------  ---------------------
#> llmarch      166      4617              2.52                   2.55
#>   torch      139      5509              2.52                   2.55
for target in step.targets:
    verdict = "met" if target["met"] else "missed"
    print(f"{target['what']}: {target['measured']} "
          f"(target: at most {target['limit']}) - {verdict}")
    #> step time ratio (llmarch / torch): 1.19 (target: at most 2.0) - met
    #> validation loss gap after 202 steps: 0.0 (target: at most 0.05) - met
