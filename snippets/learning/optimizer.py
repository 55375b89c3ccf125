"""AdamW's first steps, clipping, and the schedule the GPT trained with."""

import numpy as np

from llmarch.plotting import save_figure, xy_chart
from llmarch.trained import load
from llmarch.training import AdamW, clip_grad_norm, learning_rate

# Adam divides each gradient by its own running size: its first step moves a
# weight by the learning rate, whether the gradient is tiny or huge.
adam = AdamW(weight_decay=0.0)
for g in (1e-4, 1.0, 1e4):
    params = {"w": np.array([1.0])}
    new, _ = adam.update(params, {"w": np.array([g])}, adam.init(params), lr=0.01)
    print(f"gradient {g:8g}: w moves by {new['w'][0] - 1.0:+.6f}")
    #> gradient   0.0001: w moves by -0.009999
    #> gradient        1: w moves by -0.010000
    #> gradient    10000: w moves by -0.010000

# Clipping rescales all gradients together when their global norm is too big.
clipped, norm = clip_grad_norm({"a": np.array([3.0, 0.0]), "b": np.array([4.0])}, 1.0)
print(f"norm {norm:.1f} -> a {clipped['a'].round(3)}, b {clipped['b'].round(3)}")
#> norm 5.0 -> a [0.6 0. ], b [0.8]

# The GPT's run: its hyperparameters and what its gradients did, as recorded.
record = load("shakespeare-gpt").provenance
hyper, curve = record["hyperparameters"], record["loss_curve"]
steps = np.arange(hyper["steps"])
rates = [learning_rate(int(s), peak=hyper["lr"], warmup=hyper["warmup"],
                       total=hyper["steps"], minimum=hyper["min_lr"]) for s in steps]
norms = np.array(curve["grad_norm"])
clip = hyper["grad_clip"]
print(f"warmup {hyper['warmup']} steps to {hyper['lr']:g}, cosine down to "
      f"{hyper['min_lr']:g} at step {hyper['steps']}")
#> warmup 100 steps to 0.001, cosine down to 0.0001 at step 2000
print(f"gradient norm above {clip:g} (clipped) in {np.mean(norms > clip):.0%} "
      f"of the steps; in the first {hyper['warmup']}: "
      f"{np.mean(norms[:hyper['warmup']] > clip):.0%}")
#> gradient norm above 1 (clipped) in 95% of the steps; in the first 100: 91%

fig = xy_chart(
    {"learning rate": (steps, rates),
     "gradient norm before clipping": (np.array(curve["step"]), norms)},
    hlines={f"clipped above {clip:g}": clip},
    logy=True,
    title="shakespeare-gpt: the schedule and the gradients",
    xlabel="optimizer step",
)
save_figure(fig, "shakespeare_gpt_schedule.svg")
