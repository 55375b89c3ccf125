"""Generation with and without the KV cache (``GPT.generate(..., use_cache=...)``)."""

from __future__ import annotations

import numpy as np

from bench.runner import Result, Target, case, time_side_by_side
from llmarch import GPT, GPTConfig

PROMPT = 16
NEW_TOKENS = (64, 256, 1024)
SPEEDUP_LIMIT = 5.0  # at least 5x faster with the cache at 256 new tokens


@case("kv_cache")
def kv_cache(quick: bool) -> Result:
    """Greedy generation by a small GPT with and without the KV cache."""
    new_tokens = (16, 64) if quick else NEW_TOKENS
    config = GPTConfig(vocab_size=256, n_positions=PROMPT + max(new_tokens), d_model=128, n_layers=4, n_heads=4)
    model = GPT.init(config, np.random.default_rng(0))
    prompt = np.random.default_rng(1).integers(0, config.vocab_size, PROMPT)
    rows, speedups = [], {}
    for new in new_tokens:
        with_cache = model.generate(prompt, new, use_cache=True)
        without = model.generate(prompt, new, use_cache=False)
        if not np.array_equal(with_cache, without):
            raise AssertionError(f"generate gave different tokens with and without the cache at {new} new tokens")
        # The longest run without the cache takes a while: fewer repeats there.
        repeats = 1 if new >= 1024 else 3
        seconds = time_side_by_side(
            {
                "cache": lambda new=new: model.generate(prompt, new, use_cache=True),
                "no cache": lambda new=new: model.generate(prompt, new, use_cache=False),
            },
            repeats=repeats,
            warmup=0,
        )
        speedups[new] = seconds["no cache"] / seconds["cache"]
        rows.append(
            [
                new,
                round(seconds["cache"], 3),
                round(seconds["no cache"], 3),
                round(seconds["cache"] / new * 1e3, 2),
                round(seconds["no cache"] / new * 1e3, 2),
                round(speedups[new], 1),
            ]
        )
    at = 256 if 256 in speedups else max(speedups)
    return Result(
        title="GPT.generate, d_model 128, 4 layers, 4 heads, vocabulary 256, float32, greedy",
        columns=["new tokens", "cache s", "no cache s", "cache ms/token", "no cache ms/token", "speed-up"],
        rows=rows,
        targets=[Target(f"speed-up with the cache at {at} new tokens", SPEEDUP_LIMIT, round(speedups[at], 1), False)],
        notes=[
            f"A {PROMPT}-token prompt, random weights (GPT.init with seed 0); both runs give the same tokens. "
            "Median of 3 interleaved runs (1 run at 1024 new tokens), no warm-up beyond a first pair of runs.",
        ],
    )
