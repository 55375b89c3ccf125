"""Sinusoidal encodings: similarity depends on the distance, not the position."""

import numpy as np

from llmarch import sinusoidal_positional_encoding

np.set_printoptions(precision=2, suppress=True)

pe = sinusoidal_positional_encoding(n_positions=200, d_model=64)

# Dot product between position p and position p + k, for several p and k.
for k in (0, 1, 5, 20):
    sims = [pe[p] @ pe[p + k] for p in (0, 50, 100, 150)]
    print(f"distance {k:>2}:", np.array(sims))
    #> distance  0: [32. 32. 32. 32.]
    #> distance  1: [30.92 30.92 30.92 30.92]
    #> distance  5: [23.5 23.5 23.5 23.5]
    #> distance 20: [18.88 18.88 18.88 18.88]

# Nearby positions look alike; far-apart ones do not.
# 99 and 101 are exactly as close: round, then sort stably, so ties keep index order.
similarity = np.round(pe @ pe[100], 6)
print("closest to position 100:", np.argsort(-similarity, kind="stable")[:5])
#> closest to position 100: [100  99 101  98 102]
