"""Loss against CPU time: what each model bought with the same number of steps."""

import numpy as np

from llmarch.experiments import experiment
from llmarch.plotting import save_figure, xy_chart
from llmarch.trained import provenance

window = 50  # a running mean over 50 batches: one batch's loss is noisy
titles = {"lookup": "Key-value recall", "marker": "Marker recall"}
for task, title in titles.items():
    rows, curves = [title], {}
    for kind in ("rnn", "lstm", "transformer"):
        record = provenance(f"{task}-{kind}")
        curve = record["loss_curve"]
        loss = np.convolve(curve["loss"], np.ones(window) / window, mode="valid")
        minutes = np.array(curve["cpu_time"][window - 1:]) / 60  # CPU, not wall
        curves[kind] = (minutes, loss)
        cpu, wall = record["training_cpu_s"], record["training_time_s"]
        per_step = 1000 * cpu / record["steps"]
        final = record["final"]["val_loss"]
        rows.append(f"{kind:>12} {cpu / 60:4.1f} CPU min ({per_step:3.0f} ms a step), "
                    f"{wall / 60:4.1f} wall min; final loss {final:.3f}")
    print("\n".join(rows))
    #> Key-value recall
    #>          rnn  1.5 CPU min ( 45 ms a step),  1.5 wall min; final loss 2.657
    #>         lstm  4.3 CPU min (129 ms a step),  5.3 wall min; final loss 2.703
    #>  transformer 11.1 CPU min (332 ms a step), 11.1 wall min; final loss 2.676
    #> Marker recall
    #>          rnn  1.7 CPU min ( 50 ms a step),  1.8 wall min; final loss 0.001
    #>         lstm  4.3 CPU min (129 ms a step),  4.3 wall min; final loss 0.000
    #>  transformer 11.2 CPU min (336 ms a step), 11.2 wall min; final loss 1.640

    chance = np.log(experiment(f"{task}-rnn").data["n_values"])  # guessing a value
    fig = xy_chart(
        curves,
        hlines={"a uniform guess among the values": chance},
        logy=task == "marker",  # its losses fall by orders of magnitude
        title=f"{title}: training loss against CPU time, same steps",
        xlabel="CPU minutes of training steps (one thread)",
        ylabel=f"training loss (mean of {window} batches)",
    )
    save_figure(fig, f"{task}_loss_time.svg")
