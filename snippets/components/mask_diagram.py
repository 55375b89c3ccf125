"""A causal mask acts on the scores, before the softmax (masked_attention.svg)."""

import numpy as np

from llmarch import causal_mask, scaled_dot_product_attention
from llmarch.diagrams import attention_diagram
from llmarch.plotting import save_figure

np.set_printoptions(precision=2, suppress=True)
rng = np.random.default_rng(0)
tokens = ["the", "cat", "sat", "down"]
q, k, v = (rng.standard_normal((4, 2)).round(1) for _ in range(3))

_, weights = scaled_dot_product_attention(q, k, v, mask=causal_mask(4))
print(weights)  # lower-triangular: no query sees a later key
#> [[1.   0.   0.   0.  ]
#>  [0.47 0.53 0.   0.  ]
#>  [0.21 0.29 0.5  0.  ]
#>  [0.2  0.51 0.09 0.19]]
diagram = attention_diagram(q, k, v, mask=causal_mask(4), tokens=tokens)
save_figure(diagram, "masked_attention.svg")
