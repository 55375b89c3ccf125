"""Mixture of experts and latent attention: routing, experts, absorption, configs, counts, caches.

NumPy only; the comparison with Hugging Face's Mixtral, Qwen3-MoE and DeepSeek-V3 is in
tests/reference/test_hf_moe.py (`make test-reference`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from llmarch import (
    Decoder,
    DecoderConfig,
    LatentAttention,
    LatentCache,
    MixtureOfExperts,
    RMSNorm,
    RopeScaling,
    Router,
    SwiGLU,
    count_parameters,
    decoder_mask,
    kv_cache_bytes,
    parameter_breakdown,
    rotary_frequencies,
    softmax,
)
from llmarch.checkpoint import from_hf_state_dict, hf_shapes, to_hf_state_dict
from llmarch.moe import (
    expert_load,
    load_balancing_loss,
    load_balancing_loss_backward,
    sigmoid,
    top_k,
    update_router_bias,
)
from llmarch.positional import apply_rotary, rotary_angles

SIZES = {"vocab_size": 64, "n_positions": 48, "d_model": 32, "n_layers": 3, "n_heads": 4}
TINY = {
    "mixtral": dataclasses.replace(
        DecoderConfig.preset("mixtral-8x7b"), **SIZES, n_kv_heads=2, d_ff=40, n_experts=4, sliding_window=6
    ),
    "qwen3_moe": dataclasses.replace(
        DecoderConfig.preset("qwen3-30b-a3b"),
        **SIZES,
        n_kv_heads=2,
        d_head=16,
        d_ff=40,
        d_ff_expert=24,
        n_experts=6,
        n_experts_per_token=2,
        first_k_dense=1,
    ),
    "deepseek_v3": dataclasses.replace(
        DecoderConfig.preset("deepseek-v3"),
        **SIZES,
        d_ff=40,
        d_ff_expert=16,
        n_experts=8,
        n_experts_per_token=3,
        n_expert_groups=4,
        n_groups_per_token=2,
        first_k_dense=1,
        q_lora_rank=24,
        kv_lora_rank=16,
        qk_rope_head_dim=8,
        qk_nope_head_dim=12,
        v_head_dim=10,
    ),
}
PROMPT = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8])
LATENT_FIELDS = ("q_lora_rank", "kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim")


def model(name: str, dtype: type = np.float64) -> Decoder:
    m = Decoder.init(TINY[name], np.random.default_rng(0), std=0.3, dtype=dtype)
    for bias in m.buffers().values():  # DeepSeek's router bias: non-zero, so that it matters
        bias[:] = np.random.default_rng(1).standard_normal(bias.shape) * 0.1
    return m


# -- the router ---------------------------------------------------------------------------------


def router(scoring: str = "softmax", **kwargs: object) -> Router:
    weight = np.random.default_rng(0).standard_normal((6, 8))
    return Router(weight, kwargs.pop("k", 2), scoring=scoring, **kwargs)  # type: ignore[arg-type]


def test_softmax_top_k_follows_the_formula() -> None:
    r, x = router(), np.random.default_rng(1).standard_normal((5, 6))
    routing = r(x)
    probabilities = softmax(x @ r.weight)
    np.testing.assert_allclose(routing.scores, probabilities)
    best = np.argsort(-probabilities, axis=-1)[:, :2]
    np.testing.assert_array_equal(routing.experts, best)
    chosen = np.take_along_axis(probabilities, best, axis=-1)
    np.testing.assert_allclose(routing.weights, chosen / chosen.sum(-1, keepdims=True))
    unnormalised = router(normalize=False)(x)
    np.testing.assert_allclose(unnormalised.weights, chosen)


def test_ties_go_to_the_lower_index_and_nothing_is_nan() -> None:
    assert top_k(np.zeros((1, 5)), 3).tolist() == [[0, 1, 2]]
    assert top_k(np.array([[1.0, 3.0, 3.0, -np.inf, 3.0]]), 4).tolist() == [[1, 2, 4, 0]]
    for scoring in ("softmax", "sigmoid"):
        r = Router(np.zeros((3, 6)), 2, scoring=scoring)  # every score equal
        routing = r(np.ones((4, 3)))
        assert routing.experts.tolist() == [[0, 1]] * 4
        np.testing.assert_allclose(routing.weights, 0.5)
    huge = Router(np.eye(4) * 1e4, 2, scoring="softmax")
    routing = huge(np.array([[1.0, 0.0, 0.0, 0.0], [-1.0, -1.0, -1.0, -1.0]]))
    assert np.isfinite(routing.weights).all() and np.isfinite(routing.scores).all()
    assert routing.experts[0, 0] == 0 and routing.weights[0, 0] == 1.0
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no overflow, no 0 / 0
        lost = Router(np.full((2, 4), -1e4), 2, scoring="sigmoid")(np.ones((3, 2), dtype=np.float32))
    assert lost.weights.dtype == np.float32 and (lost.weights == 0).all()
    assert sigmoid(np.array([-1e4, 0.0, 1e4])).tolist() == [0.0, 0.5, 1.0]


def test_the_bias_changes_the_choice_not_the_weights() -> None:
    x = np.random.default_rng(1).standard_normal((5, 6))
    plain = router("sigmoid", normalize=False)
    bias = np.zeros(8)
    bias[7] = 10.0  # expert 7 is always chosen...
    biased = router("sigmoid", normalize=False, bias=bias)(x)
    assert (biased.experts == 7).any(axis=-1).all()
    scores = sigmoid(x @ plain.weight)
    # ...with its own score as weight, the bias left out
    np.testing.assert_allclose(biased.weights, np.take_along_axis(scores, biased.experts, axis=-1))
    scaled = router("sigmoid", bias=bias, scale=2.5)(x)
    np.testing.assert_allclose(scaled.weights.sum(-1), 2.5)


def test_group_limited_routing_stays_in_the_best_groups() -> None:
    x = np.random.default_rng(2).standard_normal((50, 6))
    r = router("sigmoid", k=3, n_groups=4, n_groups_per_token=2)
    routing = r(x)
    scores = sigmoid(x @ r.weight).reshape(50, 4, 2)
    rating = np.sort(scores, axis=-1)[..., -2:].sum(-1)  # each group: its two best scores
    best_groups = np.argsort(-rating, axis=-1, kind="stable")[:, :2]
    for t in range(50):
        groups = set((routing.experts[t] // 2).tolist())
        assert groups <= set(best_groups[t].tolist())
        allowed = [2 * g + e for g in sorted(best_groups[t]) for e in range(2)]
        flat = scores.reshape(50, 8)[t]
        expected = sorted(allowed, key=lambda e: (-flat[e], e))[:3]
        assert routing.experts[t].tolist() == expected
    free = router("sigmoid", k=3)(x)  # without the limit some tokens choose elsewhere
    assert not np.array_equal(free.experts, routing.experts)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 9}, "n_experts_per_token must be at most n_experts = 8"),
        ({"n_groups": 3}, "n_groups must divide n_experts = 8"),
        ({"n_groups": 4, "n_groups_per_token": 5}, "n_groups_per_token must be at most"),
        ({"k": 5, "n_groups": 4, "n_groups_per_token": 2}, "n_experts_per_token must be at most the 4 experts"),
        ({"bias": np.zeros(3)}, r"bias must have shape \(n_experts,\) = \(8,\)"),
        ({"scoring": "relu"}, "scoring must be"),
    ],
)
def test_a_router_that_cannot_exist_names_the_field(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        router(**kwargs)


# -- the experts --------------------------------------------------------------------------------


def test_the_mixture_is_the_weighted_sum_of_its_chosen_experts() -> None:
    rng = np.random.default_rng(3)
    moe = MixtureOfExperts.init(8, 12, 5, 2, rng, n_shared_experts=2, std=0.5)
    x = rng.standard_normal((2, 7, 8))
    y, routing = moe.forward(x)
    assert y.shape == x.shape and routing.experts.shape == (2, 7, 2)
    expected = np.zeros_like(x)
    for b in range(2):
        for t in range(7):
            for e, g in zip(routing.experts[b, t], routing.weights[b, t], strict=True):
                expected[b, t] += g * moe.experts[e](x[b, t])
    assert moe.shared is not None and moe.shared.w_gate.shape == (8, 24)  # 2 shared experts of width 12, as one
    expected += moe.shared(x)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(moe(x), y)
    assert moe.last_routing is not None and np.array_equal(moe.last_routing.experts, routing.experts)


def test_one_expert_is_the_dense_network() -> None:
    rng = np.random.default_rng(4)
    dense = SwiGLU.init(8, 16, rng, std=0.5)
    moe = MixtureOfExperts(Router(rng.standard_normal((8, 1)), 1), [dense])
    x = rng.standard_normal((5, 8))
    np.testing.assert_array_equal(moe(x), dense(x))  # the same code: weight 1, one expert


def test_load_balancing_loss_and_its_gradient() -> None:
    rng = np.random.default_rng(5)
    n, e, k = 40, 6, 2
    logits = rng.standard_normal((n, e))
    scores = softmax(logits)
    experts = top_k(scores, k)
    load = expert_load(experts, e)
    assert load.sum() == n * k
    uniform = np.full((6, e), 1 / e)
    assert load_balancing_loss(uniform, np.array([[0, 1], [2, 3], [4, 5]] * 2)) == pytest.approx(k)
    grad = load_balancing_loss_backward(scores, experts)
    numeric = np.zeros_like(logits)
    for index in np.ndindex(*logits.shape):  # the choice is held fixed, as the count has no gradient
        step = np.zeros_like(logits)
        step[index] = 1e-6
        up = load_balancing_loss(softmax(logits + step), experts)
        down = load_balancing_loss(softmax(logits - step), experts)
        numeric[index] = (up - down) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_the_bias_update_moves_towards_balance() -> None:
    new = update_router_bias(np.zeros(4), np.array([10, 2, 4, 0]), rate=0.5)
    assert new.tolist() == [-0.5, 0.5, 0.0, 0.5]  # mean load 4: expert 2 has exactly its share
    assert update_router_bias(np.zeros(3), np.array([2, 2, 2])).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="load must have the bias's shape"):
        update_router_bias(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="experts must be integer expert ids"):
        expert_load(np.array([[0, 5]]), 4)


# -- latent attention ---------------------------------------------------------------------------


def latent(compressed: bool = True, dtype: type = np.float64) -> LatentAttention:
    rng = np.random.default_rng(6)
    d, h, r, rope, nope, v, rq = 24, 3, 10, 6, 8, 5, 12

    def w(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.4).astype(dtype)

    queries = (
        {"w_dq": w(d, rq), "q_latent_norm": RMSNorm(1 + w(rq), 1e-6), "w_uq": w(rq, h * (nope + rope))}
        if compressed
        else {"w_q": w(d, h * (nope + rope))}
    )
    return LatentAttention(
        **queries,
        w_dkv=w(d, r),
        w_kr=w(d, rope),
        kv_latent_norm=RMSNorm(1 + w(r), 1e-6),
        w_ukv=w(r, h * (nope + v)),
        w_o=w(h * v, d),
        n_heads=h,
        qk_rope_head_dim=rope,
    )


@pytest.mark.parametrize("compressed", [True, False])
def test_absorbed_and_expanded_latent_attention_agree(compressed: bool) -> None:
    attn = latent(compressed)
    x = np.random.default_rng(7).standard_normal((2, 9, 24))
    positions = np.arange(9)
    rope = rotary_angles(positions, rotary_frequencies(6, 10000.0), np.float64)
    mask = decoder_mask(positions, positions)
    absorbed, w_absorbed = attn.attend(x, mask, rope=rope, absorb=True)
    expanded, w_expanded = attn.attend(x, mask, rope=rope, absorb=False)
    np.testing.assert_allclose(absorbed, expanded, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w_absorbed, w_expanded, rtol=1e-12, atol=1e-14)
    assert w_absorbed.shape == (2, 3, 9, 9) and np.allclose(np.triu(w_absorbed[0, 0], 1), 0)


def test_latent_attention_follows_its_formula() -> None:
    attn = latent(True)
    x = np.random.default_rng(8).standard_normal((5, 24))
    positions = np.arange(5)
    cos, sin = rotary_angles(positions, rotary_frequencies(6, 10000.0), np.float64)
    c_q = attn.q_latent_norm(x @ attn.w_dq)  # type: ignore[misc, operator]
    q = (c_q @ attn.w_uq).reshape(5, 3, 14)
    c_kv = attn.kv_latent_norm(x @ attn.w_dkv)
    k_rope = apply_rotary(x @ attn.w_kr, cos, sin, "interleaved")
    heads = []
    for i in range(3):
        q_rope = apply_rotary(q[:, i, 8:], cos, sin, "interleaved")
        k_nope = c_kv @ attn.w_uk[:, i]
        scores = (q[:, i, :8] @ k_nope.T + q_rope @ k_rope.T) / math.sqrt(8 + 6)
        scores = np.where(decoder_mask(positions, positions), scores, -np.inf)
        heads.append(softmax(scores) @ (c_kv @ attn.w_uv[:, i]))
    expected = np.concatenate(heads, axis=-1) @ attn.w_o
    np.testing.assert_allclose(attn(x, decoder_mask(positions, positions), rope=(cos, sin)), expected, rtol=1e-12)


def test_the_latent_cache_holds_the_latent_not_keys_and_values() -> None:
    attn = latent(True, np.float32)
    x = np.random.default_rng(9).standard_normal((7, 24)).astype(np.float32)
    positions = np.arange(7)
    rope = rotary_angles(positions, rotary_frequencies(6, 10000.0), np.float32)
    full = attn(x, decoder_mask(positions, positions), rope=rope)
    for absorb in (True, False):
        cache, steps = LatentCache(), []
        for t in range(7):
            mask = decoder_mask(positions[t : t + 1], cache.key_positions(1))
            step_rope = (rope[0][t : t + 1], rope[1][t : t + 1])
            steps.append(attn.attend(x[t : t + 1], mask, cache=cache, rope=step_rope, absorb=absorb)[0])
        np.testing.assert_allclose(np.concatenate(steps), full, rtol=1e-5, atol=1e-6)
        assert cache.latent is not None and cache.rope_key is not None
        assert cache.latent.shape == (7, 10) and cache.rope_key.shape == (7, 6)  # d_c and d_R, no head axis
        assert cache.nbytes == 7 * (10 + 6) * 4 and cache.length == 7


def test_a_latent_attention_that_cannot_exist_is_refused() -> None:
    good = latent(True)
    with pytest.raises(ValueError, match="give w_dq, q_latent_norm and w_uq"):
        dataclasses.replace(good, w_q=np.zeros((24, 42)))
    with pytest.raises(ValueError, match=r"w_ukv must have shape"):
        dataclasses.replace(good, w_ukv=np.zeros((10, 7)))
    with pytest.raises(ValueError, match="kv_latent_norm must be an RMSNorm over kv_lora_rank = 10"):
        dataclasses.replace(good, kv_latent_norm=RMSNorm(np.ones(3)))
    with pytest.raises(TypeError, match="cache must be a LatentCache"):
        good.attend(np.zeros((2, 24)), cache=object())  # type: ignore[arg-type]


# -- configs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"n_experts_per_token": 5}, "n_experts_per_token must be at most n_experts = 4"),
        ({"n_experts": 0}, "n_experts must be an integer >= 1"),
        ({"n_experts_per_token": None}, "n_experts_per_token must be set with n_experts"),
        ({"n_experts": 6, "n_expert_groups": 4, "family": None}, "n_expert_groups must divide n_experts = 6"),
        ({"n_shared_experts": 1}, "n_shared_experts: the mixtral family has n_shared_experts = 0"),
        ({"router_scoring": "sigmoid"}, "router_scoring: the mixtral family"),
        ({"n_experts": None, "n_experts_per_token": None, "family": None, "d_ff_expert": 8}, "d_ff_expert: a model"),
    ],
)
def test_an_expert_config_that_cannot_exist_names_the_field(changes: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(TINY["mixtral"], **changes)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"kv_lora_rank": 33}, "kv_lora_rank must be at most d_model = 32"),
        ({"q_lora_rank": 40}, "q_lora_rank must be at most d_model = 32"),
        ({"qk_rope_head_dim": 7}, "qk_rope_head_dim must be even"),
        ({"v_head_dim": None}, "v_head_dim must be set with kv_lora_rank"),
        (dict.fromkeys(LATENT_FIELDS), "kv_lora_rank: the deepseek_v3 family has latent attention"),
        ({"n_kv_heads": 2}, "n_kv_heads: latent attention expands keys and values for every head"),
        ({"d_head": 16}, "d_head: with latent attention it is qk_nope_head_dim"),
        ({"n_expert_groups": 3}, "n_expert_groups must divide n_experts = 8"),
        ({"n_experts_per_token": 9}, "n_experts_per_token must be at most n_experts = 8"),
        ({"n_experts_per_token": 5}, "n_experts_per_token must be at most the 4 experts"),
        ({"n_shared_experts": 0}, "n_shared_experts: the deepseek_v3 family has at least 1"),
        ({"router_scoring": "softmax"}, "router_scoring: the deepseek_v3 family has"),
        ({"family": None, "sliding_window": 8}, "sliding_window must be None with latent attention"),
    ],
)
def test_a_latent_config_that_cannot_exist_names_the_field(changes: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(TINY["deepseek_v3"], **changes)


def test_dense_families_have_no_experts_and_shrinking_keeps_the_router() -> None:
    with pytest.raises(ValueError, match="n_experts: the llama family has n_experts = None"):
        dataclasses.replace(DecoderConfig.preset("llama-3.1-8b"), n_experts=4, n_experts_per_token=2)
    with pytest.raises(ValueError, match="qk_rope_head_dim: only latent attention has it"):
        dataclasses.replace(DecoderConfig.preset("llama-3.1-8b"), qk_rope_head_dim=8)
    small = TINY["deepseek_v3"]
    assert (small.router_scoring, small.router_bias, small.routed_scale) == ("sigmoid", True, 2.5)
    assert (
        small.d_head == 12 + 8
        and small.rope_dim == 8
        and small.rope_scaling == DecoderConfig.preset("deepseek-v3").rope_scaling
    )
    mixtral = DecoderConfig.preset("mixtral-8x7b")
    assert mixtral.d_ff_expert == 14336 and dataclasses.replace(mixtral, d_ff=64).d_ff_expert == 64  # derived


def test_yarn_slows_only_the_slow_rotations() -> None:
    yarn = DecoderConfig.preset("deepseek-v3").rope_scaling
    assert yarn is not None and yarn.kind == "yarn"
    plain, scaled = rotary_frequencies(64, 10000.0), rotary_frequencies(64, 10000.0, yarn)
    turns = 4096 * plain / (2 * math.pi)  # rotations over the original context
    np.testing.assert_allclose(scaled[turns > 32 * 1.2], plain[turns > 32 * 1.2])
    np.testing.assert_allclose(scaled[turns < 1 / 1.2], plain[turns < 1 / 1.2] / 40)
    assert yarn.attention_factor == 1.0  # mscale = mscale_all_dim
    assert yarn.softmax_factor == pytest.approx((0.1 * math.log(40) + 1) ** 2)
    assert RopeScaling(4.0, 32768, kind="yarn").attention_factor == pytest.approx(0.1 * math.log(4) + 1)
    with pytest.raises(ValueError, match="beta_fast must be greater than beta_slow"):
        RopeScaling(4.0, 32768, kind="yarn", beta_fast=1.0, beta_slow=2.0)


# -- counts and caches --------------------------------------------------------------------------


def test_counts_total_and_active() -> None:
    for name in ("mixtral-8x7b", "qwen3-30b-a3b", "deepseek-v3"):
        c = DecoderConfig.preset(name)
        assert c.n_experts is not None and c.n_experts_per_token is not None and c.d_ff_expert is not None
        expert = 3 * c.d_model * c.d_ff_expert
        unused = (c.n_layers - c.first_k_dense) * (c.n_experts - c.n_experts_per_token) * expert
        assert count_parameters(c) - count_parameters(c, active=True) == unused
        parts = parameter_breakdown(c, active=True)
        assert sum(parts.values()) == count_parameters(c, active=True)
    # The hand count of presets.md (Mixtral: embedding + head + 32 x (attention, router, 8 experts, norms) + norm)
    d, v, f = 4096, 32000, 14336
    layer = d * 32 * 128 + 2 * d * 8 * 128 + 32 * 128 * d + d * 8 + 2 * d
    assert count_parameters(DecoderConfig.preset("mixtral-8x7b")) == 2 * v * d + 32 * (layer + 8 * 3 * d * f) + d
    assert (
        count_parameters(DecoderConfig.preset("mixtral-8x7b"), active=True)
        == 2 * v * d + 32 * (layer + 2 * 3 * d * f) + d
    )
    llama = DecoderConfig.preset("llama-3.1-8b")
    assert count_parameters(llama, active=True) == count_parameters(llama)
    with pytest.raises(TypeError, match="active must be True or False"):
        count_parameters(llama, active="yes")  # type: ignore[arg-type]


def test_the_router_bias_is_loaded_but_not_counted() -> None:
    m = model("deepseek_v3")
    assert sorted(m.buffers()) == ["blocks.1.mlp.router.bias", "blocks.2.mlp.router.bias"]
    assert sum(a.size for a in m.parameters().values()) == count_parameters(m.config)
    state = m.to_hf_state_dict()
    assert "layers.1.mlp.gate.e_score_correction_bias" in state
    assert sum(a.size for a in state.values()) == count_parameters(m.config) + 2 * 8


def test_the_latent_cache_is_what_kv_cache_bytes_says() -> None:
    for name, dtype in (("deepseek_v3", np.float32), ("deepseek_v3", np.float64), ("qwen3_moe", np.float32)):
        m = model(name, dtype)
        caches = m.new_caches()
        m.hidden_states(PROMPT, caches)
        assert sum(cache.nbytes for cache in caches) == kv_cache_bytes(m.config, len(PROMPT), dtype)
    c = DecoderConfig.preset("deepseek-v3")
    assert kv_cache_bytes(c, 1, np.float16) == 61 * (512 + 64) * 2
    mha = dataclasses.replace(c, family=None, kv_lora_rank=None, q_lora_rank=None, qk_rope_head_dim=None,
                              qk_nope_head_dim=None, v_head_dim=None, d_head=128)  # fmt: skip
    assert kv_cache_bytes(mha, 1, np.float16) == 2 * 61 * 128 * 128 * 2


# -- the decoder --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TINY)
def test_a_mixture_of_experts_decoder_generates_the_same_with_and_without_the_cache(name: str) -> None:
    m = model(name)
    tokens = m.generate(PROMPT, 10)
    assert m.generate(PROMPT, 10, use_cache=False).tolist() == tokens.tolist()
    caches = m.new_caches()
    first = m.hidden_states(PROMPT[:5], caches)
    rest = m.hidden_states(PROMPT[5:], caches)
    np.testing.assert_allclose(np.concatenate([first, rest]), m.hidden_states(PROMPT), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", TINY)
def test_logits_are_causal_and_keep_the_dtype(name: str) -> None:
    m = model(name, np.float32)
    logits = m.logits(PROMPT)
    assert logits.dtype == np.float32 and np.isfinite(logits).all()
    changed = PROMPT.copy()
    changed[-1] = 0
    # Not bit for bit: an expert that gets one token more multiplies a matrix of another shape.
    np.testing.assert_allclose(m.logits(changed)[:-1], logits[:-1], rtol=1e-5, atol=1e-5)
    batch = m.logits(np.stack([PROMPT, changed]))
    np.testing.assert_allclose(batch[0], logits, rtol=1e-5, atol=1e-5)


def test_the_layers_record_where_the_tokens_went() -> None:
    m = model("qwen3_moe")
    m.logits(PROMPT)
    assert not isinstance(m.blocks[0].mlp, MixtureOfExperts)  # first_k_dense = 1
    for block in m.blocks[1:]:
        assert isinstance(block.mlp, MixtureOfExperts) and block.mlp.last_routing is not None
        assert expert_load(block.mlp.last_routing.experts, 6).sum() == len(PROMPT) * 2


@pytest.mark.parametrize("name", TINY)
def test_checkpoints_round_trip_stacked_and_per_expert(name: str) -> None:
    m = model(name)
    params = {**m.parameters(), **m.buffers()}
    stacked = to_hf_state_dict(params, m.config)
    released = to_hf_state_dict(params, m.config, released=True)
    assert set(hf_shapes(m.config)) == set(stacked)
    assert "layers.1.mlp.experts.gate_up_proj" in stacked
    expert_name = "block_sparse_moe.experts.3.w1" if name == "mixtral" else "mlp.experts.3.gate_proj"
    assert f"layers.1.{expert_name}.weight" in released and "layers.1.mlp.experts.gate_up_proj" not in released
    for state in (stacked, released, {"model." + k: v for k, v in released.items()}):
        loaded = from_hf_state_dict(state, m.config)
        assert loaded.keys() == params.keys()
        for path, array in params.items():
            np.testing.assert_array_equal(loaded[path], array, err_msg=path)
    gate_up = stacked["layers.1.mlp.experts.gate_up_proj"]
    f = int(m.config.d_ff_expert)  # type: ignore[arg-type]
    np.testing.assert_array_equal(gate_up[2, :f], params["blocks.1.mlp.experts.2.w_gate"].T)
    np.testing.assert_array_equal(gate_up[2, f:], params["blocks.1.mlp.experts.2.w_up"].T)
    mixed = {**stacked, next(k for k in released if ".experts.0." in k): np.zeros(1)}
    with pytest.raises(ValueError, match=r"state\['layers\.\d\.mlp\.experts\.(gate_up|down)_proj'\]: a .* no such"):
        from_hf_state_dict(mixed, m.config)
    missing = dict(stacked)
    del missing["layers.2.mlp.experts.down_proj"]
    with pytest.raises(ValueError, match=r"state is missing the tensor 'layers\.2\.mlp\.experts\.down_proj'"):
        from_hf_state_dict(missing, m.config)
