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
print(np.array_equal(with_cache, without))

# Sampling: temperature and top-k, reproducible with a seeded generator.
for temperature in (0.5, 1.5):
    tokens = model.generate(prompt, max_new_tokens=20, temperature=temperature,
                            top_k=5, rng=np.random.default_rng(1))
    print(temperature, repr(tokenizer.decode(tokens)))
