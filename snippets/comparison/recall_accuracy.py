"""Accuracy against distance: RNN, LSTM and transformer after the same training."""

from llmarch.plotting import save_figure, xy_chart
from llmarch.trained import load

kinds = ("rnn", "lstm", "transformer")
accuracy = {}
for task in ("lookup", "marker"):
    accuracy[task] = {k: load(f"{task}-{k}").provenance["final"]["accuracy"]
                      for k in kinds}  # distance -> share of right answers
    rows = [f"{task} recall, accuracy by distance",
            f"{'distance':>12} " + " ".join(f"{d:>5}" for d in accuracy[task]["rnn"])]
    for kind, by_distance in accuracy[task].items():
        shares = " ".join(f"{a:5.2f}" for a in by_distance.values())
        rows.append(f"{kind:>12} {shares}")
    print("\n".join(rows))
    #> lookup recall, accuracy by distance
    #>     distance     2     4     8    16    32    64   128   254
    #>          rnn  0.14  0.08  0.04  0.07  0.06  0.07  0.05  0.07
    #>         lstm  0.05  0.08  0.07  0.06  0.08  0.04  0.04  0.04
    #>  transformer  0.04  0.06  0.07  0.07  0.05  0.04  0.06  0.04
    #> marker recall, accuracy by distance
    #>     distance     1     2     4     8    16    32    64   128   254
    #>          rnn  0.90  0.28  0.14  0.14  0.13  0.18  0.14  0.15  0.10
    #>         lstm  0.80  0.46  0.24  0.20  0.13  0.14  0.12  0.13  0.10
    #>  transformer  0.12  0.12  0.12  0.14  0.14  0.11  0.15  0.12  0.12

values = load("lookup-rnn").task.n_values
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
