r"""The pieces of training: the loss, the optimizer, the learning-rate schedule, clipping, batches.

Training repeats one step: take a batch, compute the loss $L$ and its gradient
$g = \nabla_\theta L$ for every parameter (the backward passes beside each forward), and move
the parameters a little against the gradient. Everything here works on a flat ``dict``
name -> array of parameters and one of gradients with the same keys, so any model that
offers ``loss_and_grads(tokens, targets) -> (loss, grads)`` trains with it.

- [`cross_entropy`][llmarch.training.cross_entropy]: the loss of next-token prediction and
  its gradient with respect to the logits.
- [`AdamW`][llmarch.training.AdamW]: Adam with decoupled weight decay (Loshchilov and Hutter
  2019), step for step what ``torch.optim.AdamW`` computes.
- [`learning_rate`][llmarch.training.learning_rate]: linear warmup, then cosine decay.
- [`clip_grad_norm`][llmarch.training.clip_grad_norm]: rescale all gradients together when
  their global norm is too large (as ``torch.nn.utils.clip_grad_norm_``).
- [`BatchSampler`][llmarch.training.BatchSampler]: random windows of a token stream; batch
  $s$ depends only on the seed and $s$, so a resumed run sees exactly the batches it would
  have seen.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import check_size
from llmarch.embedding import check_token_ids

__all__ = [
    "AdamW",
    "AdamWState",
    "BatchSampler",
    "clip_grad_norm",
    "cross_entropy",
    "global_norm",
    "learning_rate",
]

Array = NDArray[np.floating[Any]]
Params = Mapping[str, Array]


def cross_entropy(logits: Array, targets: NDArray[np.integer[Any]]) -> tuple[float, Array]:
    r"""Mean softmax cross-entropy over every row, and its gradient with respect to ``logits``.

    With $p = \mathrm{softmax}(z)$ row by row and $N$ rows,

    $$L = -\frac{1}{N} \sum_{r=1}^{N} \log p_{r, y_r}, \qquad
      \frac{\partial L}{\partial z_{r j}} = \frac{1}{N}\left(p_{r j} - [\,j = y_r\,]\right)$$

    Parameters
    ----------
    logits : numpy.ndarray, shape (..., V)
        Scores; every leading position is one prediction.
    targets : numpy.ndarray of int, shape (...)
        The right class of each prediction, in ``[0, V)``.

    Returns
    -------
    loss : float
        $L$, in nats.
    grad_logits : numpy.ndarray, shape (..., V)
        $\partial L / \partial z$, in the dtype of ``logits``.
    """
    z = logits.reshape(-1, logits.shape[-1])
    y = targets.reshape(-1)
    shifted = z - z.max(axis=-1, keepdims=True)  # log-softmax without overflow
    log_norm = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    log_p = shifted - log_norm
    rows = np.arange(len(y))
    loss = -float(log_p[rows, y].mean())
    grad = np.exp(log_p)
    grad[rows, y] -= 1.0
    grad /= len(y)
    return loss, grad.reshape(logits.shape).astype(logits.dtype, copy=False)


def global_norm(grads: Params) -> float:
    r"""$\lVert g \rVert = \sqrt{\sum_k \lVert g_k \rVert_2^2}$ over every array of ``grads``, in float64."""
    return math.sqrt(sum(float(np.vdot(g, g).real) for g in grads.values()))


def clip_grad_norm(grads: Params, max_norm: float) -> tuple[dict[str, Array], float]:
    r"""Scale every gradient by one factor so that their global norm is at most ``max_norm``.

    $$g_k \leftarrow g_k \cdot \min\left(1, \frac{c}{\lVert g \rVert + 10^{-6}}\right)$$

    with $c$ = ``max_norm`` and $\lVert g \rVert$ the [`global_norm`][llmarch.training.global_norm]
    (the formula of ``torch.nn.utils.clip_grad_norm_``). One factor for all keeps the
    direction of the step; only its length is capped.

    Returns
    -------
    grads : dict
        The clipped gradients (new arrays; the inputs are not changed).
    norm : float
        $\lVert g \rVert$ before clipping (worth logging: spikes show instability).
    """
    norm = global_norm(grads)
    scale = min(1.0, max_norm / (norm + 1e-6))
    if scale == 1.0:
        return dict(grads), norm
    return {k: (g * g.dtype.type(scale)) for k, g in grads.items()}, norm


def learning_rate(step: int, *, peak: float, warmup: int, total: int, minimum: float = 0.0) -> float:
    r"""Linear warmup for ``warmup`` steps, then cosine decay from ``peak`` to ``minimum`` at step ``total``.

    For step $s$ (counted from 0), $W$ = ``warmup``, $T$ = ``total``:

    $$\eta_s = \begin{cases}
      \eta_\text{peak}\, \dfrac{s + 1}{W} & s < W \\[4pt]
      \eta_\text{min} + \tfrac{1}{2}\left(1 + \cos\left(\pi\, \dfrac{s - W}{T - W}\right)\right)
        (\eta_\text{peak} - \eta_\text{min}) & W \le s < T \\[4pt]
      \eta_\text{min} & s \ge T
    \end{cases}$$

    Warmup keeps the first steps small while Adam's moment estimates are still poor; the
    cosine lets the last steps settle into a minimum.
    """
    if step < warmup:
        return peak * (step + 1) / warmup
    if step >= total:
        return minimum
    progress = (step - warmup) / max(1, total - warmup)
    return minimum + 0.5 * (1.0 + math.cos(math.pi * progress)) * (peak - minimum)


@dataclass(frozen=True)
class AdamWState:
    """What AdamW carries from one step to the next: the step count and both moment estimates.

    Attributes
    ----------
    step : int
        Number of updates done so far ($t$ of the last update).
    m, v : dict of numpy.ndarray
        First and second moment estimates, keyed and shaped as the parameters.
    """

    step: int
    m: dict[str, Array]
    v: dict[str, Array]


def decays(value: Array) -> bool:
    """nanoGPT's rule: matrices (embeddings and linear weights) get weight decay; biases and norm gains do not."""
    return value.ndim >= 2


