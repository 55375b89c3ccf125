"""LayerNorm and RMSNorm on one vector: RMSNorm rescales, it never re-centres."""

import numpy as np

from llmarch import LayerNorm, RMSNorm

np.set_printoptions(precision=3, suppress=True)
x = np.array([2.0, -1.0, 0.5, 3.5])
layer_norm, rms_norm = LayerNorm.init(4), RMSNorm.init(4)

print("x        ", x, " mean", x.mean())
#> x         [ 2.  -1.   0.5  3.5]  mean 1.25
print("LayerNorm", layer_norm(x), " mean", layer_norm(x).mean().round(6))
#> LayerNorm [ 0.447 -1.342 -0.447  1.342]  mean 0.0
rms = np.sqrt((rms_norm(x) ** 2).mean())
print("RMSNorm  ", rms_norm(x), " root mean square", rms.round(4))
#> RMSNorm   [ 0.956 -0.478  0.239  1.673]  root mean square 1.0

# On a vector whose mean is already 0, the two agree (up to their eps).
centred = x - x.mean()
print(np.allclose(layer_norm(centred), rms_norm(centred), atol=1e-5))
#> True
# Parameters per norm: LayerNorm has a scale and a shift, RMSNorm only a scale.
print(sum(p.size for p in (layer_norm.gamma, layer_norm.beta)), rms_norm.gamma.size)
#> 8 4
