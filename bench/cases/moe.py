"""Mixture of experts and latent attention: speed at equal active size, and the latent cache's memory."""

from __future__ import annotations

import dataclasses

import numpy as np

from bench.cases.generate import hf_generate, reference_model
from bench.runner import Result, case, time_side_by_side
from llmarch import Decoder, DecoderConfig, count_parameters, kv_cache_bytes

# Pairs of models with the same active size: a Llama-style dense model, and a Mixtral-style
# one with the same attention whose 8 experts of half the dense width are used 2 at a time
# (the same active feed-forward width). At width 128 Python's per-call cost dominates; at
# 512 the matrix products do.


def _pair(d_model: int, d_ff: int) -> tuple[DecoderConfig, DecoderConfig]:
    sizes = {"vocab_size": 256, "n_positions": 256, "d_model": d_model, "n_layers": 4, "n_heads": 4, "n_kv_heads": 2}
    dense = dataclasses.replace(DecoderConfig.preset("llama-3.1-8b"), **sizes, d_ff=d_ff)
    moe = dataclasses.replace(
        DecoderConfig.preset("mixtral-8x7b"), **sizes, d_ff=d_ff // 2, n_experts=8, n_experts_per_token=2
    )
    return dense, moe


PAIRS = {"width 128": _pair(128, 384), "width 512": _pair(512, 1536)}
# DeepSeek-V3's attention at an eighth of its heads (16 of 128, each 128 + 64 wide, latent
# 512 + 64, queries compressed to 1536) on a width of 2048, two layers; and the same query heads with grouped-
# query attention of 8 key/value heads of 128, as Llama 3 and Qwen3 have.
LATENT = dataclasses.replace(
    DecoderConfig.preset("deepseek-v3"),
    vocab_size=256,
    n_positions=1024,
    d_model=2048,
    n_layers=2,
    n_heads=16,
    d_ff=256,
    d_ff_expert=64,
    n_experts=8,
    n_experts_per_token=2,
    n_expert_groups=1,
    n_groups_per_token=1,
    first_k_dense=0,
)
GQA = dataclasses.replace(
    DecoderConfig.preset("llama-3.1-8b"),
    vocab_size=256,
    n_positions=1024,
    d_model=2048,
    n_layers=2,
    n_heads=16,
    n_kv_heads=8,
    d_head=128,
    d_ff=256,
)
PROMPT, NEW_TOKENS = 32, 64
CACHE_TOKENS = 512


