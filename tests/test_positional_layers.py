"""Sinusoidal positions, layer norm and the feed-forward network against values worked by hand."""

import math

import numpy as np
import pytest

from llmarch import FeedForward, LayerNorm, gelu, gelu_tanh, relu, sinusoidal_positional_encoding


def test_position_zero_is_sin0_cos0():
    pe = sinusoidal_positional_encoding(1, 6)
    np.testing.assert_allclose(pe[0], [0, 1, 0, 1, 0, 1])


def test_known_positions_by_hand():
    pe = sinusoidal_positional_encoding(3, 4)
    # Feature pair 0 turns at rate 1, pair 1 at rate 10000^(-2/4) = 0.01.
    np.testing.assert_allclose(pe[1], [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)])
    np.testing.assert_allclose(pe[2], [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)])


def test_odd_d_model_ends_with_a_sine():
    pe = sinusoidal_positional_encoding(5, 5)
    assert pe.shape == (5, 5)
    np.testing.assert_allclose(pe[:, 4], np.sin(np.arange(5) * 10000 ** (-4 / 5)))


def test_relative_shift_is_a_rotation():
    # Each (sin, cos) pair of PE(p + k) is PE(p)'s pair rotated by the angle k * rate.
    pe = sinusoidal_positional_encoding(20, 8)
    k = 3
    for i, rate in enumerate(10000 ** (-np.arange(0, 8, 2) / 8)):
        c, s = math.cos(k * rate), math.sin(k * rate)
        sin_p, cos_p = pe[:-k, 2 * i], pe[:-k, 2 * i + 1]
        np.testing.assert_allclose(pe[k:, 2 * i], sin_p * c + cos_p * s, atol=1e-12)
        np.testing.assert_allclose(pe[k:, 2 * i + 1], cos_p * c - sin_p * s, atol=1e-12)


@pytest.mark.parametrize(("args", "error"), [((-1, 4), ValueError), ((3, -2), ValueError), ((3.5, 4), TypeError)])
def test_positional_bad_sizes(args, error):
    with pytest.raises(error, match=r"n_positions|d_model"):
        sinusoidal_positional_encoding(*args)


def test_layer_norm_by_hand():
    ln = LayerNorm.init(4, eps=1e-300)
    out = ln(np.array([1.0, 2.0, 3.0, 4.0]))
    # mean 2.5, variance 1.25
    np.testing.assert_allclose(out, (np.array([1, 2, 3, 4]) - 2.5) / math.sqrt(1.25))
    ln2 = LayerNorm(np.array([2.0, 2.0]), np.array([1.0, -1.0]))
    np.testing.assert_allclose(
        ln2(np.array([[0.0, 2.0]])), [[2 * -1 / math.sqrt(1 + 1e-5) + 1, 2 / math.sqrt(1 + 1e-5) - 1]]
    )


def test_layer_norm_keeps_float32():
    x = np.ones((2, 3), dtype=np.float32)
    assert LayerNorm.init(3)(x).dtype == np.float32


def test_activations_by_hand():
    np.testing.assert_array_equal(relu([-1.0, 0.0, 2.0]), [0, 0, 2])
    np.testing.assert_allclose(gelu([0.0, 1.0]), [0.0, 0.5 * (1 + math.erf(1 / math.sqrt(2)))])
    xs = np.linspace(-4, 4, 81)
    np.testing.assert_allclose(gelu_tanh(xs), gelu(xs), atol=1e-3)  # the tanh form approximates


def test_feed_forward_by_hand():
    ff = FeedForward(np.array([[1.0, -1.0]]), np.array([0.0, 0.0]), np.array([[2.0], [3.0]]), np.array([0.5]))
    # x = 2: hidden relu([2, -2]) = [2, 0]; output 2*2 + 0*3 + 0.5
    np.testing.assert_allclose(ff(np.array([[2.0]])), [[4.5]])


def test_feed_forward_errors():
    with pytest.raises(ValueError, match=r"activation must be one of"):
        FeedForward.init(4, 8, activation="swish")
    ff = FeedForward.init(4, 8, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"x: last dimension must be d_model = 4; got shape \(2, 5\)"):
        ff(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"w2 must have shape"):
        FeedForward(np.ones((4, 8)), np.zeros(8), np.ones((4, 8)), np.zeros(4))
