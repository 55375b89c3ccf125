"""QK-norm (Qwen3): growing weights sharpen attention unless q and k are normed."""

import numpy as np

from llmarch import MultiHeadAttention, RMSNorm, decoder_mask

rng = np.random.default_rng(0)
x = rng.standard_normal((32, 64))
mask = decoder_mask(np.arange(32), np.arange(32))
print(f"{'weight scale':<14}{'top weight, plain':>19}{'with QK-norm':>15}")
#> weight scale    top weight, plain   with QK-norm
for scale in (1, 4, 16):
    std = 0.05 * scale
    plain = MultiHeadAttention.init(64, 4, np.random.default_rng(1), std=std)
    normed = MultiHeadAttention(
        plain.w_q, plain.w_k, plain.w_v, plain.w_o, None, None, None, None,
        n_heads=4, q_norm=RMSNorm.init(16), k_norm=RMSNorm.init(16),
    )
    # How much of its attention the average query gives its favourite key.
    weights = [layer.attend(x, mask=mask)[1] for layer in (plain, normed)]
    tops = [w.max(axis=-1).mean() for w in weights]
    print(f"{scale:<14}{tops[0]:>19.2f}{tops[1]:>15.2f}")
    #> 1                            0.15           0.30
    #> 4                            0.58           0.30
    #> 16                           0.96           0.30