@case("moe", needs=("torch", "transformers", "threadpoolctl"))
def moe(quick: bool) -> Result:
    """A dense model and a mixture of experts of the same active size; both against Hugging Face generate."""
    import torch
    from threadpoolctl import threadpool_limits

    new_tokens = 8 if quick else NEW_TOKENS
    pairs = dict(list(PAIRS.items())[:1]) if quick else PAIRS
    torch.set_num_threads(1)
    rows, extra = [], {}
    for size, configs in pairs.items():
        models = {}
        for name, config in zip(("dense", "mixture of experts"), configs, strict=True):
            reference = reference_model(config)
            state = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
            models[name] = (config, Decoder.from_hf_state_dict(state, config), reference)
        prompt = np.random.default_rng(1).integers(0, configs[0].vocab_size, PROMPT)
        functions = {}
        for name, (_, ours, reference) in models.items():
            functions[f"llmarch {name}"] = lambda m=ours, p=prompt: m.generate(p, new_tokens)
            functions[f"transformers {name}"] = lambda m=reference, p=prompt: hf_generate(m, p, new_tokens)
        tokens: dict[str, object] = {}
        with threadpool_limits(limits=1, user_api="blas"):
            seconds = time_side_by_side(functions, repeats=1 if quick else 5, outputs=tokens)
        for name, (config, _, _) in models.items():
            ours, theirs = seconds[f"llmarch {name}"], seconds[f"transformers {name}"]
            if not np.array_equal(tokens[f"llmarch {name}"], tokens[f"transformers {name}"]):
                raise AssertionError(f"{size}, {name}: llmarch and transformers gave different tokens")
            rows.append([
                size, name, f"{count_parameters(config):,}", f"{count_parameters(config, active=True):,}",
                round(new_tokens / ours, 1), round(new_tokens / theirs, 1), round(theirs / ours, 2),
            ])  # fmt: skip
        for who in ("llmarch", "transformers"):
            ratio = seconds[f"{who} dense"] / seconds[f"{who} mixture of experts"]
            extra[f"{size}: mixture of experts / dense speed, {who}"] = round(ratio, 3)
    return Result(
        title=f"Greedy generation of {new_tokens} tokens after {PROMPT}, float32, 1 thread each",
        columns=["shape", "model", "parameters", "active", "llmarch tok/s", "HF tok/s", "ratio"],
        rows=rows,
        notes=[
            "Each pair: 4 layers, 4 query heads sharing 2 key/value heads, vocabulary 256. Dense: one SwiGLU of "
            "width 3d per layer. Mixture of experts (Mixtral's rules): 8 SwiGLU experts of width 1.5d per layer, "
            "2 per token, so the same active feed-forward width plus a router of d x 8.",
            "Random weights from transformers' own init (seed 0), loaded into llmarch.Decoder; both generate "
            "greedily with their KV cache and give the same tokens (checked every run). Medians of 5 "
            "interleaved runs after one warm-up. ratio = transformers' time / llmarch's time (above 1: llmarch "
            "is faster).",
        ],
        extra=extra,
    )


@case("latent_cache", needs=("threadpoolctl",))
def latent_cache(quick: bool) -> Result:
    """The memory of the latent cache against a grouped-query cache, measured after generation."""
    from threadpoolctl import threadpool_limits

    n_tokens = 64 if quick else CACHE_TOKENS
    rows, held = [], {}
    with threadpool_limits(limits=1, user_api="blas"):
        for name, config in (("grouped-query, 8 KV heads of 128", GQA), ("latent, 512 + 64", LATENT)):
            model = Decoder.init(config, np.random.default_rng(0))
            caches = model.new_caches()
            tokens = np.random.default_rng(1).integers(0, config.vocab_size, n_tokens)
            model.hidden_states(tokens[: n_tokens // 2], caches)
            for t in range(n_tokens // 2, n_tokens):  # then one token at a time, as generation does
                model.hidden_states(tokens[t : t + 1], caches)
            held[name] = sum(cache.nbytes for cache in caches)  # what the cache's arrays hold
            expected = kv_cache_bytes(config, n_tokens, np.float32)
            if held[name] != expected:
                raise AssertionError(f"{name}: the cache holds {held[name]} bytes, kv_cache_bytes says {expected}")
            per = held[name] // (n_tokens * config.n_layers)
            rows.append([name, n_tokens, held[name], per, per // 4])
    ratio = held["grouped-query, 8 KV heads of 128"] / held["latent, 512 + 64"]
    return Result(
        title=f"The KV cache after {n_tokens} tokens: 2 layers, 16 query heads, width 2048, float32",
        columns=["attention", "tokens", "cache bytes", "bytes / token / layer", "numbers / token / layer"],
        rows=rows,
        notes=[
            "DeepSeek-V3's attention at 16 of its 128 heads (latent 512, rotary key 64, query heads of 128 + 64, "
            "queries compressed to 1536) against grouped-query attention with the same 16 query heads sharing 8 "
            "key/value heads of 128. Bytes are those of the cache arrays after a prompt of half the tokens and "
            "one-token steps for the rest; they equal kv_cache_bytes (checked every run).",
            f"The grouped-query cache is {ratio:.2f}x the latent one. The latent does not grow with the heads: "
            "at DeepSeek-V3's 128 heads it is the same, and multi-head attention's would be 2 x 128 x 128 numbers.",
        ],
        extra={"gqa_over_latent": round(ratio, 3)},
    )
