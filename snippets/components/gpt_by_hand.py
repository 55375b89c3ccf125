"""A whole GPT, assembled by hand from the parts, equals GPT.logits."""

from functools import partial

import numpy as np

from llmarch import GPT, CharTokenizer, GPTConfig, causal_mask, pre_ln_residual

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)

tokenizer = CharTokenizer.from_text("abcdefghijklmnopqrstuvwxyz .,!?")
config = GPTConfig(
    vocab_size=tokenizer.vocab_size,
    n_positions=64,
    d_model=32,
    n_layers=2,
    n_heads=4,
)
model = GPT.init(config, rng)  # random weights, as GPT-2 initialises them

ids = tokenizer.encode("hello world")
n = len(ids)

# 1. What each token is, plus where it is.
x = model.wte(ids) + model.wpe(n)
# 2. Blocks of pre-LN causal self-attention and feed-forward.
for block in model.blocks:
    attention = partial(block.attn, mask=causal_mask(n))
    x = pre_ln_residual(x, attention, block.ln_1)
    x = pre_ln_residual(x, block.mlp, block.ln_2)
# 3. A final layer norm, then the token embedding, transposed, scores every token.
logits = model.ln_f(x) @ model.wte.weight.T

print(logits.shape)  # one row of scores per position
#> (11, 31)
print(np.allclose(logits, model.logits(ids), atol=1e-5))
#> True
