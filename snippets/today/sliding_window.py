"""Sliding-window attention: what a query sees, how far a stack reaches."""

import dataclasses

import numpy as np

from llmarch import Decoder, DecoderConfig, decoder_mask, kv_cache_bytes

# Each query sees the `window` most recent tokens, itself included.
positions = np.arange(8)
print(decoder_mask(positions, positions, window=3).astype(int))
#> [[1 0 0 0 0 0 0 0]
#>  [1 1 0 0 0 0 0 0]
#>  [1 1 1 0 0 0 0 0]
#>  [0 1 1 1 0 0 0 0]
#>  [0 0 1 1 1 0 0 0]
#>  [0 0 0 1 1 1 0 0]
#>  [0 0 0 0 1 1 1 0]
#>  [0 0 0 0 0 1 1 1]]

# Stacked, the windows chain: after L layers a token hears L * (window - 1) back.
mistral = DecoderConfig.preset("mistral-7b")
reach = mistral.n_layers * (mistral.sliding_window - 1)
print(f"Mistral 7B: window {mistral.sliding_window}, {mistral.n_layers} layers, "
      f"reach {reach:,} tokens")
#> Mistral 7B: window 4096, 32 layers, reach 131,040 tokens

# Checked on a small model of the same family: 2 layers, window 4, so a token's
# influence ends 2 * 3 = 6 positions later.
sizes = dict(vocab_size=32, n_positions=32, d_model=32, n_layers=2, d_ff=64)
heads = dict(n_heads=4, n_kv_heads=2)
tiny = dataclasses.replace(mistral, **sizes, **heads, sliding_window=4)
model = Decoder.init(tiny, np.random.default_rng(0), std=0.3, dtype=np.float64)
tokens = np.random.default_rng(1).integers(0, 32, 16)
changed = tokens.copy()
changed[0] = (changed[0] + 1) % 32  # change only the first token
moved = np.abs(model.logits(changed) - model.logits(tokens)).max(axis=-1) > 0
print("positions whose logits move:", np.flatnonzero(moved))
#> positions whose logits move: [0 1 2 3 4 5 6]

# The cache needs only the last `window` tokens (Mistral's rolling buffer).
GiB = 2**30
full = dataclasses.replace(mistral, sliding_window=None)
for n in (4096, 131072):
    windowed = kv_cache_bytes(mistral, n, "float16") / GiB
    unbounded = kv_cache_bytes(full, n, "float16") / GiB
    print(f"{n:>7,} tokens: {windowed:.2f} GiB with the window, "
          f"{unbounded:.2f} GiB without")
    #>   4,096 tokens: 0.50 GiB with the window, 0.50 GiB without
    #> 131,072 tokens: 0.50 GiB with the window, 16.00 GiB without
