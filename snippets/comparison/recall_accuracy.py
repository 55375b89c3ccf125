"""Accuracy against distance: RNN, LSTM and transformer after the same training."""

from llmarch.experiments import experiment
from llmarch.plotting import save_figure, xy_chart
from llmarch.trained import provenance

kinds = ("rnn", "lstm", "transformer")
titles = {"lookup": "Key-value recall", "marker": "Marker recall"}
for task, title in titles.items():
    # distance -> share of right answers, measured when each run ended
    accuracy = {k: provenance(f"{task}-{k}")["final"]["accuracy"] for k in kinds}
    values = experiment(f"{task}-rnn").data["n_values"]  # the task as trained
    rows = [f"{title}: accuracy by distance (chance: 1 in {values})",
            f"{'distance':>12} " + " ".join(f"{d:>5}" for d in accuracy["rnn"])]
    for kind, by_distance in accuracy.items():
        shares = " ".join(f"{a:5.2f}" for a in by_distance.values())
        rows.append(f"{kind:>12} {shares}")
    for kind, by_distance in accuracy.items():
        reach = [d for d, a in by_distance.items() if a >= 0.5]
        reach = ", ".join(reach) or "no distance"
        rows.append(f"{kind:>12} right at least half the time at: {reach}")
    print("\n".join(rows))
    #> Key-value recall: accuracy by distance (chance: 1 in 16)
    #>     distance     2     4     8    16    32    64   128   254
    #>          rnn  0.83  0.15  0.10  0.07  0.10  0.08  0.09  0.07
    #>         lstm  0.30  0.23  0.20  0.10  0.09  0.08  0.09  0.05
    #>  transformer  0.78  0.29  0.10  0.10  0.06  0.07  0.09  0.08
    #>          rnn right at least half the time at: 2
    #>         lstm right at least half the time at: no distance
    #>  transformer right at least half the time at: 2
    #> Marker recall: accuracy by distance (chance: 1 in 8)
    #>     distance     1     2     4     8    16    32    64   128   254
    #>          rnn  1.00  1.00  1.00  1.00  1.00  1.00  1.00  1.00  1.00
    #>         lstm  1.00  1.00  1.00  1.00  1.00  1.00  1.00  1.00  0.96
    #>  transformer  1.00  1.00  0.14  0.08  0.12  0.17  0.12  0.12  0.09
    #>          rnn right at least half the time at: 1, 2, 4, 8, 16, 32, 64, 128, 254
    #>         lstm right at least half the time at: 1, 2, 4, 8, 16, 32, 64, 128, 254
    #>  transformer right at least half the time at: 1, 2

    fig = xy_chart(
        {kind: ([int(d) for d in by_distance], list(by_distance.values()))
         for kind, by_distance in accuracy.items()},
        hlines={f"chance (1 in {values})": 1 / values},
        logx=True,
        markers=True,
        ylim=(0, 1.02),
        title=f"{title} after the same training",
        xlabel="distance to the answer (tokens, log scale)",
        ylabel="accuracy on fresh sequences",
    )
    save_figure(fig, f"{task}_accuracy.svg")
