"""Rotary positions as Llama has them: rotate-half, relative, stretched to 128k."""

import numpy as np

from llmarch import DecoderConfig, rotary_embedding, rotary_frequencies

rng = np.random.default_rng(0)
q, k = rng.standard_normal((2, 64))  # one query and one key of a 64-wide head


def score(m, n):
    """The dot product of q rotated to position m with k rotated to position n."""
    rq = rotary_embedding(q[None], np.array([m]), layout="half")
    rk = rotary_embedding(k[None], np.array([n]), layout="half")
    return (rq @ rk.T).item()


# The score depends only on how far apart the two tokens are.
print(f"{score(10, 7):.6f} {score(1010, 1007):.6f} {score(5, 2):.6f}")
#> -10.512923 -10.512923 -10.512923

# Llama 3.1 trained at 8k tokens, then stretched its slow rotations to reach 128k.
llama = DecoderConfig.preset("llama-3.1-8b")
plain = rotary_frequencies(llama.d_head, llama.rope_theta)
scaled = rotary_frequencies(llama.d_head, llama.rope_theta, llama.rope_scaling)
kept, slowed = np.isclose(scaled, plain), np.isclose(scaled, plain / 8)
between = ~kept & ~slowed
print(f"{llama.d_head // 2} pairs: {kept.sum()} unchanged,",
      f"{slowed.sum()} 8x slower, {between.sum()} in between")
#> 64 pairs: 29 unchanged, 29 8x slower, 6 in between
longest = 2 * np.pi / np.array([plain.min(), scaled.min()])
print(f"slowest pair's period: {longest[0]:,.0f} -> {longest[1]:,.0f} tokens")
#> slowest pair's period: 2,559,196 -> 20,473,564 tokens
