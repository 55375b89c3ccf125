"""How the GPT's loss fell while it trained, against two models that ignore context."""

import numpy as np

from llmarch.plotting import save_figure, xy_chart
from llmarch.trained import load

record = load("shakespeare-gpt").provenance  # written by the training run
curve, evaluations = record["loss_curve"], record["evaluations"]
baselines = record["baselines"]  # fitted on the training text, scored on validation

# Each step's loss is one batch of 12 windows: noisy. A running mean of 50 reads better.
window = 50
smooth = np.convolve(curve["loss"], np.ones(window) / window, mode="valid")
steps = np.array(curve["step"][window - 1:]) + 1

final = record["final"]
print(f"after {record['steps']} steps: validation loss {final['val_loss']:.3f}, "
      f"training loss {final['train_loss']:.3f} (nats per character)")
#> after 2000 steps: validation loss 1.974, training loss 1.785 (nats per character)
print(f"unigram {baselines['unigram']:.3f}, bigram {baselines['bigram']:.3f}")
#> unigram 3.314, bigram 2.603
last, before = evaluations[-1], evaluations[-2]
print(f"validation minus training: {last['val_loss'] - last['train_loss']:.3f}; "
      f"validation loss at step {before['step']}: {before['val_loss']:.3f}")
#> validation minus training: 0.188; validation loss at step 1750: 1.994

fig = xy_chart(
    {
        f"training batches (mean of {window})": (steps, smooth),
        "validation text": ([e["step"] for e in evaluations],
                            [e["val_loss"] for e in evaluations]),
    },
    hlines={"unigram (letter frequencies)": baselines["unigram"],
            "bigram (the previous letter)": baselines["bigram"]},
    markers=True,
    title="shakespeare-gpt: cross-entropy while training",
    xlabel="optimizer step",
    ylabel="loss (nats per character)",
)
save_figure(fig, "shakespeare_gpt_loss.svg")
