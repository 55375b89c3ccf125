"""The measured benchmark: generating with and without the KV cache."""

from llmarch.benchmarks import load_benchmarks

kv = load_benchmarks()["kv_cache"]  # written by `make bench`, shipped with the package
print(kv.title)
print(kv.machine())
print(kv.table())
for target in kv.targets:
    verdict = "met" if target["met"] else "missed"
    print(f"{target['what']}: {target['measured']} (target: at least {target['limit']}) - {verdict}")
