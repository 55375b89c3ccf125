"""Two rotary layouts: neighbours (the paper) or halves (Hugging Face's Llama)."""

import numpy as np

from llmarch import rotary_embedding

rng = np.random.default_rng(0)
q, k = rng.standard_normal((2, 6, 8))  # 6 positions, one head of width 8

# "interleaved" rotates the pairs (x0, x1), (x2, x3), ...; "half" rotates (x0, x4),
# (x1, x5), ... Reordering the features turns one into the other.
halves = np.r_[0:8:2, 1:8:2]  # features 0, 2, 4, 6, then 1, 3, 5, 7
paper = rotary_embedding(q, layout="interleaved")
llama = rotary_embedding(q[:, halves], layout="half")
print(np.allclose(paper[:, halves], llama))
#> True

# Both keep the scores relative: shifting every position by 100 changes nothing.
for layout in ("interleaved", "half"):
    near = rotary_embedding(q, layout=layout) @ rotary_embedding(k, layout=layout).T
    far_q = rotary_embedding(q, np.arange(6) + 100, layout=layout)
    far_k = rotary_embedding(k, np.arange(6) + 100, layout=layout)
    print(layout, np.allclose(near, far_q @ far_k.T))
    #> interleaved True
    #> half True
