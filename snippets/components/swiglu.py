"""GPT-2's MLP and Llama's gated SwiGLU: the same parameters, and a gate between."""

import dataclasses

import numpy as np

from llmarch import DecoderConfig, SwiGLU, parameter_breakdown, silu

np.set_printoptions(precision=3, suppress=True)

# Parameters of one feed-forward network at Llama 3.1 8B's width, d = 4096.
llama = DecoderConfig.preset("llama-3.1-8b")
d = llama.d_model
widths = {
    "GELU MLP, d_ff = 4d": dataclasses.replace(
        llama, family=None, feed_forward="mlp", d_ff=4 * d
    ),
    "SwiGLU, d_ff = 8d/3": dataclasses.replace(llama, d_ff=8 * d // 3),
    "SwiGLU, Llama 3's 3.5d": llama,
}
for name, config in widths.items():
    per_layer = parameter_breakdown(config)["feed_forward"] // config.n_layers
    print(f"{name:<24} d_ff {config.d_ff:>6,}  {per_layer:>12,} parameters")
    #> GELU MLP, d_ff = 4d      d_ff 16,384   134,217,728 parameters
    #> SwiGLU, d_ff = 8d/3      d_ff 10,922   134,209,536 parameters
    #> SwiGLU, Llama 3's 3.5d   d_ff 14,336   176,160,768 parameters

# The gate: SiLU(x W_gate) scales each hidden unit of x W_up. SiLU passes large
# values, silences negative ones, and lets a little through in between.
print(silu(np.array([-4.0, -1.0, 0.0, 1.0, 4.0])))
#> [-0.072 -0.269  0.     0.731  3.928]
ffn = SwiGLU.init(8, 12, np.random.default_rng(0), std=0.5)
x = np.random.default_rng(1).standard_normal((3, 8))
gate, up = silu(x @ ffn.w_gate), x @ ffn.w_up
print(np.allclose(ffn(x), (gate * up) @ ffn.w_down), ffn(x).shape)
#> True (3, 8)
