"""The decoder-only GPT: shapes, causality, the KV cache, sampling, and GPT-2 checkpoints."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from llmarch import GPT, DecoderBlock, GPTConfig, KVCache, MultiHeadAttention, causal_mask, count_parameters
from llmarch import sample_next_token as sample

CONFIG = GPTConfig(vocab_size=50, n_positions=32, d_model=16, n_layers=2, n_heads=4)
PROMPT = np.array([1, 2, 3, 4])


@pytest.fixture(scope="module")
def model() -> GPT:
    # A larger std than GPT-2's 0.02 gives peaked, tie-free logits, so greedy choices are clear.
    return GPT.init(CONFIG, np.random.default_rng(0), std=0.3, dtype=np.float64)


# -- shapes and the forward pass ------------------------------------------------------------


def test_init_shapes_and_dtype() -> None:
    m = GPT.init(CONFIG, np.random.default_rng(0))
    assert m.wte.weight.shape == (50, 16) and m.wte.weight.dtype == np.float32
    assert m.wpe.weight.shape == (32, 16)
    assert len(m.blocks) == 2 and isinstance(m.blocks[0], DecoderBlock)
    assert m.blocks[0].mlp.activation == "gelu_tanh" and m.blocks[0].ln_1.eps == 1e-5
    logits = m.logits(PROMPT)
    assert logits.shape == (4, 50) and logits.dtype == np.float32


@pytest.mark.parametrize(
    "name", ["gpt2", "gpt2-medium"]
)  # all four are checked against transformers by tests/reference
def test_parameter_count_matches_the_arrays(name: str) -> None:
    config = GPTConfig.preset(name, n_layers=1, vocab_size=100, n_positions=8)  # small enough to allocate
    m = GPT.init(config, np.random.default_rng(0))
    assert sum(a.size for a in m.to_hf_state_dict().values()) == count_parameters(config)


def test_init_is_seeded() -> None:
    a = GPT.init(CONFIG, np.random.default_rng(5)).logits(PROMPT)
    b = GPT.init(CONFIG, np.random.default_rng(5)).logits(PROMPT)
    np.testing.assert_array_equal(a, b)


def test_logits_follow_the_formula(model: GPT) -> None:
    x = model.wte.weight[PROMPT] + model.wpe.weight[:4]
    for block in model.blocks:
        a = block.attn(block.ln_1(x), mask=causal_mask(4))
        x = x + a
        x = x + block.mlp(block.ln_2(x))
    np.testing.assert_allclose(model.logits(PROMPT), model.ln_f(x) @ model.wte.weight.T, atol=1e-12)


def test_logits_are_causal(model: GPT) -> None:
    tokens = np.array([5, 9, 2, 7, 1, 3])
    base = model.logits(tokens)
    for t in range(len(tokens)):
        changed = tokens.copy()
        changed[t + 1 :] = (changed[t + 1 :] + 11) % CONFIG.vocab_size
        np.testing.assert_allclose(model.logits(changed)[: t + 1], base[: t + 1], atol=1e-12)
    changed = tokens.copy()
    changed[0] = 40
    assert not np.allclose(model.logits(changed)[-1], base[-1])  # the past does matter


# -- the KV cache ---------------------------------------------------------------------------


def test_kv_cache_grows_and_matches_full_attention() -> None:
    attn = MultiHeadAttention.init(16, 4, np.random.default_rng(1), std=0.3)
    x = np.random.default_rng(2).standard_normal((6, 16))
    full = attn(x, mask=causal_mask(6))
    cache = KVCache()
    assert cache.length == 0
    first = attn(x[:4], mask=causal_mask(4), cache=cache)
    assert cache.length == 4 and cache.keys is not None and cache.keys.shape == (4, 4, 4)
    rows = [attn(x[t : t + 1], cache=cache) for t in (4, 5)]  # one new token sees every cached key
    assert cache.length == 6
    np.testing.assert_allclose(np.concatenate([first, *rows]), full, atol=1e-12)


def test_kv_cache_is_for_self_attention_only() -> None:
    attn = MultiHeadAttention.init(16, 4, np.random.default_rng(1))
    with pytest.raises(ValueError, match="cache is for self-attention only"):
        attn(np.zeros((2, 16)), context=np.zeros((3, 16)), cache=KVCache())


def test_hidden_states_with_caches_match_the_full_pass(model: GPT) -> None:
    tokens = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    full = model.hidden_states(tokens)
    caches = [KVCache() for _ in model.blocks]
    parts = [model.hidden_states(tokens[:5], caches), model.hidden_states(tokens[5:7], caches)]
    parts.append(model.hidden_states(tokens[7:], caches))
    np.testing.assert_allclose(np.concatenate(parts), full, atol=1e-12)
    assert all(c.length == 8 for c in caches)


# -- generation -----------------------------------------------------------------------------


def test_greedy_generation_is_argmax_and_deterministic(model: GPT) -> None:
    out = model.generate(PROMPT, 10)
    assert out.dtype == np.int64 and out.shape == (14,)
    np.testing.assert_array_equal(out[:4], PROMPT)
    np.testing.assert_array_equal(model.generate(PROMPT, 10), out)
    for t in range(4, 14):
        assert out[t] == np.argmax(model.logits(out[:t])[-1])


@pytest.mark.parametrize("kwargs", [{}, {"temperature": 1.0, "rng": 3}, {"temperature": 0.7, "top_k": 5, "rng": 9}])
def test_cache_and_no_cache_give_the_same_tokens(model: GPT, kwargs: dict[str, object]) -> None:
    with_cache = model.generate(PROMPT, 20, use_cache=True, **kwargs)  # type: ignore[arg-type]
    without = model.generate(PROMPT, 20, use_cache=False, **kwargs)  # type: ignore[arg-type]
    np.testing.assert_array_equal(with_cache, without)


def test_seeded_sampling_is_reproducible(model: GPT) -> None:
    a = model.generate(PROMPT, 20, temperature=1.0, rng=np.random.default_rng(42))
    b = model.generate(PROMPT, 20, temperature=1.0, rng=np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.generate(PROMPT, 20, temperature=1.0, rng=42), a)
    draws = {tuple(model.generate(PROMPT, 20, temperature=2.0, rng=seed)) for seed in range(5)}
    assert len(draws) > 1  # sampling does sample


def test_top_k_never_picks_outside_the_top_k(model: GPT) -> None:
    out = model.generate(PROMPT, 24, temperature=5.0, top_k=3, rng=0)
    for t in range(len(PROMPT), len(out)):
        top3 = np.argsort(model.logits(out[:t])[-1])[-3:]
        assert out[t] in top3
    logits = np.array([0.0, 5.0, 1.0, 4.0, 3.0])
    picks = {sample(logits, temperature=100.0, top_k=2, rng=np.random.default_rng(s)) for s in range(50)}
    assert picks == {1, 3}


def test_sample_next_token_edge_cases() -> None:
    logits = np.array([0.1, 2.0, 2.0, -1.0])
    assert sample(logits) == 1  # greedy; ties go to the smallest id
    assert sample(logits, temperature=1.0, top_k=1, rng=0) in {1, 2}
    assert sample(logits, temperature=1.0, top_k=100, rng=0) in range(4)  # top_k above the vocabulary: all
    counts = np.bincount([sample([0.0, np.log(3.0)], temperature=1.0, rng=s) for s in range(400)], minlength=2)
    assert 250 < counts[1] < 350  # p = 3/4


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"temperature": -1.0}, ValueError, "temperature must be a finite number >= 0"),
        ({"temperature": float("nan")}, ValueError, "temperature must be a finite number"),
        ({"temperature": "hot"}, TypeError, "temperature must be a number"),
        ({"top_k": 0}, ValueError, "top_k must be an integer >= 1"),
        ({"top_k": 2.5}, TypeError, "top_k must be an integer"),
    ],
)
def test_sampling_rejects_bad_arguments(
    model: GPT, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        model.generate(PROMPT, 3, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(error, match=match):
        sample(np.zeros(5), **kwargs)  # type: ignore[arg-type]


def test_generate_rejects_bad_input(model: GPT) -> None:
    with pytest.raises(ValueError, match="makes 33, more than n_positions = 32"):
        model.generate(PROMPT, 29)
    assert model.generate(PROMPT, 28).shape == (32,)
    assert model.generate(PROMPT, 0).tolist() == PROMPT.tolist()
    with pytest.raises(ValueError, match="empty prompt"):
        model.generate(np.array([], dtype=np.int64), 3)
    with pytest.raises(ValueError, match=r"tokens must be a 1-D prompt.*got shape \(1, 4\)"):
        model.generate(PROMPT[None], 3)
    with pytest.raises(ValueError, match=r"tokens must lie in \[0, 49\]"):
        model.generate(np.array([1, 50]), 3)
    with pytest.raises(TypeError, match="integer token ids"):
        model.logits(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="tokens must number at most n_positions = 32"):
        model.logits(np.zeros(33, dtype=np.int64))
    with pytest.raises(ValueError, match="max_new_tokens must be an integer >= 0"):
        model.generate(PROMPT, -1)
    with pytest.raises(ValueError, match=r"logits must have 1 dimension"):
        sample(np.zeros((2, 3)))


# -- Hugging Face GPT-2 checkpoints ---------------------------------------------------------


@pytest.mark.parametrize("prefix", [False, True])
def test_state_dict_round_trip(model: GPT, prefix: bool) -> None:
    state = model.to_hf_state_dict(prefix=prefix)
    assert ("transformer.wte.weight" in state) == prefix and ("lm_head.weight" in state) == prefix
    assert state[("transformer." if prefix else "") + "h.1.attn.c_attn.weight"].shape == (16, 48)
    loaded = GPT.from_hf_state_dict(state, CONFIG)
    np.testing.assert_array_equal(loaded.logits(PROMPT), model.logits(PROMPT))
    np.testing.assert_array_equal(loaded.generate(PROMPT, 8), model.generate(PROMPT, 8))


def test_conv1d_layout_splits_q_k_v(model: GPT) -> None:
    state = model.to_hf_state_dict()
    w = state["h.0.attn.c_attn.weight"]  # (d, 3d), used as x @ W: columns are [q | k | v]
    x = np.random.default_rng(0).standard_normal((3, 16))
    q, k, v = np.split(x @ w + state["h.0.attn.c_attn.bias"], 3, axis=-1)
    a = model.blocks[0].attn
    np.testing.assert_allclose(q, x @ a.w_q + a.b_q)
    np.testing.assert_allclose(k, x @ a.w_k + a.b_k)
    np.testing.assert_allclose(v, x @ a.w_v + a.b_v)


def test_checkpoint_buffers_are_ignored_and_float32_kept(model: GPT) -> None:
    state = {k: v.astype(np.float32) for k, v in model.to_hf_state_dict().items()}
    state["h.0.attn.bias"] = np.tril(np.ones((1, 1, 32, 32), dtype=bool))
    state["h.1.attn.masked_bias"] = np.array(-1e4, dtype=np.float32)
    loaded = GPT.from_hf_state_dict(state, CONFIG)
    assert loaded.blocks[0].attn.w_q.dtype == np.float32
    np.testing.assert_allclose(loaded.logits(PROMPT), model.logits(PROMPT), atol=1e-4)


def test_checkpoint_errors_name_the_tensor(model: GPT) -> None:
    state = model.to_hf_state_dict(prefix=True)
    missing = dict(state)
    del missing["transformer.h.1.mlp.c_fc.bias"]
    with pytest.raises(ValueError, match=r"missing the tensor 'h.1.mlp.c_fc.bias'"):
        GPT.from_hf_state_dict(missing, CONFIG)
    wrong = dict(state)
    wrong["transformer.h.0.attn.c_attn.weight"] = np.zeros((48, 16))
    with pytest.raises(ValueError, match=r"state\['h.0.attn.c_attn.weight'\] must have shape \(16, 48\).*\(48, 16\)"):
        GPT.from_hf_state_dict(wrong, CONFIG)
    untied = dict(state)
    untied["lm_head.weight"] = state["lm_head.weight"] + 1
    with pytest.raises(ValueError, match=r"lm_head\.weight.*must equal the token embedding"):
        GPT.from_hf_state_dict(untied, CONFIG)
    with pytest.raises(ValueError, match=r"h\.2\.ln_1\.bias.*has no such tensor.*look like gpt2.*n_layers = 2"):
        GPT.from_hf_state_dict({**state, "h.2.ln_1.bias": np.zeros(16)}, CONFIG)
    with pytest.raises(ValueError, match="must have shape"):
        GPT.from_hf_state_dict(state, GPTConfig(vocab_size=50, n_positions=32, d_model=32, n_layers=2, n_heads=4))
    with pytest.raises(TypeError, match="state must be a mapping"):
        GPT.from_hf_state_dict([("wte.weight", 1)], CONFIG)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="config must be a DecoderConfig"):
        GPT.from_hf_state_dict(state, {"n_layers": 2})  # type: ignore[arg-type]


needs_safetensors = pytest.mark.skipif(importlib.util.find_spec("safetensors") is None, reason="needs safetensors")


@needs_safetensors
@pytest.mark.parametrize("prefix", [False, True])
def test_safetensors_round_trip(model: GPT, tmp_path: Path, prefix: bool) -> None:
    from safetensors.numpy import save_file

    path = tmp_path / "model.safetensors"
    save_file({k: np.ascontiguousarray(v) for k, v in model.to_hf_state_dict(prefix=prefix).items()}, str(path))
    loaded = GPT.from_safetensors(path, CONFIG)
    np.testing.assert_array_equal(loaded.logits(PROMPT), model.logits(PROMPT))


@needs_safetensors
def test_from_safetensors_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        GPT.from_safetensors(tmp_path / "absent.safetensors", CONFIG)


def test_from_safetensors_without_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"pip install 'llmarch\[weights\]'"):
        GPT.from_safetensors(tmp_path / "model.safetensors", CONFIG)


def test_gpt_rejects_inconsistent_parts(model: GPT) -> None:
    with pytest.raises(ValueError, match="blocks must number n_layers = 2; got 1"):
        GPT(CONFIG, model.wte, model.wpe, model.blocks[:1], model.ln_f)
    with pytest.raises(TypeError, match="config must be a DecoderConfig"):
        GPT.init({"d_model": 16})  # type: ignore[arg-type]
