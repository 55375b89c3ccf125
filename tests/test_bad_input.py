"""The numeric API's bad-input cases of issue 15, as reported: a clear error naming the argument, or a right result.

The cases in the lead's modules (attention, layers, sampling) were written as strict xfails
before his fixes landed; with them merged, every case here passes.
"""

import re

import numpy as np
import pytest

from llmarch import (
    GPT,
    LSTM,
    RNN,
    GPTConfig,
    KVCache,
    LayerNorm,
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    post_ln_residual,
    pre_ln_residual,
    sample_next_token,
    scaled_dot_product_attention,
    softmax,
    tiled_attention,
)


def rng():
    return np.random.default_rng(0)


def randn(*shape):
    return rng().standard_normal(shape)


def names(argument: str):
    """A ``match`` pattern: the message names ``argument`` as a word."""
    return rf"(?<![\w.]){re.escape(argument)}(?!\w)"


# ---------------------------------------------------------------- masks.py
def test_causal_mask_of_an_impossible_size_names_n():
    with pytest.raises(ValueError, match=names("n") + r" = 10{30} is too large"):
        causal_mask(10**30)


def test_padding_mask_accepts_an_empty_batch():
    mask = padding_mask([], 4)
    assert mask.shape == (0, 1, 4) and mask.dtype == bool


def test_padding_mask_of_ragged_lengths_names_lengths():
    with pytest.raises(TypeError, match=names("lengths")):
        padding_mask([[1], [1, 2]], 4)


# ---------------------------------------------------------------- residual.py
X = np.ones((2, 8))
LN = LayerNorm.init(8)


def test_a_sublayer_that_changes_the_width_is_named():
    with pytest.raises(ValueError, match=r"sublayer must return an array of x's shape \(2, 8\).*shape \(2, 4\)"):
        pre_ln_residual(X, lambda h: h[:, :4], LN)
    with pytest.raises(ValueError, match=r"sublayer must return an array of x's shape \(2, 8\).*shape \(2, 4\)"):
        post_ln_residual(X, lambda h: h[:, :4], LN)


@pytest.mark.parametrize("residual", [pre_ln_residual, post_ln_residual])
def test_a_sublayer_that_is_not_callable_is_named(residual):
    with pytest.raises(TypeError, match=r"sublayer must be a callable.*got str 'notcallable'"):
        residual(X, "notcallable", LN)


@pytest.mark.parametrize("residual", [pre_ln_residual, post_ln_residual])
def test_a_missing_norm_is_named(residual):
    with pytest.raises(TypeError, match=r"norm must be a callable.*got NoneType None"):
        residual(X, lambda h: h, None)


@pytest.mark.parametrize("residual", [pre_ln_residual, post_ln_residual])
def test_a_nan_in_the_stream_is_named(residual):
    x = X.copy()
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match=names("x") + " must be finite"):
        residual(x, lambda h: h, LN)


# ---------------------------------------------------------------- recurrent.py
def test_rnn_step_with_a_state_of_the_wrong_width_names_h():
    layer = RNN.init(3, 4, rng())
    with pytest.raises(ValueError, match=r"h must have shape \(\.\.\., d_hidden\) = \(2, 4\); got \(2, 5\)"):
        layer.step(np.ones((2, 3)), np.ones((2, 5)))


def test_rnn_step_with_an_input_of_the_wrong_width_names_x_t():
    with pytest.raises(ValueError, match=r"x_t: last dimension must be d_in = 3"):
        RNN.init(3, 4, rng()).step(np.ones((2, 5)), np.ones((2, 4)))


def test_lstm_step_with_a_one_tuple_state_names_state():
    layer = LSTM.init(3, 4, rng())
    with pytest.raises(TypeError, match=r"state must be a pair \(h, c\).*got tuple of length 1"):
        layer.step(np.ones((2, 3)), (np.ones((2, 4)),))


def test_lstm_step_with_a_cell_state_of_the_wrong_width_names_it():
    with pytest.raises(ValueError, match=re.escape("state[1] (c) must have shape")):
        LSTM.init(3, 4, rng()).step(np.ones((2, 3)), (np.ones((2, 4)), np.ones((2, 3))))


def test_the_loop_and_a_checked_step_agree():
    layer = LSTM.init(3, 4, rng())
    x = randn(5, 3)
    _, (h, c) = layer(x)
    state = (np.zeros(4), np.zeros(4))
    for t in range(5):
        state = layer.step(x[t], state)
    np.testing.assert_allclose(state[0], h)
    np.testing.assert_allclose(state[1], c)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: RNN.init(3, 4, "seed"), "rng"),
        (lambda: LSTM.init(3, 4, rng(), dtype=np.int32), "dtype"),
        (lambda: RNN.init(10**30, 4), "d_in"),
        (lambda: LSTM.init(3, 4, forget_bias="1"), "forget_bias"),
        (lambda: RNN(np.full((3, 4), np.nan), np.zeros((4, 4)), np.zeros(4)), "w_x"),
        (lambda: RNN.init(3, 4, rng())(np.full((2, 3), np.inf)), "x"),
    ],
)
def test_other_bad_recurrent_arguments_are_named(call, argument):
    with pytest.raises((TypeError, ValueError), match=names(argument)):
        call()


