"""Mixture of experts and latent attention against Hugging Face: Mixtral, Qwen3-MoE, DeepSeek-V3.

Run by `make test-reference` (CPU torch, transformers, safetensors). Nothing is downloaded:
each reference model is built from `DecoderConfig.to_hf_config()` with random weights, and
the same weights are loaded into `llmarch.Decoder`, from transformers' own `state_dict()`
(stacked experts) and from a file with the per-expert names of released checkpoints, which
transformers itself loads back (its conversion from those names is the check of ours).
"""

from __future__ import annotations

import copy
import dataclasses
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file
from transformers import AutoConfig, AutoModelForCausalLM

from llmarch import Decoder, DecoderConfig, LatentAttention, count_parameters, rotary_frequencies
from llmarch.checkpoint import to_hf_state_dict

PROMPT = [5, 17, 42, 3, 88, 21, 9, 60, 33, 2, 71, 14]
NEW_TOKENS = 20
SIZES = {"vocab_size": 96, "n_positions": 64, "d_model": 64, "n_layers": 3, "n_heads": 4}
MOE_PRESETS = ["mixtral-8x7b", "qwen3-30b-a3b", "deepseek-v3"]

# Tiny models of each family, shrunk from the released presets with dataclasses.replace (the
# rotary base and scaling kept, DeepSeek-V3's YaRN included).
TINY: dict[str, DecoderConfig] = {
    "mixtral": dataclasses.replace(
        DecoderConfig.preset("mixtral-8x7b"), **SIZES, n_kv_heads=2, d_ff=96, n_experts=4, n_experts_per_token=2
    ),
    # A window shorter than the prompt, as Mixtral's config allows.
    "mixtral (window)": dataclasses.replace(
        DecoderConfig.preset("mixtral-8x7b"), **SIZES, n_kv_heads=1, d_ff=64, n_experts=6, sliding_window=5
    ),
    "qwen3_moe": dataclasses.replace(
        DecoderConfig.preset("qwen3-30b-a3b"),
        **SIZES,
        n_kv_heads=2,
        d_head=16,
        d_ff=96,
        d_ff_expert=32,
        n_experts=8,
        n_experts_per_token=3,
        first_k_dense=1,
    ),
    "qwen3_moe (not renormalised, biases)": dataclasses.replace(
        DecoderConfig.preset("qwen3-30b-a3b"),
        **SIZES,
        n_kv_heads=4,
        d_head=16,
        d_ff_expert=32,
        n_experts=6,
        n_experts_per_token=2,
        router_normalize=False,
        attention_bias=True,
    ),
    "deepseek_v3": dataclasses.replace(
        DecoderConfig.preset("deepseek-v3"),
        **SIZES,
        d_ff=96,
        d_ff_expert=32,
        n_experts=8,
        n_experts_per_token=3,
        n_expert_groups=4,
        n_groups_per_token=2,
        first_k_dense=1,
        q_lora_rank=24,
        kv_lora_rank=16,
        qk_rope_head_dim=8,
        qk_nope_head_dim=16,
        v_head_dim=12,
    ),
    # Uncompressed queries (DeepSeek-V2-Lite's choice), two shared experts, no groups, no renormalising.
    "deepseek_v3 (plain queries)": dataclasses.replace(
        DecoderConfig.preset("deepseek-v3"),
        **SIZES,
        d_ff=96,
        d_ff_expert=16,
        n_experts=6,
        n_experts_per_token=2,
        n_shared_experts=2,
        n_expert_groups=1,
        n_groups_per_token=1,
        router_normalize=False,
        first_k_dense=0,
        q_lora_rank=None,
        kv_lora_rank=24,
        qk_rope_head_dim=16,
        qk_nope_head_dim=8,
        v_head_dim=16,
    ),
}


def hf_config(config: DecoderConfig):  # type: ignore[no-untyped-def]
    # No special tokens: generation must never stop early.
    return AutoConfig.for_model(**config.to_hf_config(), bos_token_id=None, eos_token_id=None, pad_token_id=0)


