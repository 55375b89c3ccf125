"""Loss against wall time: what each model bought with the same number of steps."""

import numpy as np

from llmarch.plotting import save_figure, xy_chart
from llmarch.trained import load

window = 50  # a running mean over 50 batches: one batch's loss is noisy
curves = {}
for kind in ("rnn", "lstm", "transformer"):
    record = load(f"lookup-{kind}").provenance
    curve = record["loss_curve"]
    loss = np.convolve(curve["loss"], np.ones(window) / window, mode="valid")
    minutes = np.array(curve["time"][window - 1:]) / 60
    curves[kind] = (minutes, loss)
    steps, seconds = record["steps"], record["training_time_s"]
    print(f"{kind:12} {steps} steps in {seconds / 60:5.1f} min "
          f"({1000 * seconds / steps:4.0f} ms a step); final loss "
          f"{record['final']['val_loss']:.3f}")
    #> rnn          150 steps in   0.3 min ( 111 ms a step); final loss 2.765
    #> lstm         150 steps in   1.1 min ( 433 ms a step); final loss 2.783
    #> transformer  150 steps in   4.1 min (1625 ms a step); final loss 2.796

chance = np.log(load("lookup-rnn").task.n_values)  # guessing among the values
fig = xy_chart(
    curves,
    hlines={"a uniform guess among the values": chance},
    title="Key-value recall: training loss against time, same steps",
    xlabel="minutes of training steps (one CPU core)",
    ylabel=f"training loss (mean of {window} batches)",
)
save_figure(fig, "recall_loss_time.svg")
