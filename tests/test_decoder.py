"""The config-driven Decoder: configs and presets, the new components, the KV cache, checkpoints.

The comparison with Hugging Face's own implementations is in tests/reference/ (`make
test-reference`); these tests need NumPy only.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from llmarch import (
    GPT,
    Decoder,
    DecoderConfig,
    GPTConfig,
    KVCache,
    MultiHeadAttention,
    RMSNorm,
    RopeScaling,
    SwiGLU,
    count_parameters,
    decoder_mask,
    kv_cache_bytes,
    parameter_breakdown,
    parameter_shapes,
    rotary_embedding,
    rotary_frequencies,
    sample_next_token,
    scaled_dot_product_attention,
    silu,
    softmax,
    tiled_attention,
)
from llmarch.checkpoint import hf_shapes

SIZES = {"vocab_size": 64, "n_positions": 48, "d_model": 32, "n_layers": 2}


def tiny(name: str, **changes: object) -> DecoderConfig:
    """A small model of preset ``name``'s family, made as the pages make them: dataclasses.replace."""
    config = DecoderConfig.preset(name)
    heads = {"n_heads": 4, "n_kv_heads": 2 if config.n_kv_heads != config.n_heads else 4}
    if config.d_head != config.d_model // config.n_heads and config.kv_lora_rank is None:  # Qwen3's own head width
        heads["d_head"] = 16
    sizes = {**SIZES, **heads, **({"d_ff": 48} if config.feed_forward == "swiglu" else {})}
    if config.n_experts is not None:  # fewer, narrower experts, and a dense first layer if the family has one
        groups = {"n_expert_groups": 2, "n_groups_per_token": 1} if config.n_expert_groups > 1 else {}
        sizes |= {"n_experts": 4, "n_experts_per_token": 2, "d_ff_expert": 24, **groups}
        sizes |= {"first_k_dense": 1} if config.first_k_dense else {}
    if config.kv_lora_rank is not None:  # latent ranks below the tiny width
        sizes |= {"q_lora_rank": 24, "kv_lora_rank": 16, "qk_rope_head_dim": 8, "qk_nope_head_dim": 8, "v_head_dim": 8}
    return dataclasses.replace(config, **{**sizes, **changes})


FAMILIES = {"gpt2": "gpt2", "llama": "llama-3.1-8b", "llama-tied": "llama-3.2-1b", "mistral": "mistral-7b",
            "qwen3": "qwen3-0.6b"}  # fmt: skip
PROMPT = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3])


@pytest.fixture(scope="module", params=list(FAMILIES))
def model(request: pytest.FixtureRequest) -> Decoder:
    changes = {"sliding_window": 4} if request.param == "mistral" else {}
    return Decoder.init(tiny(FAMILIES[request.param], **changes), np.random.default_rng(0), std=0.3, dtype=np.float64)


# -- configs and presets ----------------------------------------------------------------------


@pytest.mark.parametrize("name", DecoderConfig.presets())
def test_every_preset_shrinks_to_a_valid_model_of_its_family(name: str) -> None:
    config = DecoderConfig.preset(name)
    assert DecoderConfig.source(name)  # every preset cites where its numbers come from
    small = tiny(name)
    assert (small.family, small.norm, small.feed_forward, small.positions, small.qk_norm, small.tie_embeddings) == (
        config.family,
        config.norm,
        config.feed_forward,
        config.positions,
        config.qk_norm,
        config.tie_embeddings,
    )
    assert (small.rope_theta, small.rope_scaling) == (config.rope_theta, config.rope_scaling)  # kept, as DESIGN says
    m = Decoder.init(small, np.random.default_rng(0))
    assert m.logits(PROMPT).shape == (len(PROMPT), small.vocab_size)
    assert sum(a.size for a in m.parameters().values()) == count_parameters(small)
    buffers = sum(a.size for a in m.buffers().values())  # DeepSeek-V3's router bias: loaded, not counted
    assert sum(np.prod(s) for s in hf_shapes(small).values()) == count_parameters(small) + buffers


