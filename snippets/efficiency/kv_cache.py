"""The KV cache: what it stores, how it grows; it changes the cost, not the tokens."""

import numpy as np

from llmarch import GPT, GPTConfig, KVCache
from llmarch.diagrams import kv_cache_diagram
from llmarch.plotting import save_figure

config = GPTConfig(vocab_size=256, n_positions=512, d_model=128, n_layers=4, n_heads=4)
model = GPT.init(config, np.random.default_rng(0))
prompt = np.random.default_rng(1).integers(0, config.vocab_size, 16)

# One cache per layer. The prompt goes in once; after that, each step feeds one token.
caches = [KVCache() for _ in model.blocks]
h = model.hidden_states(prompt, caches)
shapes = [caches[0].keys.shape]
print("after the prompt:", shapes[0], "(heads, tokens, d_head)")
#> after the prompt: (4, 16, 32) (heads, tokens, d_head)
for step in (1, 2, 3):
    next_token = np.argmax(h[-1] @ model.wte.weight.T)
    h = model.hidden_states([next_token], caches)  # only the new token goes in
    shapes.append(caches[0].keys.shape)
    print(f"after step {step}:   ", shapes[-1], "- computed", h.shape[0], "new row")
    #> after step 1:    (4, 17, 32) - computed 1 new row
    #> after step 2:    (4, 18, 32) - computed 1 new row
    #> after step 3:    (4, 19, 32) - computed 1 new row
save_figure(kv_cache_diagram(shapes, n_layers=len(caches)), "kv_cache.svg")

# generate() does exactly this; without the cache it recomputes the whole text
# at every step.
new = 64
with_cache = model.generate(prompt, new, use_cache=True)
without = model.generate(prompt, new, use_cache=False)
print("same tokens:", np.array_equal(with_cache, without))
#> same tokens: True

# The work, counted in token positions pushed through the model:
n = len(prompt)
print("with the cache:   ", n + (new - 1))
#> with the cache:    79
print("without the cache:", sum(range(n, n + new)))
#> without the cache: 3040

# The price is memory: keys and values of every layer, kept for the whole text.
gpt2 = GPTConfig.preset("gpt2")
per_token = 2 * gpt2.n_layers * gpt2.d_model * 4  # keys and values, float32
print(
    f"GPT-2 small keeps {per_token / 1024:.0f} KiB per token, "
    f"{per_token * gpt2.n_positions / 2**20:.0f} MiB",
    f"for its {gpt2.n_positions}-token context",
)
#> GPT-2 small keeps 72 KiB per token, 72 MiB for its 1024-token context