@cache
def hf_model(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(hf_config(TINY[name])).eval()
    # Random init leaves norms at 1 and DeepSeek's router bias at 0, and its tiny weights give
    # near-ties: perturb every parameter and the router bias, so each one matters.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
        for name_, buffer in model.named_buffers():
            if name_.endswith("e_score_correction_bias"):
                buffer.add_(torch.randn_like(buffer) * 0.3)
    return model


def numpy_state(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def hf_logits(model: torch.nn.Module) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor([PROMPT])).logits[0].numpy()


def relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))


def released_file(model: torch.nn.Module, config: DecoderConfig, folder: Path) -> Path:
    """A checkpoint folder with released files' per-expert names, written by llmarch."""
    ours = Decoder.from_hf_state_dict(numpy_state(model), config)
    state = to_hf_state_dict({**ours.parameters(), **ours.buffers()}, config, prefix=True, released=True)
    hf_config(config).save_pretrained(folder)
    save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, str(folder / "model.safetensors"))
    return folder / "model.safetensors"


@pytest.mark.parametrize("name", TINY)
def test_logits_match_in_float32(name: str, tmp_path: Path) -> None:
    config, model = TINY[name], hf_model(name)
    reference = hf_logits(model)
    assert np.abs(reference).max() > 1.0  # non-trivial logits, so the tolerance is a real test
    path = released_file(model, config, tmp_path)
    loaded = {
        "stacked experts": Decoder.from_hf_state_dict(numpy_state(model), config),
        "torch tensors": Decoder.from_hf_state_dict(model.state_dict(), config),
        "released per-expert file": Decoder.from_safetensors(path, config),
    }
    for how, ours in loaded.items():
        assert ours.wte.weight.dtype == np.float32, how
        logits = ours.logits(np.array(PROMPT))
        assert logits.dtype == np.float32 and logits.shape == reference.shape, how
        assert relative_error(logits, reference) < 1e-4, how
    # transformers reads the per-expert names back into the same model: they are what it expects.
    reread = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    for key, tensor in numpy_state(model).items():
        np.testing.assert_array_equal(numpy_state(reread)[key], tensor, err_msg=key)


@pytest.mark.parametrize("name", [name for name in TINY if TINY[name].kv_lora_rank is not None])
def test_latent_attention_absorbed_or_not_matches(name: str) -> None:
    config, model = TINY[name], hf_model(name)
    ours = Decoder.from_hf_state_dict(numpy_state(model), config)
    reference = hf_logits(model)
    for absorb in (True, False):
        for block in ours.blocks:
            assert isinstance(block.attn, LatentAttention)
            block.attn.absorb = absorb
        assert relative_error(ours.logits(np.array(PROMPT)), reference) < 1e-4, f"absorb={absorb}"


@pytest.mark.parametrize("name", TINY)
def test_logits_match_in_float64(name: str) -> None:
    """In float64 too: within 1e-6, and 1e-5 for DeepSeek-V3, whose reference router computes in float32 even then."""
    config = TINY[name]
    model = copy.deepcopy(hf_model(name)).double()
    model.set_experts_implementation("eager")  # its default, torch's grouped matmul, has no float64
    base = model.model.rotary_emb
    inv_freq = torch.tensor(rotary_frequencies(config.rope_dim, config.rope_theta, config.rope_scaling))
    scaling = base.attention_scaling

    def forward(x: torch.Tensor, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        angles = position_ids[..., None].double() * inv_freq  # Hugging Face's angles are float32 even here
        angles = torch.cat((angles, angles), dim=-1)
        return (angles.cos() * scaling).to(x.dtype), (angles.sin() * scaling).to(x.dtype)

    base.forward = forward
    state = {k: v.astype(np.float64) for k, v in numpy_state(model).items()}
    ours = Decoder.from_hf_state_dict(state, config).logits(np.array(PROMPT))
    assert ours.dtype == np.float64
    assert relative_error(ours, hf_logits(model)) < (1e-5 if config.family == "deepseek_v3" else 1e-6)


@pytest.mark.parametrize("name", TINY)
def test_greedy_generation_is_identical(name: str) -> None:
    config, model = TINY[name], hf_model(name)
    ids = torch.tensor([PROMPT])
    with torch.no_grad():
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=NEW_TOKENS,
            min_new_tokens=NEW_TOKENS,
            do_sample=False,
        )
    expected = out[0].tolist()
    assert len(set(expected[len(PROMPT) :])) > 3  # a varied continuation, not one token repeated
    ours = Decoder.from_hf_state_dict(numpy_state(model), config)
    for use_cache in (True, False):
        got = ours.generate(np.array(PROMPT), NEW_TOKENS, use_cache=use_cache).tolist()
        assert got == expected, f"use_cache={use_cache}"