def test_derived_fields_follow_replace() -> None:
    gpt2 = GPTConfig.preset("gpt2")
    assert (gpt2.n_kv_heads, gpt2.d_head, gpt2.d_ff) == (12, 64, 3072)
    small = dataclasses.replace(gpt2, d_model=64, n_heads=4)
    assert (small.n_kv_heads, small.d_head, small.d_ff) == (4, 16, 256)
    qwen = dataclasses.replace(DecoderConfig.preset("qwen3-8b"), d_model=64, n_heads=4, n_kv_heads=2)
    assert qwen.d_head == 128  # set by the preset, so kept
    assert dataclasses.replace(gpt2, d_model=64, n_heads=4, d_head=int(gpt2.d_head) // 4).d_head == 16


def test_gpt_config_is_gpt2_on_the_decoder_config() -> None:
    config = GPTConfig(vocab_size=50, n_positions=32, d_model=16, n_layers=2, n_heads=4)
    assert isinstance(config, DecoderConfig)
    assert (config.family, config.norm, config.positions, config.tie_embeddings) == (
        "gpt2",
        "layernorm",
        "learned",
        True,
    )
    assert GPTConfig.presets() == ["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"]
    assert set(GPTConfig.presets()) < set(DecoderConfig.presets())
    assert count_parameters(GPTConfig.preset("gpt2")) == count_parameters(DecoderConfig.preset("gpt2")) == 124_439_808
    assert isinstance(GPT.init(config, 0), Decoder)
    with pytest.raises(ValueError, match="config must describe GPT-2"):
        GPT.init(tiny("llama-3.1-8b"), 0)


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"n_heads": 5}, ValueError, r"n_heads must divide d_model = 32; got n_heads = 5"),
        ({"n_kv_heads": 3}, ValueError, r"n_kv_heads must divide n_heads = 4.*got n_kv_heads = 3"),
        ({"d_head": 15}, ValueError, r"d_head must be even with rotary positions.*got d_head = 15"),
        ({"sliding_window": 0}, ValueError, r"sliding_window must be an integer >= 1; got 0"),
        (
            {"norm": "batchnorm", "family": None},
            ValueError,
            r"norm must be one of 'layernorm', 'rmsnorm'; got 'batchnorm'",
        ),
        ({"feed_forward": "mlp", "activation": "swish", "family": None}, ValueError, r"activation must be one of"),
        ({"activation": "gelu"}, ValueError, r"activation must be one of 'silu'; got 'gelu'"),
        ({"positions": "sinusoidal", "family": None}, ValueError, r"positions must be one of"),
        ({"norm": "layernorm"}, ValueError, r"norm: the llama family has norm = 'rmsnorm'; got 'layernorm'"),
        ({"qk_norm": True}, ValueError, r"qk_norm: the llama family has qk_norm = False; got True"),
        ({"family": "gemma"}, ValueError, r"family must be one of"),
        ({"norm_eps": 0.0}, ValueError, r"norm_eps must be a positive number"),
        ({"rope_theta": -1.0}, ValueError, r"rope_theta must be a positive number"),
        ({"d_model": 0}, ValueError, r"d_model must be an integer >= 1; got 0"),
        ({"n_layers": 2.0}, TypeError, r"n_layers must be an integer"),
        ({"qk_norm": 1}, TypeError, r"qk_norm must be True or False"),
        ({"rope_scaling": {"factor": 8}}, TypeError, r"rope_scaling must be a RopeScaling or None"),
    ],
)
def test_a_config_that_cannot_exist_names_the_field(changes: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        tiny("llama-3.1-8b", **changes)


def test_more_impossible_configs() -> None:
    with pytest.raises(ValueError, match=r"n_kv_heads, d_head: GPT-2 has n_kv_heads = n_heads"):
        tiny("gpt2", n_kv_heads=2)
    with pytest.raises(ValueError, match="sliding_window: the qwen3 family"):
        tiny("qwen3-0.6b", sliding_window=8)
    with pytest.raises(ValueError, match="factor must be at least 1"):
        RopeScaling(factor=0.5, original_n_positions=8192)
    with pytest.raises(ValueError, match="high_freq_factor must be greater than low_freq_factor"):
        RopeScaling(factor=8.0, original_n_positions=8192, low_freq_factor=4.0, high_freq_factor=1.0)
    with pytest.raises(ValueError, match=r"name must be one of \[.*'qwen3-32b'.*\]; got 'llama-9'"):
        DecoderConfig.preset("llama-9")
    with pytest.raises(TypeError, match="overrides: DecoderConfig has no field 'width'"):
        DecoderConfig.preset("gpt2", width=3)
    with pytest.raises(ValueError, match="family: a config with family=None has no Hugging Face equivalent"):
        tiny("llama-3.1-8b", family=None).to_hf_config()


def test_a_free_combination_runs_without_a_family() -> None:
    config = tiny("gpt2", family=None, norm="rmsnorm", positions="rotary", n_kv_heads=2, qk_norm=True)
    m = Decoder.init(config, 0, dtype=np.float64)
    assert m.wpe is None and m.blocks[0].attn.q_norm is not None
    assert m.generate(PROMPT[:3], 5).shape == (8,)


def test_to_hf_config_says_what_hugging_face_needs() -> None:
    llama = DecoderConfig.preset("llama-3.1-8b").to_hf_config()
    assert llama["model_type"] == "llama" and llama["num_key_value_heads"] == 8 and llama["head_dim"] == 128
    assert llama["rope_parameters"] == {
        "rope_type": "llama3",
        "rope_theta": 500000.0,
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8192,
    }
    assert DecoderConfig.preset("mistral-7b").to_hf_config()["sliding_window"] == 4096
    assert GPTConfig.preset("gpt2").to_hf_config()["activation_function"] == "gelu_new"
    assert type(DecoderConfig.preset("gpt2").to_hf_config()["n_inner"]) is int  # plain values, for JSON and HF


# -- the forward pass ------------------------------------------------------------------------


def test_logits_follow_the_formula(model: Decoder) -> None:
    c = model.config
    ids = PROMPT
    n = len(ids)
    x = model.wte.weight[ids] + (0 if model.wpe is None else model.wpe.weight[:n])
    mask = decoder_mask(np.arange(n), np.arange(n), c.sliding_window)
    angles = np.arange(n)[:, None] * rotary_frequencies(c.d_head, c.rope_theta, c.rope_scaling)
    rope = None if c.positions == "learned" else (np.cos(angles), np.sin(angles))
    for block in model.blocks:
        h = x + block.attn(block.ln_1(x), mask=mask, rope=rope)
        x = h + block.mlp(block.ln_2(h))
    expected = model.ln_f(x) @ (model.wte.weight if c.tie_embeddings else model.lm_head).T
    np.testing.assert_allclose(model.logits(ids), expected, atol=1e-12)


def test_logits_are_causal(model: Decoder) -> None:
    base = model.logits(PROMPT)
    for t in range(len(PROMPT)):
        changed = PROMPT.copy()
        changed[t + 1 :] = (changed[t + 1 :] + 11) % model.config.vocab_size
        np.testing.assert_allclose(model.logits(changed)[: t + 1], base[: t + 1], atol=1e-12)


def test_a_batch_is_each_row_on_its_own(model: Decoder) -> None:
    batch = np.stack([PROMPT, PROMPT[::-1]])
    logits = model.logits(batch)
    assert logits.shape == (2, len(PROMPT), model.config.vocab_size)
    for row, tokens in zip(logits, batch, strict=True):
        np.testing.assert_allclose(row, model.logits(tokens), atol=1e-12)


def test_float32_in_float32_out() -> None:
    m = Decoder.init(tiny("qwen3-0.6b"), 0)
    assert m.wte.weight.dtype == np.float32 and m.logits(PROMPT).dtype == np.float32


def test_the_sliding_window_limits_what_a_query_sees() -> None:
    m = Decoder.init(tiny("mistral-7b", sliding_window=3), 0, std=0.3, dtype=np.float64)
    base = m.logits(PROMPT)
    changed = PROMPT.copy()
    changed[0] = (changed[0] + 7) % 64
    # Two layers of a window of 3: token 0 reaches position 4 at most (2 steps of 2).
    np.testing.assert_allclose(m.logits(changed)[5:], base[5:], atol=1e-12)
    assert not np.allclose(m.logits(changed)[4], base[4])
    assert decoder_mask(np.arange(4), np.arange(4), 2).tolist() == [
        [True, False, False, False],
        [True, True, False, False],
        [False, True, True, False],
        [False, False, True, True],
    ]


# -- the KV cache and generation ---------------------------------------------------------------


def test_the_cache_gives_the_full_pass(model: Decoder) -> None:
    full = model.hidden_states(PROMPT)
    caches = model.new_caches()
    parts = [model.hidden_states(PROMPT[:5], caches), model.hidden_states(PROMPT[5:7], caches)]
    parts += [model.hidden_states(PROMPT[t : t + 1], caches) for t in range(7, len(PROMPT))]
    np.testing.assert_allclose(np.concatenate(parts), full, atol=1e-12)
    assert all(c.length == len(PROMPT) for c in caches)
    assert caches[0].keys.shape[-3] == model.config.n_kv_heads  # only the key/value heads are kept


@pytest.mark.parametrize("kwargs", [{}, {"temperature": 1.0, "rng": 3}, {"temperature": 0.7, "top_k": 5, "rng": 9}])
def test_cache_and_no_cache_give_the_same_tokens(model: Decoder, kwargs: dict[str, object]) -> None:
    with_cache = model.generate(PROMPT[:4], 20, use_cache=True, **kwargs)  # type: ignore[arg-type]
    without = model.generate(PROMPT[:4], 20, use_cache=False, **kwargs)  # type: ignore[arg-type]
    np.testing.assert_array_equal(with_cache, without)
    for t in range(4, 24) if not kwargs else []:
        assert with_cache[t] == np.argmax(model.logits(with_cache[:t])[-1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("window", [None, 5])
def test_kv_cache_bytes_is_what_generation_allocates(dtype: type, window: int | None) -> None:
    config = tiny("mistral-7b", sliding_window=window)
    m = Decoder.init(config, 0, dtype=dtype)
    caches = m.new_caches()
    m.hidden_states(PROMPT[:3], caches)
    for t, token in enumerate(PROMPT[3:], start=4):
        m.hidden_states([token], caches)
        assert sum(c.nbytes for c in caches) == kv_cache_bytes(config, t, dtype), t
    kept = 10 if window is None else 5
    assert kv_cache_bytes(config, 10, np.float16) == 2 * 2 * 2 * 8 * kept * 2  # K and V, layers, kv heads, d_head


def test_the_gqa_cache_is_smaller_by_the_group_size() -> None:
    llama = DecoderConfig.preset("llama-3.1-8b")
    mha = dataclasses.replace(llama, n_kv_heads=llama.n_heads)
    assert kv_cache_bytes(mha, 8192) == 4 * kv_cache_bytes(llama, 8192)
    assert kv_cache_bytes(llama, 1, np.float16) == 2 * 32 * 8 * 128 * 2  # 128 KiB per token in bf16
    mistral = DecoderConfig.preset("mistral-7b")
    assert kv_cache_bytes(mistral, 100_000) == kv_cache_bytes(mistral, 4096)  # the rolling buffer


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: m.generate(PROMPT, 3, rng="seed"), TypeError, "rng must be a numpy.random.Generator"),
        (lambda m: m.generate(PROMPT, 3, rng=-1), ValueError, "rng must be a non-negative int seed"),
        (lambda m: m.generate(PROMPT, 40), ValueError, "makes 50, more than n_positions = 48"),
        (lambda m: m.generate(PROMPT[None], 3), ValueError, r"1-D prompt"),
        (lambda m: m.logits(np.zeros((1, 1, 3), dtype=int)), ValueError, r"\(n,\) or \(batch, n\)"),
        (lambda m: m.hidden_states(PROMPT, [KVCache()]), ValueError, "one KVCache per block"),
        (lambda m: m.hidden_states(PROMPT, [KVCache(window=2)] * 2), ValueError, "window None or sliding_window"),
        (lambda m: m.generate(PROMPT, 3, use_cache="yes"), TypeError, "use_cache must be True or False"),
    ],
)
def test_generation_rejects_bad_input(call, error: type, match: str) -> None:  # type: ignore[no-untyped-def]
    m = Decoder.init(tiny("llama-3.1-8b"), 0)
    with pytest.raises(error, match=match):
        call(m)


