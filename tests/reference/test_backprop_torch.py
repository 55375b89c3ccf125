"""Decoder.loss_and_grads against torch autograd of the Hugging Face models, family by family, in float64.

Run by `make test-reference`. The tiny random models of tests/reference/test_hf_decoders.py
(GPT-2, Llama 3.1 with GQA, Llama 3.2 tied, Llama with biases and MQA, Mistral with a window
shorter than the sequence, Qwen3 with QK-norm, tied and untied) are loaded into
`llmarch.Decoder` with the same weights; the mean next-token cross-entropy of a batch is
differentiated by torch autograd on one side and by llmarch's backward passes on the other.
Every gradient must agree within 1e-6 (relative to its largest entry). Our gradients carry
the Hugging Face names, so each is compared with the ``.grad`` of the parameter of that name;
a tied embedding's gradient includes the output layer's in both. The inputs avoid token 0:
the reference configs make it the padding token, whose embedding row torch leaves without
a gradient (``padding_idx``), a convention of torch's layer, not part of the model.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from test_hf_decoders import TINY, hf_model, numpy_state, relative_error, rotary_in_float64

from llmarch import Decoder

RTOL = 1e-6
BATCH, LENGTH = 3, 12


def rms_norms_in_float64(model: torch.nn.Module) -> None:
    """Make the reference's RMSNorms compute in float64 too.

    Hugging Face's Llama, Mistral and Qwen3 RMSNorm cast their input to float32 (``.to(torch.float32)``)
    whatever the model's dtype, which moves float64 gradients by about 1e-6; the formula is unchanged.
    """
    for module in model.modules():
        if type(module).__name__.endswith("RMSNorm"):

            def forward(x: torch.Tensor, norm: torch.nn.Module = module) -> torch.Tensor:
                variance = x.pow(2).mean(-1, keepdim=True)
                return norm.weight * (x * torch.rsqrt(variance + norm.variance_epsilon))

            module.forward = forward


def float64_pair(name: str) -> tuple[torch.nn.Module, Decoder]:
    config = TINY[name]
    reference = copy.deepcopy(hf_model(name)).double()
    if config.positions == "rotary":
        rotary_in_float64(reference, config)
    rms_norms_in_float64(reference)
    ours = Decoder.from_hf_state_dict(numpy_state(reference), config)
    return reference, ours


def torch_loss_and_grads(
    reference: torch.nn.Module, tokens: np.ndarray, targets: np.ndarray
) -> tuple[float, dict[str, np.ndarray]]:
    reference.zero_grad(set_to_none=True)
    logits = reference(torch.from_numpy(tokens)).logits
    if targets.shape != tokens.shape:
        logits = logits[:, -1]
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), torch.from_numpy(targets).reshape(-1)
    )
    loss.backward()
    return loss.item(), {k: p.grad.numpy() for k, p in reference.named_parameters()}


def compare(name: str, tokens: np.ndarray, targets: np.ndarray) -> float:
    reference, ours = float64_pair(name)
    loss, grads = ours.loss_and_grads(tokens, targets)
    expected_loss, expected = torch_loss_and_grads(reference, tokens, targets)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    prefix = "transformer." if ours.config.family == "gpt2" else "model."
    assert {k if k == "lm_head.weight" else prefix + k for k in grads} == set(expected)
    worst = 0.0
    for key, grad in grads.items():
        reference_grad = expected[key if key == "lm_head.weight" else prefix + key]
        assert grad.shape == reference_grad.shape, key
        error = relative_error(grad, reference_grad)
        assert error < RTOL, f"{name}: {key}: relative error {error:.2e}"
        worst = max(worst, error)
    return worst


@pytest.mark.parametrize("name", TINY)
def test_every_gradient_matches_torch_autograd(name: str) -> None:
    rng = np.random.default_rng(0)
    vocab = TINY[name].vocab_size
    tokens, targets = rng.integers(1, vocab, (BATCH, LENGTH)), rng.integers(0, vocab, (BATCH, LENGTH))
    compare(name, tokens, targets)


@pytest.mark.parametrize("name", ["gpt2", "qwen3"])
def test_a_label_per_sequence_matches_torch_autograd(name: str) -> None:
    rng = np.random.default_rng(1)
    vocab = TINY[name].vocab_size
    compare(name, rng.integers(1, vocab, (BATCH, LENGTH)), rng.integers(0, vocab, BATCH))
