"""``Decoder.generate`` against Hugging Face ``generate``: same config, same weights, greedy, same threads."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from bench.runner import Result, Target, case, time_side_by_side
from llmarch import Decoder, DecoderConfig

# The shapes: a small Llama-style model, GPT-2 small, and a Llama-style GQA model of GPT-2
# small's size (12 layers of 768, 12 query heads sharing 4 key/value heads).
SHAPES: dict[str, DecoderConfig] = {
    "small Llama-style": dataclasses.replace(
        DecoderConfig.preset("llama-3.1-8b"),
        vocab_size=256,
        n_positions=1088,
        d_model=128,
        n_layers=4,
        n_heads=4,
        n_kv_heads=2,
        d_ff=384,
    ),
    "GPT-2 small": dataclasses.replace(DecoderConfig.preset("gpt2"), n_positions=1088),
    "Llama-style GQA, GPT-2 small's size": dataclasses.replace(
        DecoderConfig.preset("llama-3.1-8b"),
        vocab_size=32000,
        n_positions=1088,
        d_model=768,
        n_layers=12,
        n_heads=12,
        n_kv_heads=4,
        d_ff=2048,
    ),
}
NEW_TOKENS = 64
CONTEXTS = (64, 1024)  # prompt lengths: the time per new token with that much context
SMALL_LIMIT = 1.0  # at least as fast as the reference on the small shape
GPT2_LIMIT = 1 / 1.5  # within 1.5x of the reference on GPT-2 small's shape


def reference_model(config: DecoderConfig) -> Any:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(0)
    hf_config = AutoConfig.for_model(**config.to_hf_config(), bos_token_id=None, eos_token_id=None, pad_token_id=0)
    return AutoModelForCausalLM.from_config(hf_config).eval()


def hf_generate(model: Any, prompt: np.ndarray, new_tokens: int) -> np.ndarray:
    import torch

    ids = torch.tensor(prompt[None])
    with torch.inference_mode():
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            do_sample=False,
        )
    return out[0].numpy()


@case("generate", needs=("torch", "transformers", "threadpoolctl"))
def generate(quick: bool) -> Result:
    """Tokens per second of Decoder.generate (KV cache) against Hugging Face generate, side by side."""
    import torch
    from threadpoolctl import threadpool_limits

    new_tokens = 8 if quick else NEW_TOKENS
    shapes = dict(list(SHAPES.items())[:1]) if quick else SHAPES
    rows, ratios = [], {}
    torch.set_num_threads(1)
    with threadpool_limits(limits=1, user_api="blas"):
        for name, config in shapes.items():
            reference = reference_model(config)
            state = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
            ours = Decoder.from_hf_state_dict(state, config)
            for context in CONTEXTS[:1] if quick else CONTEXTS:
                prompt = np.random.default_rng(1).integers(0, config.vocab_size, context)
                tokens: dict[str, object] = {}
                seconds = time_side_by_side(
                    {
                        "llmarch": lambda p=prompt, m=ours: m.generate(p, new_tokens),
                        "transformers": lambda p=prompt, m=reference: hf_generate(m, p, new_tokens),
                    },
                    repeats=1 if quick else 3,
                    outputs=tokens,
                )
                if not np.array_equal(tokens["llmarch"], tokens["transformers"]):
                    raise AssertionError(f"{name}: the two gave different tokens at context {context}")
                ratio = seconds["transformers"] / seconds["llmarch"]  # > 1: llmarch is faster
                if context == CONTEXTS[0]:
                    ratios[name] = ratio
                ms = {who: round(s / new_tokens * 1e3, 2) for who, s in seconds.items()}
                speed = {who: round(new_tokens / s, 1) for who, s in seconds.items()}
                rows.append([name, context, speed["llmarch"], speed["transformers"], ms["llmarch"],
                             ms["transformers"], round(ratio, 2)])  # fmt: skip
    targets = [Target("speed ratio on the small shape (llmarch / transformers)", SMALL_LIMIT,
                      round(ratios["small Llama-style"], 2), at_most=False)]  # fmt: skip
    if "GPT-2 small" in ratios:
        measured = round(ratios["GPT-2 small"], 2)
        targets.append(Target("speed ratio on GPT-2 small (>= 1/1.5)", round(GPT2_LIMIT, 3), measured, False))
    return Result(
        title=f"Greedy generation of {new_tokens} tokens, float32, 1 thread each (NumPy BLAS and torch)",
        columns=["shape", "context", "llmarch tok/s", "HF tok/s", "llmarch ms/token", "HF ms/token", "ratio"],
        rows=rows,
        targets=targets,
        notes=[
            "Random weights from transformers' own init (seed 0), loaded into llmarch.Decoder with "
            "from_hf_state_dict; both generate greedily with their KV cache and give the same tokens "
            "(checked every run). The prompt is `context` random tokens. Medians of 3 interleaved runs "
            "after one warm-up. ratio = transformers' time / llmarch's time (above 1: llmarch is faster).",
        ],
    )