def test_a_model_with_inconsistent_parts_is_refused() -> None:
    m = Decoder.init(tiny("llama-3.1-8b"), 0)
    gpt = GPT.init(tiny("gpt2"), 0)
    with pytest.raises(TypeError, match=r"blocks.0.ln_1 must be a RMSNorm for this config; got LayerNorm"):
        Decoder(m.config, m.wte, None, gpt.blocks, m.ln_f, m.lm_head)
    with pytest.raises(ValueError, match=r"lm_head must be an array with tie_embeddings = False"):
        Decoder(m.config, m.wte, None, m.blocks, m.ln_f, None)
    with pytest.raises(ValueError, match=r"wpe must be None with positions = 'rotary'"):
        Decoder(m.config, m.wte, gpt.wpe, m.blocks, m.ln_f, m.lm_head)
    bigger = Decoder.init(dataclasses.replace(m.config, d_ff=64), 0)
    with pytest.raises(ValueError, match=r"blocks.0.mlp.w_gate must have shape \(32, 48\) for this config"):
        Decoder(m.config, m.wte, None, bigger.blocks, m.ln_f, m.lm_head)
    params = m.parameters()
    with pytest.raises(ValueError, match=r"params is missing 'blocks.1.mlp.w_down'"):
        Decoder.from_parameters(m.config, {k: v for k, v in params.items() if k != "blocks.1.mlp.w_down"})


