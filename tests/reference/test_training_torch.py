"""Backpropagation and the optimizer against torch: RNN and LSTM autograd, AdamW, clipping, in float64.

Run by `make test-reference`. The weights are mapped between layouts: torch keeps
``weight_ih_l0`` as ``(gates * H, d_in)`` for ``x @ W.T`` and two biases, llmarch keeps
``w_x`` as ``(d_in, gates * H)`` for ``x @ w_x`` and one bias (their sum). The gate order
(input, forget, cell, output) is the same.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llmarch import LSTM, RNN
from llmarch.recurrent import RecurrentLM
from llmarch.training import AdamW, clip_grad_norm, learning_rate

RTOL = 1e-6


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    scale = max(float(np.abs(expected).max()), 1e-300)
    assert float(np.abs(actual - expected).max()) / scale < RTOL


def torch_layer(layer: RNN | LSTM) -> torch.nn.RNN | torch.nn.LSTM:
    """The torch layer with the same weights (bias_ih carries the bias, bias_hh is zero)."""
    cls = torch.nn.LSTM if isinstance(layer, LSTM) else torch.nn.RNN
    module = cls(layer.d_in, layer.d_hidden, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(layer.w_x.T))
        module.weight_hh_l0.copy_(torch.from_numpy(layer.w_h.T))
        module.bias_ih_l0.copy_(torch.from_numpy(layer.b))
        module.bias_hh_l0.zero_()
    return module


@pytest.mark.parametrize("layer_cls", [RNN, LSTM])
def test_bptt_matches_torch_autograd(layer_cls):
    rng = np.random.default_rng(0)
    layer = layer_cls.init(5, 7, rng)
    x = rng.standard_normal((3, 40, 5))
    weights = rng.standard_normal((3, 40, 7))  # L = sum(weights * outputs)
    outputs, _ = layer(x)
    grad_x, grads = layer.backward(x, outputs, weights)

    module = torch_layer(layer)
    tx = torch.from_numpy(x).requires_grad_(True)
    t_outputs, _ = module(tx)
    (t_outputs * torch.from_numpy(weights)).sum().backward()
    assert_close(outputs, t_outputs.detach().numpy())
    assert_close(grad_x, tx.grad.numpy())
    assert_close(grads["w_x"], module.weight_ih_l0.grad.numpy().T)
    assert_close(grads["w_h"], module.weight_hh_l0.grad.numpy().T)
    assert_close(grads["b"], module.bias_ih_l0.grad.numpy())
    assert_close(grads["b"], module.bias_hh_l0.grad.numpy())


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
@pytest.mark.parametrize("per_position", [True, False], ids=["next-token", "classification"])
def test_recurrent_lm_loss_and_grads_match_torch(kind, per_position):
    rng = np.random.default_rng(1)
    model = RecurrentLM.init(kind, 11, 6, 8, rng, dtype=np.float64)
    tokens = rng.integers(0, 11, (4, 30))
    targets = rng.integers(0, 11, (4, 30) if per_position else (4,))
    loss, grads = model.loss_and_grads(tokens, targets)

    embedding = torch.nn.Embedding(11, 6, dtype=torch.float64)
    head = torch.nn.Linear(8, 11, dtype=torch.float64)
    module = torch_layer(model.rnn)
    with torch.no_grad():
        embedding.weight.copy_(torch.from_numpy(model.wte))
        head.weight.copy_(torch.from_numpy(model.w_out.T))
        head.bias.copy_(torch.from_numpy(model.b_out))
    hidden, _ = module(embedding(torch.from_numpy(tokens)))
    logits = head(hidden if per_position else hidden[:, -1])
    t_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 11), torch.from_numpy(targets).reshape(-1))
    t_loss.backward()

    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    assert_close(grads["wte"], embedding.weight.grad.numpy())
    assert_close(grads["w_out"], head.weight.grad.numpy().T)
    assert_close(grads["b_out"], head.bias.grad.numpy())
    assert_close(grads["rnn.w_x"], module.weight_ih_l0.grad.numpy().T)
    assert_close(grads["rnn.w_h"], module.weight_hh_l0.grad.numpy().T)
    assert_close(grads["rnn.b"], module.bias_ih_l0.grad.numpy())


def test_adamw_matches_torch_step_for_step():
    rng = np.random.default_rng(2)
    params = {"w": rng.standard_normal((4, 3)), "b": rng.standard_normal(3), "e": rng.standard_normal((5, 4))}
    t_params = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    # nanoGPT's groups: matrices decay, vectors do not (what llmarch.training.AdamW does).
    groups = [
        {"params": [p for p in t_params.values() if p.ndim >= 2], "weight_decay": 0.1},
        {"params": [p for p in t_params.values() if p.ndim < 2], "weight_decay": 0.0},
    ]
    t_opt = torch.optim.AdamW(groups, lr=1.0, betas=(0.9, 0.95), eps=1e-8)
    opt = AdamW(betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    state = opt.init(params)
    for step in range(5):
        lr = learning_rate(step, peak=3e-2, warmup=2, total=5, minimum=3e-3)
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        params, state = opt.update(params, grads, state, lr)
        for group in t_opt.param_groups:
            group["lr"] = lr
        for k, p in t_params.items():
            p.grad = torch.from_numpy(grads[k])
        t_opt.step()
        for k in params:
            np.testing.assert_allclose(params[k], t_params[k].detach().numpy(), rtol=1e-12, atol=1e-15)


def test_clipping_matches_torch():
    rng = np.random.default_rng(3)
    grads = {"a": rng.standard_normal((3, 4)) * 5, "b": rng.standard_normal(6)}
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
    for t, g in zip(tensors, grads.values(), strict=True):
        t.grad = torch.from_numpy(g.copy())
    t_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm=1.0)
    clipped, norm = clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(t_norm.item(), rel=1e-12)
    for t, g in zip(tensors, clipped.values(), strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)