def test_the_router_bias_and_the_groups_are_exercised() -> None:
    """Without DeepSeek's bias, or without its group limit, the same weights route differently."""
    config = TINY["deepseek_v3"]
    ours = Decoder.from_hf_state_dict(numpy_state(hf_model("deepseek_v3")), config)
    reference = hf_logits(hf_model("deepseek_v3"))
    params = ours.parameters()
    unbiased = {**params, **{path: np.zeros_like(b) for path, b in ours.buffers().items()}}
    free = dataclasses.replace(config, n_expert_groups=1, n_groups_per_token=1)
    for changed, weights in ((config, unbiased), (free, {**params, **ours.buffers()})):
        other = Decoder.from_parameters(changed, weights)
        assert relative_error(other.logits(np.array(PROMPT)), reference) > 1e-3


def test_round_trip_to_hugging_face_names() -> None:
    for name in TINY:
        model = hf_model(name)
        ours = Decoder.from_hf_state_dict(numpy_state(model), TINY[name])
        state = numpy_state(model)
        exported = ours.to_hf_state_dict(prefix=True)
        assert sorted(exported) == sorted(state), name
        for key, tensor in state.items():
            np.testing.assert_array_equal(exported[key], tensor, err_msg=f"{name}: {key}")


def test_yarn_matches_transformers() -> None:
    config = DecoderConfig.preset("deepseek-v3")
    small = dataclasses.replace(
        config, **{**SIZES, "n_layers": 1}, d_ff=8, d_ff_expert=8, n_experts=8, first_k_dense=0, q_lora_rank=16,
        kv_lora_rank=16, n_expert_groups=1, n_groups_per_token=1,
    )  # fmt: skip
    assert small.rope_dim == 64 and small.rope_scaling == config.rope_scaling
    reference = AutoModelForCausalLM.from_config(hf_config(small))
    rotary = reference.model.rotary_emb
    ours = rotary_frequencies(small.rope_dim, small.rope_theta, small.rope_scaling)
    np.testing.assert_allclose(ours, rotary.inv_freq.numpy(), rtol=1e-6)
    assert small.rope_scaling is not None and rotary.attention_scaling == pytest.approx(
        small.rope_scaling.attention_factor
    )
    attn = Decoder.init(small, 0).blocks[0].attn
    assert isinstance(attn, LatentAttention)
    assert attn.scale == pytest.approx(reference.model.layers[0].self_attn.scaling, rel=1e-12)


@pytest.mark.parametrize("name", MOE_PRESETS)
def test_total_and_active_counts_match_transformers(name: str) -> None:
    config = DecoderConfig.preset(name)
    with torch.device("meta"):  # shapes only: no memory for 671 billion weights
        model = AutoModelForCausalLM.from_config(hf_config(config))
    total = sum(p.numel() for p in model.parameters())
    assert count_parameters(config) == total
    # Active: every parameter but the routed experts a token does not use, counted from the
    # reference's own modules (its stacked experts hold all n_experts of a layer).
    assert config.n_experts is not None and config.n_experts_per_token is not None
    routed = sum(p.numel() for n, p in model.named_parameters() if ".mlp.experts." in n)
    unused = routed * (config.n_experts - config.n_experts_per_token) // config.n_experts
    assert count_parameters(config, active=True) == total - unused
    buffers = sum(b.numel() for n, b in model.named_buffers() if n.endswith("e_score_correction_bias"))
    assert buffers == (256 * 58 if name == "deepseek-v3" else 0)  # loaded, not counted