# -- checkpoints --------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", [False, True])
def test_checkpoints_round_trip(model: Decoder, prefix: bool) -> None:
    state = model.to_hf_state_dict(prefix=prefix)
    assert ("lm_head.weight" in state) == (prefix or not model.config.tie_embeddings)
    loaded = Decoder.from_hf_state_dict(state, model.config)
    assert type(loaded) is Decoder
    for path, array in model.parameters().items():
        np.testing.assert_array_equal(loaded.parameters()[path], array, err_msg=path)


def test_hugging_face_names_and_layouts() -> None:
    llama = Decoder.init(tiny("llama-3.1-8b"), 0)
    state = llama.to_hf_state_dict(prefix=True)
    assert state["model.layers.0.self_attn.k_proj.weight"].shape == (2 * 8, 32)  # nn.Linear: (out, in)
    np.testing.assert_array_equal(state["model.layers.0.self_attn.k_proj.weight"], llama.blocks[0].attn.w_k.T)
    assert "lm_head.weight" in state and "model.norm.weight" in state
    qwen = Decoder.init(tiny("qwen3-0.6b"), 0).to_hf_state_dict()
    assert qwen["layers.1.self_attn.q_norm.weight"].shape == (16,)
    gpt2 = GPT.init(tiny("gpt2"), 0)
    w = gpt2.to_hf_state_dict()["h.0.attn.c_attn.weight"]  # Conv1D (in, out), [q | k | v]
    np.testing.assert_array_equal(w, np.concatenate([gpt2.blocks[0].attn.w_q, gpt2.blocks[0].attn.w_k,
                                                     gpt2.blocks[0].attn.w_v], axis=1))  # fmt: skip


