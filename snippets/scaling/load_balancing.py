"""Evening out a tilted router: the balancing loss, or DeepSeek-V3's bias."""

import numpy as np

from llmarch import Router
from llmarch.moe import expert_load, load_balancing_loss_backward, update_router_bias
from llmarch.plotting import line_chart, save_figure

rng = np.random.default_rng(0)
n, d, E, k = 1024, 32, 8, 2
common = rng.standard_normal(d)
x = rng.standard_normal((n, d)) + common  # token states share a direction
w = rng.standard_normal((d, E)) * 0.05
w[:, :2] += 0.1 * common[:, None] / np.linalg.norm(common)  # tilted to experts 0, 1

start = Router(w, k)(x)
print(expert_load(start.experts, E))
#> [760 701  25 110  48  53 306  45]


def busiest(routing):
    """The busiest expert's tokens, in fair shares (1 is perfectly even)."""
    return expert_load(routing.experts, E).max() / (n * k / E)


names = ["no balancing", "balancing loss (Mixtral)", "router bias (DeepSeek-V3)"]
curves = {name: [] for name in names}
w_loss, bias = w.copy(), np.zeros(E)
for _ in range(101):
    curves[names[0]].append(busiest(start))
    # The loss: gradient steps on the router's weights (no language-model loss here).
    routing = Router(w_loss, k)(x)
    curves[names[1]].append(busiest(routing))
    w_loss -= 0.005 * x.T @ load_balancing_loss_backward(routing.scores,
                                                         routing.experts)
    # The bias: up for underloaded experts, down for overloaded ones, by 0.002.
    routing = Router(w, k, bias=bias)(x)
    curves[names[2]].append(busiest(routing))
    bias = update_router_bias(bias, expert_load(routing.experts, E), rate=0.002)

print(f"{'step':<26}" + "".join(f"{s:>6}" for s in (0, 10, 25, 50, 100)))
#> step                           0    10    25    50   100
for name, curve in curves.items():
    print(f"{name:<26}" + "".join(f"{curve[s]:6.2f}" for s in (0, 10, 25, 50, 100)))
    #> no balancing                2.97  2.97  2.97  2.97  2.97
    #> balancing loss (Mixtral)    2.97  1.54  1.10  1.00  1.00
    #> router bias (DeepSeek-V3)   2.97  2.34  1.35  1.05  1.05

# The loss evened the load by changing every token's scores; the bias did not.
after = {names[1]: Router(w_loss, k), names[2]: Router(w, k, bias=bias)}
for name, router in after.items():
    moved = np.abs(router(x).scores - start.scores).sum(axis=1).mean()
    print(f"{name}: scores moved {moved:.3f} per token")
    #> balancing loss (Mixtral): scores moved 0.268 per token
    #> router bias (DeepSeek-V3): scores moved 0.000 per token

fig = line_chart(np.arange(101), curves, title="Load of the busiest expert",
                 xlabel="step", ylabel="fair shares")
save_figure(fig, "load_balancing.svg")
