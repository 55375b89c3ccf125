"""What training took and reached, read from the provenance records of the runs."""

from llmarch.plotting import save_figure, xy_chart
from llmarch.trained import provenance

names = ["shakespeare-gpt", "shakespeare-llama", "shakespeare-lstm"]
records = {name: provenance(name) for name in names}  # read; the build never trains

print(f"{'model':18} {'weights':>8} {'steps':>5} {'peak lr':>7} {'val loss':>8} "
      f"{'train':>6} {'CPU min':>7} {'wall min':>8}")
#> model               weights steps peak lr val loss  train CPU min wall min
for name, r in records.items():
    final, lr = r["final"], r["hyperparameters"]["lr"]
    print(f"{name:18} {r['weights']['parameters']:8,} {r['steps']:5} {lr:7g} "
          f"{final['val_loss']:8.3f} {final['train_loss']:6.3f} "
          f"{r['training_cpu_s'] / 60:7.1f} {r['training_time_s'] / 60:8.1f}")
    #> shakespeare-gpt     811,264  2000   0.001    1.974  1.785     5.6      5.7
    #> shakespeare-llama   797,312  2000   0.001    1.867  1.521     5.2      5.2
    #> shakespeare-lstm    826,956  2000   0.002    1.851  1.583     5.0      5.0
baselines = records["shakespeare-gpt"]["baselines"]
print(f"{'unigram baseline':18} {'':8} {'':5} {'':7} {baselines['unigram']:8.3f}")
#> unigram baseline                             3.314
print(f"{'bigram baseline':18} {'':8} {'':5} {'':7} {baselines['bigram']:8.3f}")
#> bigram baseline                              2.603
ranked = sorted(records, key=lambda name: records[name]["final"]["val_loss"])
print("lowest validation loss first:", ", ".join(ranked))
#> lowest validation loss first: shakespeare-lstm, shakespeare-llama, shakespeare-gpt

gpt = records["shakespeare-gpt"]
m, blas = gpt["machine"], gpt["machine"]["blas"]
print(f"machine: {m['cpu']}, {m['cores']} cores, NumPy {m['numpy']}, "
      f"{blas.get('internal_api')} {blas.get('version')} "
      f"({blas.get('num_threads')} thread)")
#> machine: AMD EPYC, 2 cores, NumPy 2.4.6, openblas 0.3.31.188.0 (1 thread)
print(f"data: {gpt['data']['train_tokens']:,} characters to train on, "
      f"{gpt['data']['val_tokens']:,} to validate")
#> data: 932,397 characters to train on, 103,600 to validate
for name, r in records.items():  # when, and how busy the machine was then
    print(f"{name:18} finished {r['finished']}, "
          f"load average {r['machine']['load_average_at_end'][0]}")
    #> shakespeare-gpt    finished 2026-12-01 17:33 UTC, load average 2.01
    #> shakespeare-llama  finished 2026-12-01 17:40 UTC, load average 1.22
    #> shakespeare-lstm   finished 2026-12-01 17:46 UTC, load average 1.0

fig = xy_chart(
    {name: ([e["cpu_time"] / 60 for e in r["evaluations"]],
            [e["val_loss"] for e in r["evaluations"]]) for name, r in records.items()},
    hlines={"unigram": baselines["unigram"], "bigram": baselines["bigram"]},
    markers=True,
    title="Validation loss against CPU time, same budget",
    xlabel="CPU minutes of training steps (evaluations not counted)",
    ylabel="validation loss (nats per character)",
)
save_figure(fig, "shakespeare_runs.svg")
