"""The online softmax: a running max and sum (efficiency_online_softmax.svg)."""

import numpy as np

from llmarch import softmax
from llmarch.plotting import online_softmax_chart, save_figure

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)

scores = rng.normal(0, 2, size=12)  # one query's scores against 12 keys
values = rng.normal(size=(12, 2))  # the keys' values, d_v = 2
block = 4

m = -np.inf  # running maximum of the scores seen so far
ell = 0.0  # running sum of exp(score - m)
o = np.zeros(2)  # running sum of exp(score - m) * value
history = []
for start in range(0, len(scores), block):
    s, v = scores[start : start + block], values[start : start + block]
    m_new = max(m, s.max())
    alpha = np.exp(m - m_new)  # rescale what was summed against the old maximum
    p = np.exp(s - m_new)
    ell = alpha * ell + p.sum()
    o = alpha * o + p @ v
    m = m_new
    history.append((start + len(s), m, ell))
    print(
        f"keys 0..{start + len(s) - 1:>2}:",
        f"m = {m:6.3f}  alpha = {alpha:5.3f}  ell = {ell:6.3f}",
    )
    #> keys 0.. 3: m =  1.281  alpha = 0.000  ell =  1.913
    #> keys 0.. 7: m =  2.608  alpha = 0.265  ell =  2.174
    #> keys 0..11: m =  2.608  alpha = 1.000  ell =  2.299

# After the last block: the same as the softmax over the whole row at once.
print("online: ", o / ell)
#> online:  [ 0.016 -0.121]
print("at once:", softmax(scores) @ values)
#> at once: [ 0.016 -0.121]
print(
    "m is the max:",
    m == scores.max(),
    "  ell is the sum:",
    np.isclose(ell, np.exp(scores - scores.max()).sum()),
)
#> m is the max: True   ell is the sum: True

ends, ms, ells = zip(*history, strict=True)
fig = online_softmax_chart(scores, ends, ms, ells)
save_figure(fig, "efficiency_online_softmax.svg")