# ---------------------------------------------------------------- tiling.py
def test_tiled_attention_refuses_zero_width_keys_naming_d_k():
    with pytest.raises(ValueError, match=names("d_k") + " must be at least 1"):
        tiled_attention(np.zeros((3, 0)), np.zeros((5, 0)), randn(5, 2))


def test_tiled_attention_names_a_nan_that_would_reach_the_output():
    v = randn(4, 2)
    v[3, 0] = np.nan
    with pytest.raises(ValueError, match=names("v") + " holds NaN or infinity, so the output would not be finite"):
        tiled_attention(randn(4, 8), randn(4, 8), v)
    # in tiles skipped whole (by causal order above the diagonal, by the mask below), it is never read
    mask = np.ones((4, 4), dtype=bool)
    mask[2:, 2:] = False
    out = tiled_attention(randn(4, 8), randn(4, 8), v, causal=True, block_size=2, key_block_size=2, mask=mask)
    assert out.shape == (4, 2) and np.isfinite(out).all()


def test_tiled_attention_names_scores_that_overflow():
    with pytest.raises(ValueError, match="q and k: the scores overflow"):
        tiled_attention(randn(4, 8) * 1e200, randn(4, 8) * 1e200, randn(4, 2))


# ---------------------------------------------------------------- the lead's modules (attention, layers, sampling)
def test_kv_cache_refuses_keys_and_values_of_different_lengths():
    with pytest.raises(ValueError, match=names("v")):
        KVCache().append(randn(2, 2, 4), randn(2, 3, 4))


def test_kv_cache_refuses_one_dimensional_keys():
    with pytest.raises(ValueError, match=names("k")):
        KVCache().append(randn(4), randn(4))


@pytest.mark.parametrize("second", [(2, 1, 5), (3, 1, 4)], ids=["another width", "another batch"])
def test_a_second_kv_cache_append_of_another_shape_names_k(second):
    cache = KVCache()
    cache.append(randn(2, 2, 4), randn(2, 2, 4))
    with pytest.raises(ValueError, match=names("k")):
        cache.append(randn(*second), randn(*second))


def test_scaled_dot_product_attention_agrees_with_tiled_on_zero_width_keys():
    # tiled_attention refuses d_k = 0, naming it; the two promise to agree
    with pytest.raises(ValueError, match=names("d_k")):
        scaled_dot_product_attention(np.zeros((3, 0)), np.zeros((5, 0)), randn(5, 2))


def test_softmax_with_a_string_axis_names_axis():
    with pytest.raises(TypeError, match=names("axis")):
        softmax([1.0, 2.0], axis="a")


def test_softmax_of_a_scalar_is_one():
    assert softmax(3.0) == 1.0


def test_multi_head_attention_with_a_cache_that_is_not_one_names_cache():
    mha = MultiHeadAttention.init(8, 2, rng())
    with pytest.raises(TypeError, match=names("cache")):
        mha(randn(4, 8), cache="c")


def test_layer_norm_with_eps_zero_is_refused_or_finite():
    try:
        out = LayerNorm.init(8, eps=0.0)(np.ones((2, 8)))
    except ValueError as exc:
        assert re.search(names("eps"), str(exc))
    else:
        assert np.isfinite(out).all()


def test_sample_next_token_refuses_a_nan_logit():
    with pytest.raises(ValueError, match=names("logits")):
        sample_next_token([np.nan, 0.0])


def test_sample_next_token_refuses_nan_logits_with_a_temperature():
    with pytest.raises(ValueError, match=names("logits")):
        sample_next_token([np.nan, 0.0], temperature=1.0, rng=np.random.default_rng(0))


def test_sample_next_token_refuses_logits_that_allow_no_token():
    with pytest.raises(ValueError, match=names("logits")):
        sample_next_token([-np.inf, -np.inf], temperature=1.0, rng=np.random.default_rng(0))


TINY = GPTConfig(vocab_size=16, n_positions=16, d_model=8, n_layers=1, n_heads=2)


@pytest.mark.parametrize(("rng_value", "error"), [("seed", TypeError), (-1, ValueError)])
def test_generate_with_a_bad_rng_names_rng(rng_value, error):
    model = GPT.init(TINY, np.random.default_rng(0))
    with pytest.raises(error, match=names("rng")):
        model.generate(np.array([1, 2]), 2, temperature=1.0, rng=rng_value)