@dataclass(frozen=True)
class AdamW:
    r"""Adam with decoupled weight decay: one update per call of [`update`][llmarch.training.AdamW.update].

    For each parameter $\theta$ with gradient $g$, at update $t = 1, 2, \dots$ and learning rate $\eta$:

    $$\begin{aligned}
    \theta &\leftarrow \theta\,(1 - \eta \lambda) && \text{decoupled weight decay (matrices only)} \\
    m &\leftarrow \beta_1 m + (1 - \beta_1)\, g && \text{mean of recent gradients} \\
    v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 && \text{mean of their squares} \\
    \theta &\leftarrow \theta - \frac{\eta}{1 - \beta_1^t}\;
      \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^t} + \epsilon} && \text{bias-corrected step}
    \end{aligned}$$

    The order and the placement of $\epsilon$ are those of ``torch.optim.AdamW``, so both give
    the same numbers. "Decoupled": the decay shrinks $\theta$ directly instead of being added
    to $g$, where Adam's division by $\sqrt{v}$ would rescale it differently for every weight.
    Parameters with fewer than 2 dimensions (biases, LayerNorm gains) are not decayed, as in
    nanoGPT.

    Attributes
    ----------
    betas : tuple of float
        $(\beta_1, \beta_2)$.
    eps : float
        $\epsilon$.
    weight_decay : float
        $\lambda$.
    """

    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.01

    def init(self, params: Params) -> AdamWState:
        """The state before the first update: $t = 0$, $m = v = 0$."""
        zeros = {k: np.zeros_like(p) for k, p in params.items()}
        return AdamWState(0, zeros, {k: z.copy() for k, z in zeros.items()})

    def update(
        self, params: Params, grads: Params, state: AdamWState, lr: float
    ) -> tuple[dict[str, Array], AdamWState]:
        """One step at learning rate ``lr``; returns new parameters and state (the inputs are not changed).

        Returning new arrays instead of updating in place means an interruption in the middle
        of a step (Ctrl-C) leaves the previous step's parameters and state whole.
        """
        if set(grads) != set(params):
            missing, extra = sorted(set(params) - set(grads)), sorted(set(grads) - set(params))
            raise KeyError(f"grads must have the keys of params; missing {missing}, unexpected {extra}")
        beta1, beta2 = self.betas
        t = state.step + 1
        correction1, correction2_sqrt = 1.0 - beta1**t, math.sqrt(1.0 - beta2**t)
        new_params, m, v = {}, {}, {}
        for k, p in params.items():
            g = grads[k]
            if self.weight_decay and decays(p):
                p = p * (1.0 - lr * self.weight_decay)
            m[k] = state.m[k] + (g - state.m[k]) * (1.0 - beta1)  # torch's lerp
            v[k] = state.v[k] * beta2 + (1.0 - beta2) * g * g
            denom = np.sqrt(v[k]) / correction2_sqrt + self.eps
            new_params[k] = (p - (lr / correction1) * m[k] / denom).astype(p.dtype, copy=False)
        return new_params, AdamWState(t, m, v)


@dataclass(frozen=True)
class BatchSampler:
    r"""Random windows of a token stream, the same for the same seed and step.

    Batch $s$ holds ``batch_size`` windows of ``block_size`` tokens starting at offsets drawn
    uniformly from ``np.random.default_rng([seed, s])``; the targets are the same windows
    shifted by one (each token's next token), as nanoGPT's ``get_batch``. Because a batch is a
    function of ``(seed, s)`` alone, the sampler has no state to save: a run resumed at step
    $s$ draws exactly the batches an uninterrupted run would.

    Attributes
    ----------
    data : numpy.ndarray of int, shape (N,)
        The token ids.
    batch_size, block_size : int
        Windows per batch and tokens per window.
    seed : int
        Seed of the batch order.
    """

    data: NDArray[np.int64]
    batch_size: int
    block_size: int
    seed: int = 0

    def __post_init__(self) -> None:
        data = check_token_ids("data", self.data, np.iinfo(np.int64).max)
        if data.ndim != 1:
            raise ValueError(f"data must be a 1-D array of token ids (N,); got shape {data.shape}")
        check_size("batch_size", self.batch_size, minimum=1)
        check_size("block_size", self.block_size, minimum=1)
        if len(data) < self.block_size + 1:
            raise ValueError(f"data must hold at least block_size + 1 = {self.block_size + 1} tokens; got {len(data)}")
        object.__setattr__(self, "data", data)

    def batch(self, step: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(tokens, targets)`` of batch ``step``, each ``(batch_size, block_size)``."""
        rng = np.random.default_rng([self.seed, step])
        starts = rng.integers(0, len(self.data) - self.block_size, size=self.batch_size)
        index = starts[:, None] + np.arange(self.block_size)
        return self.data[index], self.data[index + 1]


def as_targets(targets: ArrayLike, vocab_size: int) -> NDArray[np.int64]:
    """``targets`` as int64 ids in ``[0, vocab_size)``, or a clear error naming them."""
    return check_token_ids("targets", targets, vocab_size)
