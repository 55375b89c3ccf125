"""llmarch.Decoder against Hugging Face transformers, family by family (the reference implementations).

Run by `make test-reference`, which installs the `reference` extra (CPU torch, transformers,
safetensors); the default `pytest` run ignores this folder. Nothing is downloaded: every
reference model is built from `DecoderConfig.to_hf_config()` with random weights, and the
same weights are loaded into `llmarch.Decoder`. Importing torch here on purpose makes a
missing install fail the run instead of skipping it.
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

from llmarch import GPT, Decoder, DecoderConfig, GPTConfig, count_parameters, rotary_frequencies

PROMPT = [5, 17, 42, 3, 88, 21, 9, 60, 33, 2, 71, 14]
NEW_TOKENS = 20
SIZES = {"vocab_size": 96, "n_positions": 64, "d_model": 64, "n_layers": 2}

# Tiny models of every family, shrunk from released presets with dataclasses.replace: each
# keeps its family's choices (and its rotary base and scaling, though the context is short).
TINY: dict[str, DecoderConfig] = {
    "gpt2": dataclasses.replace(DecoderConfig.preset("gpt2"), **SIZES, n_heads=4, d_ff=256),
    "llama-3.1": dataclasses.replace(
        DecoderConfig.preset("llama-3.1-8b"), **SIZES, n_heads=4, n_kv_heads=2, d_head=16, d_ff=160
    ),
    "llama-3.2 (tied)": dataclasses.replace(
        DecoderConfig.preset("llama-3.2-1b"), **SIZES, n_heads=8, n_kv_heads=2, d_head=8, d_ff=128
    ),
    "llama (biases, MQA)": dataclasses.replace(
        DecoderConfig.preset("llama-3.1-8b"),
        **SIZES,
        n_heads=4,
        n_kv_heads=1,
        d_head=16,
        d_ff=96,
        attention_bias=True,
        mlp_bias=True,
    ),
    # A window shorter than the prompt and the generation: the sliding window matters.
    "mistral": dataclasses.replace(
        DecoderConfig.preset("mistral-7b"), **SIZES, n_heads=4, n_kv_heads=2, d_head=16, d_ff=128, sliding_window=5
    ),
    # Qwen3's head width is not d_model / n_heads.
    "qwen3": dataclasses.replace(
        DecoderConfig.preset("qwen3-0.6b"), **SIZES, n_heads=4, n_kv_heads=2, d_head=32, d_ff=128
    ),
    "qwen3 (untied, biases)": dataclasses.replace(
        DecoderConfig.preset("qwen3-8b"), **SIZES, n_heads=4, n_kv_heads=4, d_head=16, d_ff=128, attention_bias=True
    ),
}


def hf_config(config: DecoderConfig):  # type: ignore[no-untyped-def]
    # No special tokens: generation must never stop early.
    return AutoConfig.for_model(**config.to_hf_config(), bos_token_id=None, eos_token_id=None, pad_token_id=0)


@cache
def hf_model(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(hf_config(TINY[name])).eval()
    # Random init leaves biases at 0 and norms at 1, and its tiny weights give near-ties in the
    # logits: perturb every parameter, so that each one matters and greedy picks are clear.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return model


def numpy_state(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def hf_logits(model: torch.nn.Module) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor([PROMPT])).logits[0].numpy()


def relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))


def base_model(model: torch.nn.Module) -> torch.nn.Module:
    return model.transformer if hasattr(model, "transformer") else model.model


@pytest.mark.parametrize("name", TINY)
def test_logits_match_in_float32(name: str, tmp_path: Path) -> None:
    config, model = TINY[name], hf_model(name)
    reference = hf_logits(model)
    assert np.abs(reference).max() > 1.0  # non-trivial logits, so the tolerance is a real test
    path = tmp_path / "model.safetensors"
    save_file(numpy_state(model), str(path))  # the ...ForCausalLM names, as published files hold them
    loaded = {
        "prefixed": Decoder.from_hf_state_dict(numpy_state(model), config),
        "torch tensors": Decoder.from_hf_state_dict(model.state_dict(), config),
        "safetensors": Decoder.from_safetensors(path, config),
    }
    if config.tie_embeddings:  # a tied model's base has every weight
        loaded["no prefix"] = Decoder.from_hf_state_dict(numpy_state(base_model(model)), config)
    for how, ours in loaded.items():
        assert ours.wte.weight.dtype == np.float32, how
        logits = ours.logits(np.array(PROMPT))
        assert logits.dtype == np.float32 and logits.shape == reference.shape, how
        assert relative_error(logits, reference) < 1e-4, how


def rotary_in_float64(model: torch.nn.Module, config: DecoderConfig) -> None:
    """Make the reference's rotary angles float64 too.

    Hugging Face computes them in float32 even in a float64 model (``.float()`` in its rotary
    module), which alone moves float64 logits by about 1e-6. The frequencies themselves are
    checked against Hugging Face's own in ``test_rotary_frequencies_match``.
    """
    rotary = base_model(model).rotary_emb
    inv_freq = torch.tensor(rotary_frequencies(config.d_head, config.rope_theta, config.rope_scaling))

    def forward(x: torch.Tensor, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        angles = position_ids[..., None].double() * inv_freq
        angles = torch.cat((angles, angles), dim=-1)
        return angles.cos().to(x.dtype), angles.sin().to(x.dtype)

    rotary.forward = forward


@pytest.mark.parametrize("name", TINY)
def test_logits_match_in_float64(name: str) -> None:
    config = TINY[name]
    model = copy.deepcopy(hf_model(name)).double()
    if config.positions == "rotary":
        rotary_in_float64(model, config)
    state = {k: v.astype(np.float64) for k, v in numpy_state(model).items()}
    ours = Decoder.from_hf_state_dict(state, config).logits(np.array(PROMPT))
    assert ours.dtype == np.float64
    assert relative_error(ours, hf_logits(model)) < 1e-6


@pytest.mark.parametrize("name", ["llama-3.1-8b", "llama-3.2-1b", "mistral-7b", "qwen3-8b"])
def test_rotary_frequencies_match(name: str) -> None:
    config = DecoderConfig.preset(name)
    small = dataclasses.replace(
        config, n_layers=1, vocab_size=8, d_model=256, n_heads=2, n_kv_heads=1, d_head=int(config.d_head), d_ff=8
    )
    assert small.d_head == config.d_head
    reference = AutoModelForCausalLM.from_config(hf_config(small))
    inv_freq = base_model(reference).rotary_emb.inv_freq.numpy()  # float32, as Hugging Face keeps it
    ours = rotary_frequencies(config.d_head, config.rope_theta, config.rope_scaling)
    np.testing.assert_allclose(ours, inv_freq, rtol=1e-6)


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


def test_the_sliding_window_is_exercised() -> None:
    config = TINY["mistral"]
    assert config.sliding_window is not None and config.sliding_window < len(PROMPT)
    # Without the window the same weights give other logits: the test above checks the window.
    ours = Decoder.from_hf_state_dict(numpy_state(hf_model("mistral")), config)
    full = Decoder.from_parameters(dataclasses.replace(config, sliding_window=None), ours.parameters())
    assert relative_error(full.logits(np.array(PROMPT)), hf_logits(hf_model("mistral"))) > 1e-2


def test_round_trip_to_hugging_face_names() -> None:
    for name in TINY:
        model = hf_model(name)
        ours = Decoder.from_hf_state_dict(numpy_state(model), TINY[name])
        state = numpy_state(model)
        exported = ours.to_hf_state_dict(prefix=True)
        assert sorted(exported) == sorted(state), name
        for key, tensor in state.items():
            np.testing.assert_array_equal(exported[key], tensor, err_msg=f"{name}: {key}")


def test_gpt_is_gpt2_on_the_decoder() -> None:
    config = GPTConfig(**{**SIZES, "n_heads": 4})
    model = AutoModelForCausalLM.from_config(hf_config(config)).eval()
    gpt = GPT.from_hf_state_dict(numpy_state(model), config)
    assert relative_error(gpt.logits(np.array(PROMPT)), hf_logits(model)) < 1e-4
    assert type(model).__name__ == "GPT2LMHeadModel"


@pytest.mark.parametrize("name", DecoderConfig.presets())
def test_count_parameters_matches_transformers(name: str) -> None:
    config = DecoderConfig.preset(name)
    with torch.device("meta"):  # shapes only: no memory for 405 billion weights
        model = AutoModelForCausalLM.from_config(hf_config(config))
    assert count_parameters(config) == sum(p.numel() for p in model.parameters())
    if name == "gpt2":
        assert count_parameters(config) == 124_439_808
