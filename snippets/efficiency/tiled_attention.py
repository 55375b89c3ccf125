"""Tiled attention gives plain attention's output, never holding the n x n scores."""

import tracemalloc

import numpy as np

from llmarch import causal_mask, scaled_dot_product_attention, tiled_attention

rng = np.random.default_rng(0)
heads, n, d_head = (
    12,
    1000,
    64,
)  # 1000 = 7 blocks of 128 and a last, shorter block of 104
q, k, v = (rng.standard_normal((heads, n, d_head), dtype=np.float32) for _ in range(3))

tiled = tiled_attention(q, k, v, causal=True, block_size=128)
plain, weights = scaled_dot_product_attention(q, k, v, mask=causal_mask(n))
print(tiled.shape, tiled.dtype)
#> (12, 1000, 64) float32
print("same output:", np.allclose(tiled, plain, rtol=0, atol=1e-5))
#> same output: True
print("plain attention also held all the weights:", weights.shape)
#> plain attention also held all the weights: (12, 1000, 1000)


def peak_mib(function, *args, **kwargs):
    """Peak memory allocated during the call (NumPy reports to tracemalloc)."""
    tracemalloc.start()
    function(*args, **kwargs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


# One head of a long text: plain attention's memory grows with n^2,
# tiled attention's with n.
for n in (1024, 2048, 4096):
    q, k, v = (rng.standard_normal((n, d_head), dtype=np.float32) for _ in range(3))
    mask = causal_mask(n)
    plain_mib = peak_mib(scaled_dot_product_attention, q, k, v, mask=mask)
    tiled_mib = peak_mib(tiled_attention, q, k, v, causal=True)
    print(f"n = {n}: plain {plain_mib:6.0f} MiB, tiled {tiled_mib:4.1f} MiB")
    #> n = 1024: plain     12 MiB, tiled  1.1 MiB
    #> n = 2048: plain     48 MiB, tiled  1.6 MiB
    #> n = 4096: plain    192 MiB, tiled  2.6 MiB
