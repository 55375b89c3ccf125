"""Generation with and without the KV cache (``GPT.generate(..., use_cache=...)``)."""

from __future__ import annotations

import numpy as np

from bench.runner import Result, Target, case, time_side_by_side
from llmarch import GPT, GPTConfig

PROMPT = 16
NEW_TOKENS = (64, 256, 1024)
SPEEDUP_LIMIT = 5.0  # at least 5x faster with the cache at 256 new tokens


@case("kv_cache", needs=("threadpoolctl",))
def kv_cache(quick: bool) -> Result:
    """Greedy generation by a small GPT with and without the KV cache."""
    from threadpoolctl import threadpool_limits

    new_tokens = (16, 64) if quick else NEW_TOKENS
    config = GPTConfig(vocab_size=256, n_positions=PROMPT + max(new_tokens), d_model=128, n_layers=4, n_heads=4)
    model = GPT.init(config, np.random.default_rng(0))
    prompt = np.random.default_rng(1).integers(0, config.vocab_size, PROMPT)
    rows, speedups = [], {}
    # The matrices of so small a model are too small to split between cores: one BLAS thread
    # is faster for both runs, and keeps them from stalling when the machine is shared.
    with threadpool_limits(limits=1, user_api="blas"):
        for new in new_tokens:
            tokens: dict[str, object] = {}
            seconds = time_side_by_side(
                {
                    "cache": lambda new=new: model.generate(prompt, new, use_cache=True),
                    "no cache": lambda new=new: model.generate(prompt, new, use_cache=False),
                },
                repeats=1 if new >= 1024 else 3,  # the longest run without the cache takes a while
                warmup=0 if new >= 1024 else 1,
                outputs=tokens,
            )
            if not np.array_equal(tokens["cache"], tokens["no cache"]):
                raise AssertionError(f"generate gave different tokens with and without the cache at {new} new tokens")
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
        title="GPT.generate, d_model 128, 4 layers, 4 heads, vocabulary 256, float32, greedy, 1 BLAS thread",
        columns=["new tokens", "cache s", "no cache s", "cache ms/token", "no cache ms/token", "speed-up"],
        rows=rows,
        targets=[Target(f"speed-up with the cache at {at} new tokens", SPEEDUP_LIMIT, round(speedups[at], 1), False)],
        notes=[
            f"A {PROMPT}-token prompt and random weights (GPT.init, seed 0); both runs give the same tokens. "
            "Medians of 3 interleaved runs after one warm-up (1 run, no warm-up, at 1024 new tokens). "
            "NumPy's BLAS limited to one thread (threadpoolctl) for both runs.",
        ],
    )
