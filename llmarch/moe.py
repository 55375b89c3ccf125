r"""Mixture of experts: many feed-forward networks, each token sent through a few of them.

A dense block runs every token through one feed-forward network. A mixture-of-experts
layer (Shazeer et al. 2017; Switch Transformer, Fedus et al. 2021; Mixtral, Jiang et al.
2024) holds $E$ of them, the *experts*, and a small *router* that picks $k$ for each token:

$$y = \sum_{e \in \mathrm{TopK}(s(x), k)} g_e(x)\, \mathrm{FFN}_e(x)
\;+\; \sum_{j=1}^{S} \mathrm{FFN}^\text{shared}_j(x)$$

The parameters grow with $E$; the work per token grows only with $k$ (plus the $S$ shared
experts DeepSeek adds, which every token uses). Mixtral 8x7B holds 46.7B parameters and
uses 12.9B per token. The experts are the same gated network as a dense layer
([`SwiGLU`][llmarch.SwiGLU]), so the dense and the expert paths share one piece of code.

The router's choices decide how evenly the experts are used. An expert that gets most
tokens is a bottleneck and the others learn little; training therefore adds a
load-balancing term ([`load_balancing_loss`][llmarch.moe.load_balancing_loss]) or, as
DeepSeek-V3 does, nudges a bias that only the choice sees
([`update_router_bias`][llmarch.moe.update_router_bias]).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, as_generator, check_memory, check_number, check_size, random_normal
from llmarch.attention import _softmax
from llmarch.layers import SwiGLU

__all__ = [
    "MixtureOfExperts",
    "Router",
    "Routing",
    "expert_load",
    "load_balancing_loss",
    "load_balancing_loss_backward",
    "sigmoid",
    "top_k",
    "update_router_bias",
]

Array = NDArray[np.floating[Any]]

# Added to the sum of the chosen scores before dividing by it, as DeepSeek-V3 does: a token
# whose chosen sigmoid scores all underflow to 0 gets weights 0, never 0 / 0.
_TINY = 1e-20


def sigmoid(x: Array) -> Array:
    r"""The logistic function $\sigma(x) = 1 / (1 + e^{-x})$, without overflow for any finite $x$.

    $e^{-|x|}$ is at most 1, so logits of $\pm 10^4$ give 1 and 0 exactly, with no warning.
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def top_k(scores: Array, k: int) -> NDArray[np.int64]:
    """Indices of the ``k`` largest scores along the last axis, largest first.

    **Tie rule**: among equal scores the lower index comes first (a stable sort), so
    all-equal scores choose experts ``0, 1, ..., k - 1``. Scores of $-\\infty$ (excluded
    experts) come last.
    """
    return np.argsort(-scores, axis=-1, kind="stable")[..., :k]


@dataclass(frozen=True)
class Routing:
    """Where a batch of tokens went: what [`Router`][llmarch.Router] returns.

    Attributes
    ----------
    experts : numpy.ndarray of int64, shape (..., k)
        The experts each token goes to, best first.
    weights : numpy.ndarray, shape (..., k)
        The weight $g_e(x)$ of each of them in the sum.
    scores : numpy.ndarray, shape (..., n_experts)
        The router's scores of every expert, $s(x)$: softmax probabilities or sigmoid
        scores, before any bias (what a load-balancing loss reads).
    """

    experts: NDArray[np.int64]
    weights: Array
    scores: Array


