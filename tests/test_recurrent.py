"""RNN and LSTM against their equations written out, batching, dtypes, causality and error messages."""

import numpy as np
import pytest

from llmarch import LSTM, RNN


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_rnn_matches_the_equation_step_by_step():
    rng = np.random.default_rng(0)
    rnn = RNN.init(3, 4, rng)
    x = rng.standard_normal((5, 3))
    h = np.zeros(4)
    expected = []
    for t in range(5):
        h = np.tanh(x[t] @ rnn.w_x + h @ rnn.w_h + rnn.b)
        expected.append(h)
    outputs, h_n = rnn(x)
    np.testing.assert_allclose(outputs, expected)
    np.testing.assert_allclose(h_n, expected[-1])


def test_lstm_matches_the_equations_step_by_step():
    rng = np.random.default_rng(1)
    lstm = LSTM.init(3, 2, rng, forget_bias=0.5)
    x = rng.standard_normal((6, 3))
    h, c = rng.standard_normal(2), rng.standard_normal(2)
    outputs, (h_n, c_n) = lstm(x, h0=h, c0=c)
    for t in range(6):
        z = x[t] @ lstm.w_x + h @ lstm.w_h + lstm.b
        i, f, g, o = sigmoid(z[0:2]), sigmoid(z[2:4]), np.tanh(z[4:6]), sigmoid(z[6:8])
        c = f * c + i * g
        h = o * np.tanh(c)
        np.testing.assert_allclose(outputs[t], h)
    np.testing.assert_allclose(h_n, h)
    np.testing.assert_allclose(c_n, c)


def test_forget_bias_is_added_to_the_forget_gate_only():
    a = LSTM.init(2, 3, np.random.default_rng(2), forget_bias=0.0)
    b = LSTM.init(2, 3, np.random.default_rng(2), forget_bias=2.5)
    np.testing.assert_allclose(b.b - a.b, [0, 0, 0, 2.5, 2.5, 2.5, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(a.w_x, b.w_x)


def test_init_is_pytorch_uniform():
    rnn = RNN.init(50, 100, np.random.default_rng(3))
    for w in (rnn.w_x, rnn.w_h, rnn.b):
        assert np.abs(w).max() <= 0.1


@pytest.mark.parametrize("layer_cls", [RNN, LSTM])
def test_batch_dimensions_are_independent_sequences(layer_cls):
    rng = np.random.default_rng(4)
    layer = layer_cls.init(3, 4, rng)
    x = rng.standard_normal((2, 3, 7, 3))
    outputs, _ = layer(x)
    assert outputs.shape == (2, 3, 7, 4)
    for a in range(2):
        for b in range(3):
            np.testing.assert_allclose(outputs[a, b], layer(x[a, b])[0])


@pytest.mark.parametrize("layer_cls", [RNN, LSTM])
def test_output_at_t_does_not_see_the_future(layer_cls):
    rng = np.random.default_rng(5)
    layer = layer_cls.init(2, 3, rng)
    x = rng.standard_normal((8, 2))
    changed = x.copy()
    changed[5:] += 10.0
    np.testing.assert_array_equal(layer(x)[0][:5], layer(changed)[0][:5])
    assert not np.allclose(layer(x)[0][5:], layer(changed)[0][5:])


@pytest.mark.parametrize("layer_cls", [RNN, LSTM])
def test_float32_stays_float32(layer_cls):
    layer = layer_cls.init(2, 3, np.random.default_rng(6), dtype=np.float32)
    outputs, _ = layer(np.ones((4, 2), dtype=np.float32))
    assert outputs.dtype == np.float32


def test_empty_sequence_returns_the_initial_state():
    rnn = RNN.init(2, 3, np.random.default_rng(7))
    outputs, h = rnn(np.zeros((0, 2)), h0=np.ones(3))
    assert outputs.shape == (0, 3)
    np.testing.assert_array_equal(h, np.ones(3))


def test_saturated_gates_stay_finite():
    lstm = LSTM.init(1, 1, np.random.default_rng(8))
    outputs, (_, c) = lstm(np.full((3, 1), 1e4))
    assert np.all(np.isfinite(outputs)) and np.isfinite(c).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: RNN.init(0, 3), "d_in must be an integer >= 1"),
        (lambda: RNN.init(2, 2.5), "d_hidden must be an integer"),
        (lambda: RNN(np.zeros((2, 3)), np.zeros((3, 4)), np.zeros(3)), "w_h must have shape"),
        (lambda: RNN(np.zeros((2, 4)), np.zeros((3, 3)), np.zeros(3)), "w_x must have shape"),
        (lambda: RNN(np.zeros((2, 3)), np.zeros((3, 3)), np.zeros(4)), "b must have shape"),
        (lambda: LSTM(np.zeros((2, 3)), np.zeros((3, 3)), np.zeros(3)), r"w_h must have shape \(d_hidden, 4"),
        (lambda: LSTM.init(2, 3, forget_bias=np.inf), "forget_bias must be a finite number"),
        (lambda: RNN.init(2, 3)(np.zeros((4, 5))), r"x: last dimension must be d_in = 2"),
        (lambda: RNN.init(2, 3)(np.zeros(2)), r"x must have at least 2 dimension"),
        (lambda: RNN.init(2, 3)(np.zeros((4, 2)), h0=np.zeros(4)), r"h0 must have shape"),
        (
            lambda: LSTM.init(2, 3)(np.zeros((5, 4, 2)), c0=np.zeros(3)),
            r"c0 must have shape \(\.\.\., d_hidden\) = \(5, 3\)",
        ),
    ],
)
def test_bad_input_names_the_argument(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match="x must be a real numeric array"):
        RNN.init(2, 3)(np.array([["a", "b"]]))
