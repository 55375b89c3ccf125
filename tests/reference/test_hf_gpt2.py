"""llmarch.GPT against Hugging Face transformers' GPT2LMHeadModel (the reference implementation).

Run by `make test-reference`, which installs the `reference` extra (CPU torch, transformers,
safetensors); the default `pytest` run ignores this folder. Nothing is downloaded: the
reference model is built from a config with random weights. Importing torch here on
purpose makes a missing install fail the run instead of skipping it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file
from transformers import GPT2Config, GPT2LMHeadModel

from llmarch import GPT, GPTConfig, count_parameters

CONFIG = GPTConfig(vocab_size=96, n_positions=64, d_model=64, n_layers=2, n_heads=4)
PROMPT = [5, 17, 42, 3, 88, 21]
NEW_TOKENS = 20


def hf_config(config: GPTConfig) -> GPT2Config:
    """The Hugging Face config of the same shape: tanh GELU ("gelu_new") and eps 1e-5 are GPT-2's defaults."""
    return GPT2Config(
        vocab_size=config.vocab_size,
        n_positions=config.n_positions,
        n_embd=config.d_model,
        n_layer=config.n_layers,
        n_head=config.n_heads,
        activation_function="gelu_new",
        layer_norm_epsilon=config.layer_norm_eps,
        bos_token_id=0,
        eos_token_id=None,  # never stop early: generate exactly NEW_TOKENS tokens
        pad_token_id=0,
    )


@pytest.fixture(scope="module")
def hf_model() -> Iterator[GPT2LMHeadModel]:
    torch.manual_seed(0)
    model = GPT2LMHeadModel(hf_config(CONFIG)).eval()
    # GPT-2's init leaves biases at 0 and norms at 1, and its tiny weights give near-ties in
    # the logits: perturb every parameter, so that each one matters and greedy picks are clear.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    yield model


@pytest.fixture(scope="module")
def hf_logits(hf_model: GPT2LMHeadModel) -> np.ndarray:
    with torch.no_grad():
        return hf_model(torch.tensor([PROMPT])).logits[0].numpy()


def hf_greedy(model: GPT2LMHeadModel, use_cache: bool) -> list[int]:
    ids = torch.tensor([PROMPT])
    with torch.no_grad():
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=NEW_TOKENS,
            min_new_tokens=NEW_TOKENS,
            do_sample=False,
            use_cache=use_cache,
        )
    return out[0].tolist()


def numpy_state(module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def loaded_models(hf_model: GPT2LMHeadModel, tmp_path: Path) -> dict[str, GPT]:
    """The same weights four ways: with the `transformer.` prefix, without, as torch tensors, and from a file."""
    path = tmp_path / "model.safetensors"
    save_file(numpy_state(hf_model.transformer), str(path))  # GPT2Model names, like the published file
    return {
        "prefixed": GPT.from_hf_state_dict(numpy_state(hf_model), CONFIG),
        "torch tensors": GPT.from_hf_state_dict(hf_model.state_dict(), CONFIG),
        "bare": GPT.from_hf_state_dict(numpy_state(hf_model.transformer), CONFIG),
        "safetensors": GPT.from_safetensors(path, CONFIG),
    }


def test_state_dict_has_the_expected_layout(hf_model: GPT2LMHeadModel) -> None:
    state = numpy_state(hf_model)
    assert "lm_head.weight" in state and "transformer.wte.weight" in state
    assert state["transformer.h.0.attn.c_attn.weight"].shape == (64, 192)  # Conv1D: (in, out)
    np.testing.assert_array_equal(state["lm_head.weight"], state["transformer.wte.weight"])  # tied


def test_logits_match(hf_model: GPT2LMHeadModel, hf_logits: np.ndarray, tmp_path: Path) -> None:
    assert np.abs(hf_logits).max() > 1.0  # non-trivial logits, so 1e-4 is a real test
    for how, model in loaded_models(hf_model, tmp_path).items():
        logits = model.logits(np.array(PROMPT))
        assert logits.shape == hf_logits.shape, how
        np.testing.assert_allclose(logits, hf_logits, atol=1e-4, rtol=0, err_msg=how)


def test_logits_match_in_float64(hf_model: GPT2LMHeadModel, hf_logits: np.ndarray) -> None:
    state = {k: v.astype(np.float64) for k, v in numpy_state(hf_model).items()}
    logits = GPT.from_hf_state_dict(state, CONFIG).logits(np.array(PROMPT))
    np.testing.assert_allclose(logits, hf_logits, atol=1e-4, rtol=0)


@pytest.mark.parametrize("hf_cache", [True, False])
def test_greedy_generation_is_identical(hf_model: GPT2LMHeadModel, tmp_path: Path, hf_cache: bool) -> None:
    expected = hf_greedy(hf_model, use_cache=hf_cache)
    assert len(expected) == len(PROMPT) + NEW_TOKENS
    assert len(set(expected[len(PROMPT) :])) > 3  # a varied continuation, not one token repeated
    for how, model in loaded_models(hf_model, tmp_path).items():
        for use_cache in (True, False):
            got = model.generate(np.array(PROMPT), NEW_TOKENS, use_cache=use_cache).tolist()
            assert got == expected, f"{how}, use_cache={use_cache}"


@pytest.mark.parametrize("name", GPTConfig.presets())
def test_count_parameters_matches_transformers(name: str) -> None:
    config = GPTConfig.preset(name)
    with torch.device("meta"):  # shapes only: no memory for gpt2-xl's 1.5 billion weights
        model = GPT2LMHeadModel(hf_config(config))
    assert count_parameters(config) == sum(p.numel() for p in model.parameters())
    if name == "gpt2":
        assert count_parameters(config) == 124_439_808
