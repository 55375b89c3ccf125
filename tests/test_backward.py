"""Backward passes against finite differences, in float64: RNN, LSTM, RecurrentLM, cross-entropy."""

from __future__ import annotations

import numpy as np
import pytest

from llmarch import LSTM, RNN
from llmarch.recurrent import RecurrentLM
from llmarch.training import cross_entropy


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to every entry of ``x`` (changed in place, restored)."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + eps
        up = f()
        x[index] = old - eps
        down = f()
        x[index] = old
        grad[index] = (up - down) / (2 * eps)
    return grad


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float = 1e-6) -> None:
    scale = max(np.abs(expected).max(), 1e-12)
    assert np.abs(actual - expected).max() / scale < rtol


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    rng = np.random.default_rng(0)
    logits, targets = rng.standard_normal((2, 3, 5)), rng.integers(0, 5, (2, 3))
    loss, grad = cross_entropy(logits, targets)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    expected_loss = -np.mean(np.log(np.take_along_axis(p, targets[..., None], -1)))
    np.testing.assert_allclose(loss, expected_loss)
    assert_close(grad, numerical_gradient(lambda: cross_entropy(logits, targets)[0], logits))


def test_cross_entropy_survives_huge_logits():
    loss, grad = cross_entropy(np.array([[1e4, 0.0, -1e4]]), np.array([1]))
    assert loss == pytest.approx(1e4)
    assert np.isfinite(grad).all()


@pytest.mark.parametrize("layer_cls", [RNN, LSTM])
def test_bptt_matches_finite_differences(layer_cls):
    rng = np.random.default_rng(1)
    layer = layer_cls.init(3, 4, rng)
    x = rng.standard_normal((2, 5, 3))
    states = {"h0": rng.standard_normal((2, 4))}
    if layer_cls is LSTM:
        states["c0"] = rng.standard_normal((2, 4))
    weights = rng.standard_normal((2, 5, 4))  # L = sum(weights * outputs): dL/dh_t = weights_t

    def loss() -> float:
        outputs, _ = layer(x, **states)
        return float((weights * outputs).sum())

    outputs, _ = layer(x, **states)
    grad_x, grads = layer.backward(x, outputs, weights, **states)
    assert_close(grad_x, numerical_gradient(loss, x))
    for name in ("w_x", "w_h", "b"):
        assert grads[name].shape == getattr(layer, name).shape
        assert_close(grads[name], numerical_gradient(loss, getattr(layer, name)))


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
@pytest.mark.parametrize("per_position", [True, False], ids=["next-token", "classification"])
def test_recurrent_lm_loss_and_grads_match_finite_differences(kind, per_position):
    rng = np.random.default_rng(2)
    model = RecurrentLM.init(kind, 7, 3, 4, rng, dtype=np.float64)
    tokens = rng.integers(0, 7, (2, 6))
    targets = rng.integers(0, 7, (2, 6) if per_position else (2,))
    _, grads = model.loss_and_grads(tokens, targets)
    params = model.parameters()
    assert set(grads) == set(params)
    for name, value in params.items():
        assert grads[name].shape == value.shape and grads[name].dtype == value.dtype
        assert_close(grads[name], numerical_gradient(lambda: model.loss_and_grads(tokens, targets)[0], value))


def test_recurrent_lm_loss_is_the_cross_entropy_of_its_logits():
    rng = np.random.default_rng(3)
    model = RecurrentLM.init("lstm", 5, 3, 4, rng, dtype=np.float64)
    tokens, targets = rng.integers(0, 5, 8), rng.integers(0, 5, 8)
    loss, _ = model.loss_and_grads(tokens, targets)
    assert loss == pytest.approx(cross_entropy(model.logits(tokens), targets)[0])
    loss_last, _ = model.loss_and_grads(tokens, targets[-1])
    assert loss_last == pytest.approx(cross_entropy(model.logits(tokens)[-1], targets[-1:])[0])


def test_recurrent_lm_round_trips_its_parameters():
    model = RecurrentLM.init("rnn", 5, 3, 4, np.random.default_rng(4))
    again = RecurrentLM.from_parameters(model.parameters())
    assert isinstance(again.rnn, RNN)
    assert isinstance(RecurrentLM.from_parameters(RecurrentLM.init("lstm", 5, 3, 4).parameters()).rnn, LSTM)
    tokens = np.array([1, 2, 3])
    np.testing.assert_array_equal(model.logits(tokens), again.logits(tokens))


@pytest.mark.parametrize(
    ("tokens", "targets", "message"),
    [
        ([1, 2, 3], [1, 2, 9], r"targets must lie in \[0, 4\]"),
        ([1, 2, 3], [1, 2], r"targets must have the shape of tokens \(3,\)"),
        ([1.0, 2.0], [1, 2], "tokens must be an array of integer token ids"),
        ([1, -1], [1, 2], r"tokens must lie in \[0, 4\]"),
    ],
)
def test_recurrent_lm_rejects_bad_input(tokens, targets, message):
    model = RecurrentLM.init("rnn", 5, 3, 4, np.random.default_rng(5))
    with pytest.raises((ValueError, TypeError), match=message):
        model.loss_and_grads(np.array(tokens), np.array(targets))


def test_recurrent_lm_names_a_mismatched_parameter():
    params = RecurrentLM.init("rnn", 5, 3, 4, np.random.default_rng(6)).parameters()
    with pytest.raises(KeyError, match=r"missing \['w_out'\]"):
        RecurrentLM.from_parameters({k: v for k, v in params.items() if k != "w_out"})
    with pytest.raises(ValueError, match=r"w_out must have shape \(d_hidden, vocab_size\) = \(4, 5\)"):
        RecurrentLM.from_parameters(params | {"w_out": np.zeros((5, 4))})
