"""Grouped-query attention: 8 query heads, 2 key/value heads, a 4x smaller cache."""

import numpy as np

from llmarch import KVCache, MultiHeadAttention, decoder_mask

rng = np.random.default_rng(0)
gqa = MultiHeadAttention.init(32, 8, rng, n_kv_heads=2, bias=False)
print(gqa.w_q.shape, gqa.w_k.shape, gqa.w_v.shape)  # 8 heads of 4 for q, 2 for k, v
#> (32, 32) (32, 8) (32, 8)

# The same layer with every key/value head written out once per query head it
# serves (query heads 0-3 read head 0, heads 4-7 head 1) is ordinary multi-head
# attention, and gives the same output.
d_head = gqa.d_head
served = [head * 2 // 8 for head in range(8)]
columns = np.concatenate([np.arange(j * d_head, (j + 1) * d_head) for j in served])
mha = MultiHeadAttention(gqa.w_q, gqa.w_k[:, columns], gqa.w_v[:, columns], gqa.w_o,
                         None, None, None, None, n_heads=8)
x = rng.standard_normal((6, 32))
mask = decoder_mask(np.arange(6), np.arange(6))
print(np.allclose(gqa(x, mask=mask), mha(x, mask=mask)))
#> True

# What generation keeps: 2 heads of keys and values per token instead of 8.
small, big = KVCache(), KVCache()
gqa(x, mask=mask, cache=small)
mha(x, mask=mask, cache=big)
print(small.keys.shape, big.keys.shape, big.nbytes // small.nbytes)
#> (2, 6, 4) (8, 6, 4) 4
