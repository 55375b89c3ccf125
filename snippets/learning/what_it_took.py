"""What training took and reached, read from the provenance records of the runs."""

from llmarch.plotting import save_figure, xy_chart
from llmarch.trained import load

names = ["shakespeare-gpt", "shakespeare-llama", "shakespeare-lstm"]
records = {name: load(name).provenance for name in names}

print(f"{'model':18} {'weights':>8} {'steps':>5} {'val loss':>8} {'train':>6} "
      f"{'minutes':>7}")
for name, r in records.items():
    final = r["final"]
    print(f"{name:18} {r['weights']['parameters']:8,} {r['steps']:5} "
          f"{final['val_loss']:8.3f} {final['train_loss']:6.3f} "
          f"{r['training_time_s'] / 60:7.1f}")
baselines = records["shakespeare-gpt"]["baselines"]
print(f"{'unigram baseline':18} {'':8} {'':5} {baselines['unigram']:8.3f}")
print(f"{'bigram baseline':18} {'':8} {'':5} {baselines['bigram']:8.3f}")

gpt = records["shakespeare-gpt"]
m, blas = gpt["machine"], gpt["machine"]["blas"]
print(f"machine: {m['cpu']}, {m['cores']} cores, NumPy {m['numpy']}, "
      f"{blas.get('internal_api')} {blas.get('version')} "
      f"({blas.get('num_threads')} thread)")
print(f"data: {gpt['data']['train_tokens']:,} characters to train on, "
      f"{gpt['data']['val_tokens']:,} to validate; finished {gpt['finished']}")

fig = xy_chart(
    {name: ([e["time"] / 60 for e in r["evaluations"]],
            [e["val_loss"] for e in r["evaluations"]]) for name, r in records.items()},
    hlines={"unigram": baselines["unigram"], "bigram": baselines["bigram"]},
    markers=True,
    title="Validation loss against training time, same budget",
    xlabel="minutes of training steps (evaluations not counted)",
    ylabel="validation loss (nats per character)",
)
save_figure(fig, "shakespeare_runs.svg")
