"""Accuracy against distance: RNN, LSTM and transformer after the same training."""

from llmarch.experiments import experiment
from llmarch.plotting import save_figure, xy_chart
from llmarch.trained import available, load

kinds = ("rnn", "lstm", "transformer")
accuracy = {}
for task in ("lookup", "marker"):
    accuracy[task] = {k: load(f"{task}-{k}").provenance["final"]["accuracy"]
                      for k in kinds if f"{task}-{k}" in available()}
    # distance -> share of right answers (the build reads the recorded runs)
    rows = [f"{task} recall, accuracy by distance"]
    if accuracy[task]:  # the distances, as every run was evaluated
        first = next(iter(accuracy[task].values()))
        rows.append(f"{'distance':>12} " + " ".join(f"{d:>5}" for d in first))
    for kind, by_distance in accuracy[task].items():
        shares = " ".join(f"{a:5.2f}" for a in by_distance.values())
        rows.append(f"{kind:>12} {shares}")
    for kind, by_distance in accuracy[task].items():  # where it is right half the time
        reach = [d for d, a in by_distance.items() if a >= 0.5]
        reach = ", ".join(reach) or "no distance"
        rows.append(f"{kind:>12} half or more right at: {reach}")
    for kind in kinds:
        if kind not in accuracy[task]:
            rows.append(f"{kind:>12} not recorded yet: llmarch train {task}-{kind}")
    print("\n".join(rows))
    #> lookup recall, accuracy by distance
    #>     distance     2     4     8    16    32    64   128   254
    #>          rnn  0.83  0.15  0.10  0.07  0.10  0.08  0.09  0.07
    #>         lstm  0.30  0.23  0.20  0.10  0.09  0.08  0.09  0.05
    #>  transformer  0.78  0.29  0.10  0.10  0.06  0.07  0.09  0.08
    #>          rnn half or more right at: 2
    #>         lstm half or more right at: no distance
    #>  transformer half or more right at: 2
    #> marker recall, accuracy by distance
    #>     distance     1     2     4     8    16    32    64   128   254
    #>          rnn  1.00  1.00  1.00  1.00  1.00  1.00  1.00  1.00  1.00
    #>          rnn half or more right at: 1, 2, 4, 8, 16, 32, 64, 128, 254
    #>         lstm not recorded yet: llmarch train marker-lstm
    #>  transformer not recorded yet: llmarch train marker-transformer

values = experiment("lookup-rnn").data["n_values"]  # the task as trained
fig = xy_chart(
    {kind: ([int(d) for d in by_distance], list(by_distance.values()))
     for kind, by_distance in accuracy["lookup"].items()},
    hlines={f"chance (1 in {values})": 1 / values},
    logx=True,
    markers=True,
    ylim=(0, 1.02),
    title="Key-value recall after the same training",
    xlabel="distance to the answer (tokens, log scale)",
    ylabel="accuracy on fresh sequences",
)
save_figure(fig, "recall_accuracy.svg")
