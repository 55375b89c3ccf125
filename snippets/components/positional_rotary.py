"""Learned positions are a lookup table; rotary positions rotate q and k."""

import numpy as np

from llmarch import LearnedPositionalEmbedding, rotary_embedding

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)

# Learned: a trainable table, one row per position, added to the embeddings.
learned = LearnedPositionalEmbedding.init(n_positions=16, d_model=8, rng=rng)
print(learned(4).shape)  # the vectors of positions 0..3
#> (4, 8)
try:
    learned(20)  # the table has only 16 rows
except ValueError as err:
    print("ValueError:", err)
    #> ValueError: n must be at most n_positions = 16 (the table's length); got 20

# Rotary: rotate the same query and key as if they sat at positions m and n.
q = rng.standard_normal((1, 8))
k = rng.standard_normal((1, 8))
for m, n in [(3, 1), (10, 8), (100, 98), (5, 5), (7, 7)]:
    q_m = rotary_embedding(q, positions=[m])
    k_n = rotary_embedding(k, positions=[n])
    print(f"m={m:>3} n={n:>3}  m-n={m - n}  score={(q_m @ k_n.T).item():.4f}")
    #> m=  3 n=  1  m-n=2  score=5.2247
    #> m= 10 n=  8  m-n=2  score=5.2247
    #> m=100 n= 98  m-n=2  score=5.2247
    #> m=  5 n=  5  m-n=0  score=1.8909
    #> m=  7 n=  7  m-n=0  score=1.8909

# Rotations keep lengths: RoPE moves vectors around, it never scales them.
rotated = rotary_embedding(q, positions=[42])
print(np.linalg.norm(q).round(6), np.linalg.norm(rotated).round(6))
#> 2.346659 2.346659
