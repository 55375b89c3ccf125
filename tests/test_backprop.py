"""Backpropagation through the Decoder, checked by finite differences in float64 (no torch needed).

Every layer's ``backward`` and ``Decoder.loss_and_grads`` for tiny models of each family:
GPT-2 (LayerNorm, GELU MLP, learned positions, tied output), Llama (RMSNorm, SwiGLU, rotary,
grouped-query attention), Llama with biases and multi-query attention, Qwen3 (QK-norm, untied),
Mistral (sliding window shorter than the sequence), and family-free mixes (exact GELU,
QK-norm with LayerNorm, RMSNorm with an MLP). A gradient $g$ is checked along a random direction $u$ per tensor:

    (L(theta + eps u) - L(theta - eps u)) / (2 eps)  ==  <g, u>

which tests every entry of the tensor at once. The comparison with torch autograd of the
Hugging Face models is in tests/reference/test_backprop_torch.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from llmarch import (
    GPT,
    Decoder,
    DecoderConfig,
    FeedForward,
    GPTConfig,
    LayerNorm,
    MultiHeadAttention,
    RMSNorm,
    SwiGLU,
    Tape,
)
from llmarch.positional import rotary_angles, rotary_frequencies

EPS = 1e-5
RTOL = 1e-5  # central differences with eps 1e-5 in float64 are good to about 1e-8 here


def tiny(preset: str | None, **fields) -> DecoderConfig:
    sizes = {"vocab_size": 11, "n_positions": 8, "d_model": 8, "n_layers": 2}
    if preset is None:
        return DecoderConfig(**sizes, **fields)
    return dataclasses.replace(DecoderConfig.preset(preset), **sizes, **fields)


CONFIGS = {
    "gpt2": tiny("gpt2", n_heads=2),
    "llama (GQA, rotary)": tiny("llama-3.1-8b", n_heads=4, n_kv_heads=2, d_head=4, d_ff=12),
    "llama (tied, biases, MQA)": tiny(
        "llama-3.2-1b", n_heads=2, n_kv_heads=1, d_head=4, d_ff=12, attention_bias=True, mlp_bias=True
    ),
    "qwen3 (QK-norm, untied)": tiny("qwen3-8b", n_heads=4, n_kv_heads=2, d_head=6, d_ff=12, attention_bias=True),
    "mistral (window 3)": tiny("mistral-7b", n_heads=2, n_kv_heads=1, d_head=4, d_ff=12, sliding_window=3),
    "exact GELU, QK-norm, rotary": tiny(
        None, n_heads=2, norm="layernorm", feed_forward="mlp", activation="gelu", qk_norm=True, family=None
    ),
    # ReLU is checked on its own below: at the decoder's scale a difference step crosses its kink.
    "RMSNorm with an MLP, learned, untied": tiny(
        None, n_heads=2, norm="rmsnorm", feed_forward="mlp", positions="learned", family=None
    ),
}


def model(config: DecoderConfig, seed: int = 0) -> Decoder:
    """Random float64 weights large enough to matter, norms and biases moved away from 1 and 0."""
    rng = np.random.default_rng(seed)
    params = Decoder.init(config, rng, std=0.4, dtype=np.float64).parameters()
    return Decoder.from_parameters(config, {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in params.items()})


def state(m: Decoder) -> dict[str, np.ndarray]:
    return m.to_hf_state_dict() if m.config.family else m.parameters()


def rebuild(m: Decoder, params: dict[str, np.ndarray]) -> Decoder:
    if m.config.family:
        return Decoder.from_hf_state_dict(params, m.config)
    return Decoder.from_parameters(m.config, params)


def check_directional(loss_of, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], seed: int = 1) -> float:
    """The largest relative error of <g, u> against central differences, over every tensor."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for name, value in params.items():
        u = rng.standard_normal(value.shape)
        plus = loss_of({**params, name: value + EPS * u})
        minus = loss_of({**params, name: value - EPS * u})
        numeric, analytic = (plus - minus) / (2 * EPS), float(np.sum(grads[name] * u))
        error = abs(numeric - analytic) / max(abs(numeric), abs(analytic), 1e-10)
        assert error < RTOL, f"{name}: finite differences {numeric}, backward {analytic}"
        worst = max(worst, error)
    return worst


@pytest.mark.parametrize("name", CONFIGS)
def test_decoder_gradients_match_finite_differences(name):
    m = model(CONFIGS[name])
    rng = np.random.default_rng(2)
    tokens, targets = rng.integers(0, 11, (3, 7)), rng.integers(0, 11, (3, 7))
    loss, grads = m.loss_and_grads(tokens, targets)
    params = state(m)
    assert {k: g.shape for k, g in grads.items()} == {k: p.shape for k, p in params.items()}
    assert all(g.dtype == np.float64 for g in grads.values())
    np.testing.assert_allclose(loss, _mean_cross_entropy(m.logits(tokens), targets), rtol=1e-12)
    check_directional(lambda p: rebuild(m, p).loss_and_grads(tokens, targets)[0], params, grads)