def test_a_wrong_checkpoint_names_the_first_offending_tensor() -> None:
    llama = Decoder.init(tiny("llama-3.1-8b"), 0)
    state = llama.to_hf_state_dict(prefix=True)
    gpt2_state = GPT.init(tiny("gpt2"), 0).to_hf_state_dict()
    with pytest.raises(ValueError, match=r"state\['h.0.attn.c_attn.bias'\]: a llama model .* look like gpt2"):
        Decoder.from_hf_state_dict(gpt2_state, llama.config)
    missing = {k: v for k, v in state.items() if k != "model.layers.1.mlp.up_proj.weight"}
    with pytest.raises(ValueError, match=r"missing the tensor 'layers.1.mlp.up_proj.weight'"):
        Decoder.from_hf_state_dict(missing, llama.config)
    wrong = {**state, "model.layers.0.self_attn.v_proj.weight": np.zeros((32, 32), np.float32)}
    with pytest.raises(
        ValueError, match=r"v_proj.weight'\] must have shape \(16, 32\) for this config; got \(32, 32\)"
    ):
        Decoder.from_hf_state_dict(wrong, llama.config)
    tied = Decoder.init(tiny("llama-3.2-1b"), 0).to_hf_state_dict(prefix=True)
    tied["lm_head.weight"] = tied["lm_head.weight"] + 1
    with pytest.raises(ValueError, match=r"lm_head.weight'\] must equal the token embedding"):
        Decoder.from_hf_state_dict(tied, tiny("llama-3.2-1b"))
    with pytest.raises(ValueError, match="config: family=None has no Hugging Face checkpoint names"):
        Decoder.from_hf_state_dict(state, tiny("llama-3.1-8b", family=None))
    ignored = {**state, "model.layers.0.self_attn.rotary_emb.inv_freq": np.ones(4)}
    Decoder.from_hf_state_dict(ignored, llama.config)  # an old checkpoint's buffer, holding no weight


