"""Why attention divides by sqrt(d_k): the variance of q . k grows with d_k."""

import numpy as np

from llmarch import softmax

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)

# Queries and keys with independent unit-variance entries, as at initialisation.
for d_k in (4, 64, 1024):
    q = rng.standard_normal((20_000, d_k))
    k = rng.standard_normal((20_000, d_k))
    dots = np.einsum("nd,nd->n", q, k)
    print(f"d_k={d_k:>4}  Var(q.k)={dots.var():8.1f}  "
          f"Var(q.k/sqrt(d_k))={(dots / np.sqrt(d_k)).var():.3f}")
    #> d_k=   4  Var(q.k)=     4.0  Var(q.k/sqrt(d_k))=1.001
    #> d_k=  64  Var(q.k)=    64.5  Var(q.k/sqrt(d_k))=1.008
    #> d_k=1024  Var(q.k)=  1023.5  Var(q.k/sqrt(d_k))=0.999

# Unscaled scores with d_k = 1024 push the softmax into a one-hot corner:
d_k = 1024
q = rng.standard_normal(d_k)
keys = rng.standard_normal((5, d_k))
print("unscaled:", softmax(keys @ q))
#> unscaled: [1. 0. 0. 0. 0.]
print("scaled:  ", softmax(keys @ q / np.sqrt(d_k)))
#> scaled:   [0.459 0.12  0.16  0.17  0.092]
