"""One mixture-of-experts layer: a router picks 2 of 8 experts per token."""

import numpy as np

from llmarch import MixtureOfExperts

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)

# 8 SwiGLU experts of width 32 on a width of 16; 2 per token (Mixtral's rule).
moe = MixtureOfExperts.init(d_model=16, d_ff=32, n_experts=8,
                            n_experts_per_token=2, rng=rng, std=0.5)
x = rng.standard_normal((4, 16))  # four tokens
y, routing = moe.forward(x)
print(y.shape)
#> (4, 16)
print(routing.experts)  # the two experts of each token, best first
#> [[3 6]
#>  [0 5]
#>  [7 2]
#>  [0 7]]
print(routing.weights)  # their softmax scores, renormalised to sum to 1
#> [[0.634 0.366]
#>  [0.814 0.186]
#>  [0.591 0.409]
#>  [0.672 0.328]]

# The output is the weighted sum of the chosen experts; the other six never ran.
chosen = zip(routing.experts[0], routing.weights[0], strict=True)
by_hand = sum(g * moe.experts[e](x[0]) for e, g in chosen)
print(np.allclose(y[0], by_hand))
#> True

# Parameters held, and used by one token: 2 of the 8 experts, and the router.
expert = sum(w.size for w in (moe.experts[0].w_gate, moe.experts[0].w_up,
                              moe.experts[0].w_down))
router = moe.router.weight.size
print(f"held: {8 * expert + router:,}, used per token: {2 * expert + router:,}")
#> held: 12,416, used per token: 3,200