# -- the new components ---------------------------------------------------------------------------


def test_rms_norm_and_swiglu_follow_their_formulas() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 8))
    norm = RMSNorm(rng.standard_normal(8), eps=1e-6)
    np.testing.assert_allclose(norm(x), x / np.sqrt((x**2).mean(-1, keepdims=True) + 1e-6) * norm.gamma)
    ffn = SwiGLU.init(8, 12, rng, std=0.5)
    gate = x @ ffn.w_gate
    np.testing.assert_allclose(ffn(x), (gate / (1 + np.exp(-gate)) * (x @ ffn.w_up)) @ ffn.w_down)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow in exp
        np.testing.assert_array_equal(silu(np.array([-1e4, 0.0, 1e4])), [0.0, 0.0, 1e4])
    with pytest.raises(ValueError, match="eps must be a positive number"):
        RMSNorm(np.ones(3), eps=0.0)


def test_grouped_query_attention_shares_each_key_value_head() -> None:
    rng = np.random.default_rng(0)
    gqa = MultiHeadAttention.init(16, 4, rng, n_kv_heads=2, bias=False, std=0.5)
    # The same layer with every key/value head written out once per query head it serves.
    d_head = 4
    repeat = [j // 2 for j in range(4)]
    w_k = np.concatenate([gqa.w_k[:, j * d_head : (j + 1) * d_head] for j in repeat], axis=1)
    w_v = np.concatenate([gqa.w_v[:, j * d_head : (j + 1) * d_head] for j in repeat], axis=1)
    mha = MultiHeadAttention(gqa.w_q, w_k, w_v, gqa.w_o, None, None, None, None, n_heads=4)
    x = rng.standard_normal((6, 16))
    mask = decoder_mask(np.arange(6), np.arange(6))
    out, weights = gqa.attend(x, mask=mask)
    expected, expected_weights = mha.attend(x, mask=mask)
    np.testing.assert_allclose(out, expected, atol=1e-12)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-12)
    assert weights.shape == (4, 6, 6)
    cache = KVCache()
    gqa(x, mask=mask, cache=cache)
    assert cache.keys.shape == (2, 6, 4)  # the cache keeps the 2 key/value heads only


def test_rotary_layouts_are_a_permutation_of_each_other() -> None:
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((2, 5, 8))
    # Pair i is (x_2i, x_2i+1) interleaved and (x_i, x_i+4) in rotate-half: permute features.
    perm = np.concatenate([np.arange(0, 8, 2), np.arange(1, 8, 2)])
    np.testing.assert_allclose(
        rotary_embedding(q, layout="interleaved")[:, perm], rotary_embedding(q[:, perm], layout="half"), atol=1e-12
    )
    for layout in ("half", "interleaved"):
        rq, rk = rotary_embedding(q, layout=layout), rotary_embedding(k, layout=layout)
        shifted_q = rotary_embedding(q, np.arange(5) + 7, layout=layout)
        shifted_k = rotary_embedding(k, np.arange(5) + 7, layout=layout)
        np.testing.assert_allclose(rq @ rk.T, shifted_q @ shifted_k.T, atol=1e-12)  # only offsets matter
    with pytest.raises(ValueError, match="layout must be 'interleaved' or 'half'"):
        rotary_embedding(q, layout="split")