def _mean_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> float:
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return -float(np.take_along_axis(log_p, targets[..., None], axis=-1).mean())


def test_one_label_per_sequence_is_a_loss_at_the_last_position():
    m = model(CONFIGS["llama (GQA, rotary)"])
    rng = np.random.default_rng(3)
    tokens, labels = rng.integers(0, 11, (4, 6)), rng.integers(0, 11, 4)
    loss, grads = m.loss_and_grads(tokens, labels)
    np.testing.assert_allclose(loss, _mean_cross_entropy(m.logits(tokens)[:, -1], labels), rtol=1e-12)
    check_directional(lambda p: rebuild(m, p).loss_and_grads(tokens, labels)[0], state(m), grads)


def test_a_single_sequence_and_a_batch_of_one_give_the_same_gradients():
    m = model(CONFIGS["gpt2"])
    tokens, targets = np.array([1, 5, 2, 9, 0]), np.array([5, 2, 9, 0, 3])
    loss, grads = m.loss_and_grads(tokens, targets)
    loss_b, grads_b = m.loss_and_grads(tokens[None], targets[None])
    assert loss == pytest.approx(loss_b, rel=1e-14)
    for k in grads:
        np.testing.assert_allclose(grads[k], grads_b[k], rtol=1e-12, atol=1e-15)


def test_the_tied_embedding_collects_the_output_layers_gradient_too():
    config = CONFIGS["gpt2"]
    m = model(config)
    untied_config = dataclasses.replace(config, tie_embeddings=False, family=None)
    untied = Decoder.from_parameters(untied_config, {**m.parameters(), "lm_head": m.wte.weight.copy()})
    tokens, targets = np.array([[1, 2, 3, 4]]), np.array([[2, 3, 4, 5]])
    _, tied = m.loss_and_grads(tokens, targets)
    _, apart = untied.loss_and_grads(tokens, targets)
    np.testing.assert_allclose(tied["wte.weight"], apart["wte.weight"] + apart["lm_head"], rtol=1e-12)


def test_gpt_has_the_same_backward_pass():
    config = GPTConfig(vocab_size=11, n_positions=8, d_model=8, n_layers=1, n_heads=2)
    gpt = GPT.init(config, 0, dtype=np.float64)
    loss, grads = gpt.loss_and_grads([1, 2, 3], [2, 3, 4])
    assert set(grads) == set(gpt.to_hf_state_dict()) and np.isfinite(loss)


def test_float32_weights_give_float32_gradients_close_to_float64():
    m64 = model(CONFIGS["qwen3 (QK-norm, untied)"])
    m32 = Decoder.from_hf_state_dict({k: v.astype(np.float32) for k, v in state(m64).items()}, m64.config)
    tokens = np.array([[1, 2, 3, 4, 5, 6]])
    loss64, g64 = m64.loss_and_grads(tokens, tokens)
    loss32, g32 = m32.loss_and_grads(tokens, tokens)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for k in g64:
        assert g32[k].dtype == np.float32
        np.testing.assert_allclose(g32[k], g64[k], rtol=1e-3, atol=1e-4 * np.abs(g64[k]).max())


# ------------------------------------------------------------------ each layer on its own


def layer_check(layer, x: np.ndarray, rebuild_layer, weights: dict[str, np.ndarray], **call) -> None:
    """Check ``layer.backward`` for the scalar loss sum(y * r): the gradient of x and of every weight."""
    rng = np.random.default_rng(5)
    with Tape() as tape:
        y = layer(x, **call)
    r = rng.standard_normal(y.shape)
    grad_x, grads = layer.backward(r, tape)
    assert set(grads) == set(weights)
    check_directional(lambda p: float(np.sum(rebuild_layer(p)(x, **call) * r)), weights, grads)
    check_directional(lambda p: float(np.sum(layer(p["x"], **call) * r)), {"x": x}, {"x": grad_x})


def test_layer_norm_and_rms_norm_backward():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6))
    g, b = rng.standard_normal(6), rng.standard_normal(6)
    layer_check(LayerNorm(g, b), x, lambda p: LayerNorm(p["gamma"], p["beta"]), {"gamma": g, "beta": b})
    layer_check(RMSNorm(g), x, lambda p: RMSNorm(p["gamma"]), {"gamma": g})