@dataclass
class Router:
    r"""The router of a mixture-of-experts layer: which $k$ experts each token goes to, and with what weight.

    A linear layer scores the experts, $z = x W_r$, and a rule turns the scores into a choice:

    - **softmax top-k** (Mixtral, Qwen3-MoE): $s = \mathrm{softmax}(z)$; the $k$ highest win,
      and with ``normalize`` their weights are renormalised to sum to 1,
      $g_e = s_e / \sum_{e' \in \mathrm{TopK}} s_{e'}$.
    - **sigmoid, bias-adjusted, group-limited top-k** (DeepSeek-V3): $s = \sigma(z)$, each
      expert scored on its own. The *choice* uses $s + b$, where the bias $b$ is adjusted
      during training to even out the load ([`update_router_bias`][llmarch.moe.update_router_bias]);
      the *weights* use $s$ alone. With groups, the experts form ``n_groups`` equal groups,
      each group is rated by the sum of its two best $s_e + b_e$, and only the experts of the
      ``n_groups_per_token`` best groups may be chosen (DeepSeek-V3 places each group on its
      own devices, so a token's traffic is bounded). Then
      $g_e = \text{scale} \cdot s_e / \big(\sum_{e' \in \mathrm{TopK}} s_{e'} + 10^{-20}\big)$
      with ``normalize``, $\text{scale} \cdot s_e$ without.

    Ties are broken towards the lower index, for experts and for groups
    ([`top_k`][llmarch.moe.top_k]): all-equal scores choose experts $0, \dots, k - 1$.
    Routing never produces NaN: the softmax subtracts its maximum, the sigmoid never
    overflows, and the sum it divides by is positive (a softmax's $k$ best sum to at least
    $k / E$; a sigmoid's gets $10^{-20}$ added).

    Attributes
    ----------
    weight : numpy.ndarray, shape (d_model, n_experts)
        $W_r$ (Hugging Face's ``gate.weight``, transposed).
    n_experts_per_token : int
        $k$.
    scoring : {"softmax", "sigmoid"}
    normalize : bool
        Renormalise the $k$ weights (``norm_topk_prob``).
    bias : numpy.ndarray or None, shape (n_experts,)
        $b$, added for the choice only (``e_score_correction_bias``; a buffer, not a parameter).
    n_groups, n_groups_per_token : int
        Group-limited routing; 1 and 1 is none.
    scale : float
        Multiplies the weights (``routed_scaling_factor``; DeepSeek-V3: 2.5).
    """

    weight: Array
    n_experts_per_token: int
    scoring: Literal["softmax", "sigmoid"] = "softmax"
    normalize: bool = True
    bias: Array | None = None
    n_groups: int = 1
    n_groups_per_token: int = 1
    scale: float = 1.0

    def __post_init__(self) -> None:
        self.weight = as_float_array("weight", self.weight, ndim=2, layout="(d_model, n_experts)")
        if 0 in self.weight.shape:
            raise ValueError(
                f"weight must have a row per feature and a column per expert; got shape {self.weight.shape}"
            )
        n_experts = self.n_experts
        self.n_experts_per_token = check_size("n_experts_per_token", self.n_experts_per_token, minimum=1)
        if self.n_experts_per_token > n_experts:
            raise ValueError(
                f"n_experts_per_token must be at most n_experts = {n_experts}; got {self.n_experts_per_token}"
            )
        if self.scoring not in ("softmax", "sigmoid"):
            raise ValueError(f"scoring must be 'softmax' or 'sigmoid'; got {self.scoring!r}")
        if not isinstance(self.normalize, bool):
            raise TypeError(f"normalize must be True or False; got {self.normalize!r}")
        self.scale = check_number("scale", self.scale, positive=True)
        if self.bias is not None:
            self.bias = as_float_array("bias", self.bias, ndim=1, layout="(n_experts,)")
            if self.bias.shape != (n_experts,):
                raise ValueError(f"bias must have shape (n_experts,) = ({n_experts},); got {self.bias.shape}")
        self.n_groups = check_size("n_groups", self.n_groups, minimum=1)
        self.n_groups_per_token = check_size("n_groups_per_token", self.n_groups_per_token, minimum=1)
        if n_experts % self.n_groups:
            raise ValueError(f"n_groups must divide n_experts = {n_experts}; got {self.n_groups}")
        if self.n_groups_per_token > self.n_groups:
            raise ValueError(
                f"n_groups_per_token must be at most n_groups = {self.n_groups}; got {self.n_groups_per_token}"
            )
        if self.n_experts_per_token > self.n_groups_per_token * (n_experts // self.n_groups):
            raise ValueError(
                f"n_experts_per_token must be at most the {self.n_groups_per_token * (n_experts // self.n_groups)} "
                f"experts of the groups a token may use; got {self.n_experts_per_token}"
            )

    @property
    def n_experts(self) -> int:
        """Number of experts $E$."""
        return int(self.weight.shape[1])

    def __call__(self, x: ArrayLike) -> Routing:
        """Route ``x`` of shape ``(..., d_model)``: each token's experts, their weights, and every score."""
        x = as_float_array("x", x, min_ndim=1, layout="(..., d_model)")
        if x.shape[-1] != self.weight.shape[0]:
            raise ValueError(f"x: last dimension must be d_model = {self.weight.shape[0]}; got shape {x.shape}")
        return self._route(x)

    def _route(self, x: Array) -> Routing:
        """[`__call__`][llmarch.Router.__call__] for a checked ``x``, in its dtype."""
        logits = x @ self.weight.astype(x.dtype, copy=False)
        scores = _softmax(logits, -1) if self.scoring == "softmax" else sigmoid(logits)
        choice = scores if self.bias is None else scores + self.bias.astype(x.dtype, copy=False)
        if self.n_groups > 1:
            groups = choice.reshape(*choice.shape[:-1], self.n_groups, -1)
            rating = np.sort(groups, axis=-1)[..., -2:].sum(axis=-1)  # the two best of each group
            allowed = np.zeros(rating.shape, dtype=bool)
            np.put_along_axis(allowed, top_k(rating, self.n_groups_per_token), True, axis=-1)
            choice = np.where(allowed[..., None], groups, -np.inf).reshape(choice.shape)
        experts = top_k(choice, self.n_experts_per_token)
        weights = np.take_along_axis(scores, experts, axis=-1)
        if self.normalize:
            weights = weights / (weights.sum(axis=-1, keepdims=True) + _TINY)
        if self.scale != 1.0:
            weights = weights * x.dtype.type(self.scale)
        return Routing(experts, weights.astype(x.dtype, copy=False), scores)


@dataclass
class MixtureOfExperts:
    r"""A mixture-of-experts feed-forward layer: a router, $E$ routed experts and optional shared ones.

    $$y = \sum_{e \in \mathrm{TopK}(x)} g_e(x)\, \mathrm{SwiGLU}_e(x) \;+\; \mathrm{SwiGLU}_\text{shared}(x)$$

    Every token is routed on its own ([`Router`][llmarch.Router]); each expert then runs
    once, on the tokens that chose it, and its outputs are added in with their weights.
    The shared experts (DeepSeek-V3) see every token; $S$ of them of width $d_e$ are one
    [`SwiGLU`][llmarch.SwiGLU] of width $S d_e$, as DeepSeek and Hugging Face store them.

    Attributes
    ----------
    router : Router
    experts : list of SwiGLU
        ``n_experts`` networks ``d_model -> d_ff_expert -> d_model``.
    shared : SwiGLU or None
        The shared experts, one network of width ``n_shared_experts * d_ff_expert``.
    last_routing : Routing or None
        Where the tokens of the latest call went (``None`` before the first): after
        ``model.logits(tokens)``, ``model.blocks[i].mlp.last_routing.experts`` is the load of
        layer ``i`` ([`expert_load`][llmarch.moe.expert_load] counts it).
    """

    router: Router
    experts: list[SwiGLU]
    shared: SwiGLU | None = None
    last_routing: Routing | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.router, Router):
            raise TypeError(f"router must be a Router; got {type(self.router).__name__}")
        if not isinstance(self.experts, (list, tuple)):
            raise TypeError(f"experts must be a list of SwiGLU networks; got {type(self.experts).__name__}")
        self.experts = list(self.experts)
        if len(self.experts) != self.router.n_experts or not all(isinstance(e, SwiGLU) for e in self.experts):
            raise ValueError(
                f"experts must be a list of router.n_experts = {self.router.n_experts} SwiGLU networks; "
                f"got {len(self.experts)}"
            )
        if self.shared is not None and not isinstance(self.shared, SwiGLU):
            raise TypeError(f"shared must be a SwiGLU or None; got {type(self.shared).__name__}")
        d_model = self.router.weight.shape[0]
        for name, net in [*((f"experts[{j}]", e) for j, e in enumerate(self.experts)), ("shared", self.shared)]:
            if net is not None and net.w_gate.shape[0] != d_model:
                raise ValueError(f"{name} must take d_model = {d_model} features; got {net.w_gate.shape[0]}")

    @classmethod
    def init(
        cls,
        d_model: int,
        d_ff: int,
        n_experts: int,
        n_experts_per_token: int,
        rng: np.random.Generator | None = None,
        *,
        n_shared_experts: int = 0,
        scoring: Literal["softmax", "sigmoid"] = "softmax",
        normalize: bool = True,
        bias: bool = False,
        std: float = 0.02,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> MixtureOfExperts:
        """Random weights from $\\mathcal{N}(0, \\mathrm{std}^2)$ (router, experts); a zero router bias if ``bias``."""
        d_model = check_size("d_model", d_model, minimum=1)
        d_ff = check_size("d_ff", d_ff, minimum=1)
        n_experts = check_size("n_experts", n_experts, minimum=1)
        n_shared_experts = check_size("n_shared_experts", n_shared_experts)
        rng = as_generator("rng", rng)
        sizes = "d_model, d_ff, n_experts, n_shared_experts"
        check_memory(sizes, (n_experts + n_shared_experts, 3, d_model, d_ff), dtype)  # all the experts
        weight = random_normal(rng, (d_model, n_experts), std, dtype, sizes)
        router = Router(
            weight,
            n_experts_per_token,
            scoring=scoring,
            normalize=normalize,
            bias=np.zeros(n_experts, dtype=dtype) if bias else None,
        )
        experts = [SwiGLU.init(d_model, d_ff, rng, std=std, dtype=dtype) for _ in range(n_experts)]
        shared = SwiGLU.init(d_model, n_shared_experts * d_ff, rng, std=std, dtype=dtype) if n_shared_experts else None
        return cls(router, experts, shared)

    def forward(self, x: ArrayLike) -> tuple[Array, Routing]:
        """Apply to ``x`` of shape ``(..., d_model)``; the output (same shape) and the [`Routing`][llmarch.Routing]."""
        x = as_float_array("x", x, min_ndim=1, layout="(..., d_model)")
        d_model = self.router.weight.shape[0]
        if x.shape[-1] != d_model:
            raise ValueError(f"x: last dimension must be d_model = {d_model}; got shape {x.shape}")
        tokens = x.reshape(-1, d_model)
        routing = self.router._route(tokens)
        out = np.zeros_like(tokens)
        for e in np.unique(routing.experts):  # each expert once, on the tokens that chose it
            rows, slot = np.nonzero(routing.experts == e)  # a token chooses an expert at most once
            out[rows] += self.experts[e](tokens[rows]) * routing.weights[rows, slot, None]
        if self.shared is not None:
            out += self.shared(tokens)
        lead = x.shape[:-1]
        k, n_experts = routing.experts.shape[-1], routing.scores.shape[-1]
        self.last_routing = Routing(
            routing.experts.reshape(*lead, k),
            routing.weights.reshape(*lead, k),
            routing.scores.reshape(*lead, n_experts),
        )
        return out.reshape(x.shape), self.last_routing

    def __call__(self, x: ArrayLike) -> Array:
        """Apply to ``x`` of shape ``(..., d_model)``; the same shape (the routing is kept in ``last_routing``)."""
        return self.forward(x)[0]


def expert_load(experts: ArrayLike, n_experts: int) -> NDArray[np.int64]:
    """How many tokens went to each expert: shape ``(n_experts,)``, summing to ``experts.size``.

    ``experts`` is [`Routing.experts`][llmarch.Routing] (any shape; one entry per token and slot).
    """
    n_experts = check_size("n_experts", n_experts, minimum=1)
    chosen = np.asarray(experts)
    if chosen.dtype.kind not in "iu" or (chosen.size and (chosen.min() < 0 or chosen.max() >= n_experts)):
        raise ValueError(f"experts must be integer expert ids in [0, {n_experts}); got dtype {chosen.dtype}")
    return np.bincount(chosen.ravel(), minlength=n_experts)


def load_balancing_loss(scores: ArrayLike, experts: ArrayLike) -> float:
    r"""The auxiliary load-balancing loss of the Switch Transformer, as Mixtral and Qwen3-MoE train with it.

    $$\mathcal{L}_\text{balance} = E \sum_{e=1}^{E} f_e\, P_e, \qquad
    f_e = \frac{\#\{\text{tokens sent to } e\}}{n}, \qquad P_e = \frac{1}{n} \sum_{t=1}^{n} s_{t,e}$$

    (Fedus et al. 2021, eq. 4, with $k$ experts per token as Hugging Face's
    ``load_balancing_loss_func`` counts them). $f$ is a count and has no gradient; the loss
    lowers the router probabilities $P_e$ of the experts that get many tokens. It is $k$
    when every expert gets the same share, and up to $E k$ when all tokens go to the same
    experts with certainty. Training adds it, times a small coefficient (Mixtral: 0.02).

    Parameters
    ----------
    scores : array_like, shape (n, n_experts)
        The softmax probabilities, [`Routing.scores`][llmarch.Routing].
    experts : array_like of int, shape (n, k)
        [`Routing.experts`][llmarch.Routing].
    """
    s, chosen = _check_balance_inputs(scores, experts)
    fraction = expert_load(chosen, s.shape[-1]) / s.shape[0]
    return float(s.shape[-1] * np.sum(fraction * s.mean(axis=0)))


def load_balancing_loss_backward(scores: ArrayLike, experts: ArrayLike) -> Array:
    r"""The gradient of [`load_balancing_loss`][llmarch.moe.load_balancing_loss] with respect to the router logits $z$.

    With $s_t = \mathrm{softmax}(z_t)$, $\partial s_{t,i} / \partial z_{t,j} = s_{t,i}(\delta_{ij} - s_{t,j})$, so

    $$\frac{\partial \mathcal{L}}{\partial z_{t,j}} = \frac{E}{n}\, s_{t,j} \Big(f_j - \sum_i f_i\, s_{t,i}\Big)$$

    Returns
    -------
    numpy.ndarray, shape (n, n_experts)
        The router weights' gradient is ``x.T @ grad`` for router inputs ``x`` of shape ``(n, d_model)``.
    """
    s, chosen = _check_balance_inputs(scores, experts)
    n, n_experts = s.shape
    fraction = expert_load(chosen, n_experts) / n
    return (n_experts / n) * s * (fraction[None, :] - (s @ fraction)[:, None])


def _check_balance_inputs(scores: ArrayLike, experts: ArrayLike) -> tuple[Array, NDArray[np.int64]]:
    s = as_float_array("scores", scores, ndim=2, layout="(n, n_experts)")
    chosen = np.asarray(experts)
    if chosen.ndim != 2 or chosen.shape[0] != s.shape[0]:
        raise ValueError(f"experts must have shape (n, k) with n = {s.shape[0]}; got {chosen.shape}")
    if s.shape[0] == 0:
        raise ValueError("scores must hold at least one token; got 0")
    return s, chosen


def update_router_bias(bias: ArrayLike, load: ArrayLike, rate: float = 0.001) -> Array:
    r"""DeepSeek-V3's auxiliary-loss-free balancing: one step of the router-bias update.

    After each training step, an expert that got more than its share of the tokens has its
    bias lowered by $\gamma$, one that got less has it raised (DeepSeek-AI 2024, sec. 2.1.2;
    Wang et al. 2024):

    $$b_e \leftarrow b_e + \gamma\, \mathrm{sign}(\bar{c} - c_e)$$

    where $c_e$ is expert $e$'s token count and $\bar{c}$ the mean. The bias changes which
    experts are chosen, never the weights $g_e$, so balancing does not pull the model's
    outputs the way a loss term does (DeepSeek-V3: $\gamma = 0.001$ for most of training).

    Parameters
    ----------
    bias : array_like, shape (n_experts,)
    load : array_like, shape (n_experts,)
        Token counts, [`expert_load`][llmarch.moe.expert_load].
    rate : float, default 0.001
        $\gamma$.

    Returns
    -------
    numpy.ndarray, shape (n_experts,)
        The new bias (a new array).
    """
    b = as_float_array("bias", bias, ndim=1, layout="(n_experts,)")
    c = as_float_array("load", load, ndim=1, layout="(n_experts,)")
    if c.shape != b.shape:
        raise ValueError(f"load must have the bias's shape {b.shape}; got {c.shape}")
    if not (isinstance(rate, (int, float)) and not isinstance(rate, bool) and np.isfinite(rate) and rate >= 0):
        raise ValueError(f"rate must be a finite number >= 0; got {rate!r}")
    return b + b.dtype.type(rate) * np.sign(c.mean() - c).astype(b.dtype)