def test_llama3_scaling_slows_only_the_slow_rotations() -> None:
    plain = rotary_frequencies(128, 500000.0)
    scaled = rotary_frequencies(128, 500000.0, RopeScaling(factor=8.0, original_n_positions=8192))
    wavelength = 2 * np.pi / plain
    np.testing.assert_array_equal(scaled[wavelength < 8192 / 4], plain[wavelength < 8192 / 4])
    np.testing.assert_allclose(scaled[wavelength > 8192], plain[wavelength > 8192] / 8)
    middle = (wavelength >= 8192 / 4) & (wavelength <= 8192)
    assert middle.any() and np.all((scaled[middle] < plain[middle]) & (scaled[middle] > plain[middle] / 8))


def test_parameter_breakdown_adds_up() -> None:
    for name in DecoderConfig.presets():
        config = DecoderConfig.preset(name)
        parts = parameter_breakdown(config)
        assert sum(parts.values()) == count_parameters(config)
        assert (parts["output"] == 0) == config.tie_embeddings
        assert (parts["position_embedding"] == 0) == (config.positions == "rotary")
    assert list(parameter_shapes(GPTConfig.preset("gpt2")))[:3] == ["wte.weight", "wpe.weight", "blocks.0.ln_1.gamma"]


# -- small fixes found on the way (issue 15's cases in these modules) ------------------------------


def test_softmax_edges() -> None:
    assert softmax(3.0) == 1.0
    with pytest.raises(TypeError, match="axis must be an integer; got str 'a'"):
        softmax([1.0, 2.0], axis="a")  # type: ignore[arg-type]


def test_attention_needs_a_key_width() -> None:
    for attend in (scaled_dot_product_attention, tiled_attention):
        with pytest.raises(ValueError, match="d_k must be at least 1"):
            attend(np.zeros((3, 0)), np.zeros((5, 0)), np.ones((5, 2)))


def test_kv_cache_append_checks_what_it_is_given() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"k and v must hold the same tokens"):
        KVCache().append(rng.standard_normal((2, 2, 4)), rng.standard_normal((2, 3, 4)))
    with pytest.raises(ValueError, match=r"k must have at least 2 dimension"):
        KVCache().append(rng.standard_normal(4), rng.standard_normal(4))
    cache = KVCache()
    cache.append(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"k must match the cached shape"):
        cache.append(np.zeros((2, 1, 5)), np.zeros((2, 1, 5)))
    with pytest.raises(ValueError, match=r"k must match the cached shape"):
        cache.append(np.zeros((3, 1, 4)), np.zeros((3, 1, 4)))
    with pytest.raises(TypeError, match="cache must be a KVCache or None; got str"):
        MultiHeadAttention.init(8, 2)(np.zeros((2, 8)), cache="c")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("logits", "kwargs", "match"),
    [
        ([np.nan, 0.0], {}, r"logits must be finite \(or -inf\)"),
        ([np.nan, 0.0], {"temperature": 1.0}, r"logits must be finite \(or -inf\)"),
        ([np.inf, 0.0], {}, r"logits must be finite \(or -inf\)"),
        ([-np.inf, -np.inf], {"temperature": 1.0}, "every score is -inf"),
        ([0.0, 1.0], {"rng": "seed"}, "rng must be a numpy.random.Generator"),
    ],
)
def test_sampling_refuses_what_it_cannot_sample(logits: list[float], kwargs: dict, match: str) -> None:
    with pytest.raises((TypeError, ValueError), match=match):
        sample_next_token(logits, **kwargs)


def test_sampling_skips_masked_tokens() -> None:
    picks = {sample_next_token([-np.inf, 0.0, 0.0], temperature=1.0, rng=s) for s in range(30)}
    assert picks == {1, 2}