@pytest.mark.parametrize("activation", ["relu", "gelu", "gelu_tanh"])
def test_feed_forward_backward(activation):
    rng = np.random.default_rng(0)
    ff = FeedForward.init(6, 10, rng, activation=activation, std=0.5)
    ff = FeedForward(ff.w1, rng.standard_normal(10), ff.w2, rng.standard_normal(6), activation)
    weights = {"w1": ff.w1, "b1": ff.b1, "w2": ff.w2, "b2": ff.b2}
    layer_check(ff, rng.standard_normal((4, 6)), lambda p: FeedForward(**p, activation=activation), weights)


def test_swiglu_backward():
    rng = np.random.default_rng(0)
    sw = SwiGLU.init(6, 10, rng, bias=True, std=0.5)
    weights = {k: getattr(sw, k) + 0.1 * rng.standard_normal(getattr(sw, k).shape) for k in vars(sw)}
    sw = SwiGLU(**weights)
    layer_check(sw, rng.standard_normal((2, 4, 6)), lambda p: SwiGLU(**p), weights)


def test_attention_backward_with_gqa_rotary_qk_norm_and_a_window():
    rng = np.random.default_rng(0)
    mha = MultiHeadAttention.init(8, 4, rng, n_kv_heads=2, d_head=6, qk_norm=True, std=0.5)
    n = 7
    window = (np.arange(n)[:, None] - np.arange(n)[None, :] >= 0) & (np.arange(n)[:, None] - np.arange(n) < 3)
    rope = rotary_angles(np.arange(n), rotary_frequencies(6), np.float64)
    names = ["w_q", "w_k", "w_v", "w_o", "b_q", "b_k", "b_v", "b_o"]
    weights = {k: getattr(mha, k) + 0.1 * rng.standard_normal(getattr(mha, k).shape) for k in names}
    weights |= {"q_norm.gamma": 1 + 0.3 * rng.standard_normal(6), "k_norm.gamma": 1 + 0.3 * rng.standard_normal(6)}

    def build(p):
        qk = [RMSNorm(p[f"{x}_norm.gamma"], 1e-6) for x in "qk"]
        return MultiHeadAttention(*(p[k] for k in names), n_heads=4, n_kv_heads=2, q_norm=qk[0], k_norm=qk[1])

    layer_check(build(weights), rng.standard_normal((2, n, 8)), build, weights, mask=window, rope=rope)


# ------------------------------------------------------------------ bad input and the tape's rules


def test_bad_targets_and_too_long_batches_are_named():
    m = model(CONFIGS["gpt2"])
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 10\]"):
        m.loss_and_grads([1, 2, 3], [1, 2, 11])
    with pytest.raises(ValueError, match=r"tokens must number at most n_positions = 8"):
        m.loss_and_grads(np.zeros((2, 9), dtype=int), np.zeros((2, 9), dtype=int))
    with pytest.raises(ValueError, match=r"targets must have the shape of tokens \(2, 3\)"):
        m.loss_and_grads(np.zeros((2, 3), dtype=int), np.zeros(3, dtype=int))
    with pytest.raises(TypeError, match="targets must be an array of integer token ids"):
        m.loss_and_grads([1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="tokens must hold at least one"):
        m.loss_and_grads(np.zeros((0, 3), dtype=int), np.zeros((0, 3), dtype=int))


def test_backward_needs_a_recorded_call_of_the_same_layer():
    ln, other = LayerNorm.init(4), LayerNorm.init(4)
    x = np.ones((2, 4)) * np.arange(4)
    with Tape() as tape:
        ln(x)
    assert ln in tape and other not in tape and len(tape) == 1
    with pytest.raises(ValueError, match="tape holds no record of this LayerNorm"):
        other.backward(np.ones((2, 4)), tape)
    with pytest.raises(ValueError, match=r"grad_output must have the shape of the recorded output \(2, 4\)"):
        ln.backward(np.ones((4,)), tape)
    with pytest.raises(TypeError, match="tape must be the Tape"):
        ln.backward(np.ones((2, 4)), None)
    with pytest.raises(ValueError, match="called twice while one Tape records"), Tape():
        ln(x)
        ln(x)
    ln(x)  # outside a tape nothing is recorded
    assert len(tape) == 1


def test_cross_attention_has_no_backward_here():
    mha = MultiHeadAttention.init(4, 2, np.random.default_rng(0))
    with Tape() as tape:
        y = mha(np.ones((3, 4)), context=np.ones((5, 4)))
    with pytest.raises(ValueError, match="cross-attention"):
        mha.backward(np.ones_like(y), tape)


def test_experts_and_latent_attention_say_they_have_no_backward_pass():
    from test_moe import TINY as MOE

    for name in ("mixtral", "deepseek_v3"):
        m = Decoder.init(MOE[name], 0)
        with pytest.raises(ValueError, match="mixture of experts"):
            m.loss_and_grads([1, 2], [2, 3])
