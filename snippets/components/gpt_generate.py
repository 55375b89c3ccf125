"""Generating text with a tiny GPT: greedy, sampled, with and without a KV cache."""

import numpy as np

from llmarch import GPT, CharTokenizer, GPTConfig

rng = np.random.default_rng(0)
tokenizer = CharTokenizer.from_text("abcdefghijklmnopqrstuvwxyz .,!?")
config = GPTConfig(tokenizer.vocab_size, n_positions=64, d_model=32, n_layers=2,
                   n_heads=4)
model = GPT.init(config, rng, std=0.5)  # random weights: expect gibberish

prompt = tokenizer.encode("the cat ")

# Greedy: always the most likely next token. The KV cache changes the cost,
# never the result.
with_cache = model.generate(prompt, max_new_tokens=20)
without = model.generate(prompt, max_new_tokens=20, use_cache=False)
print(repr(tokenizer.decode(with_cache)))
#> 'the cat cccccccdacdajjjacccc'
print(np.array_equal(with_cache, without))
#> True

# Sampling: temperature and top-k, reproducible with a seeded generator.
for temperature in (0.8, 2.0):
    tokens = model.generate(prompt, max_new_tokens=20, temperature=temperature,
                            top_k=5, rng=np.random.default_rng(1))
    print(temperature, repr(tokenizer.decode(tokens)))
    #> 0.8 'the cat cccjacccccdajjjccccc'
    #> 2.0 'the cat cjajccjjj?jccjjcccaj'
