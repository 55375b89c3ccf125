"""Learned positions are a lookup table; rotary positions rotate q and k."""

import numpy as np

from llmarch import LearnedPositionalEmbedding, rotary_embedding

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)

# Learned: a trainable table, one row per position, added to the embeddings.
learned = LearnedPositionalEmbedding.init(n_positions=16, d_model=8, rng=rng)
print(learned(4).shape)  # the vectors of positions 0..3
try:
    learned(20)  # the table has only 16 rows
except ValueError as err:
    print("ValueError:", err)

# Rotary: rotate the same query and key as if they sat at positions m and n.
q = rng.standard_normal((1, 8))
k = rng.standard_normal((1, 8))
for m, n in [(3, 1), (10, 8), (100, 98), (5, 5), (7, 7)]:
    q_m = rotary_embedding(q, positions=[m])
    k_n = rotary_embedding(k, positions=[n])
    print(f"m={m:>3} n={n:>3}  m-n={m - n}  score={(q_m @ k_n.T).item():.4f}")

# Rotations keep lengths: RoPE moves vectors around, it never scales them.
print(np.linalg.norm(q), np.linalg.norm(rotary_embedding(q, positions=[42])))
