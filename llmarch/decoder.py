r"""The decoder-only transformer, assembled from a config: from GPT-2 to Mixtral and DeepSeek-V3.

Every one of these models is the same stack. Tokens are looked up in an embedding table,
pass through $L$ pre-norm blocks of causal self-attention and feed-forward, and a final
norm and an output layer score every possible next token:

$$x_0 = E[\text{ids}]\;(+\,P[\text{positions}]), \qquad
h = x_l + \mathrm{Attn}(\mathrm{Norm}_1(x_l)), \qquad
x_{l+1} = h + \mathrm{FFN}(\mathrm{Norm}_2(h)), \qquad
\text{logits} = \mathrm{Norm}_f(x_L)\, W_\text{out}^\top$$

What the [`DecoderConfig`][llmarch.DecoderConfig] chooses is which norm (LayerNorm or
RMSNorm), which feed-forward (a GELU MLP or SwiGLU), how positions enter (a learned table
$P$, or a rotation of the queries and keys inside every attention layer), how many
key/value heads attention has, whether the queries and keys are normalised, how far back a
query may look, and whether $W_\text{out}$ is the embedding $E$ itself; and, for the models
that scale without paying for it, whether the feed-forward is a mixture of experts and the
attention multi-head latent attention.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, as_generator, check_number, check_size, random_normal
from llmarch.attention import KVCache, MultiHeadAttention
from llmarch.config import DecoderConfig
from llmarch.embedding import TokenEmbedding, check_token_ids, embedding_backward
from llmarch.latent_attention import LATENT_NORM_EPS, LatentAttention, LatentCache
from llmarch.layers import FeedForward, LayerNorm, RMSNorm, SwiGLU
from llmarch.moe import MixtureOfExperts, Router
from llmarch.positional import LearnedPositionalEmbedding, rotary_angles, rotary_frequencies
from llmarch.sampling import _sample, check_temperature
from llmarch.tape import Tape, recorded
from llmarch.training import cross_entropy

__all__ = ["Decoder", "DecoderBlock", "decoder_mask", "parameter_shapes"]

Array = NDArray[np.floating[Any]]
Norm = LayerNorm | RMSNorm
Attention = MultiHeadAttention | LatentAttention
FeedForwardNetwork = FeedForward | SwiGLU | MixtureOfExperts
Cache = KVCache | LatentCache


def decoder_mask(
    query_positions: NDArray[np.int64], key_positions: NDArray[np.int64], window: int | None = None
) -> NDArray[np.bool_]:
    r"""Which keys each query may attend to: causal, and within the sliding window if there is one.

    $$\text{allowed}_{ij} = \big(k_j \le q_i\big) \wedge \big(q_i - k_j < w\big)$$

    for query position $q_i$, key position $k_j$ and window $w$ ($w = \infty$ without
    one). With $w$ the query sees $w$ tokens, itself included, as Mistral does.

    Returns
    -------
    numpy.ndarray of bool, shape (n_queries, n_keys)
    """
    query_positions = _positions("query_positions", query_positions)
    key_positions = _positions("key_positions", key_positions)
    window = None if window is None else check_size("window", window, minimum=1)
    return _decoder_mask(query_positions, key_positions, window)


def _positions(name: str, positions: ArrayLike) -> NDArray[np.int64]:
    array = np.asarray(positions)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be a 1-D array of integer positions; got {array.dtype} of shape {array.shape}")
    return array.astype(np.int64, copy=False)


def _decoder_mask(
    query_positions: NDArray[np.int64], key_positions: NDArray[np.int64], window: int | None
) -> NDArray[np.bool_]:
    """[`decoder_mask`][llmarch.decoder_mask] for checked positions."""
    offset = query_positions[:, None] - key_positions[None, :]
    allowed = offset >= 0
    return allowed if window is None else allowed & (offset < window)


@dataclass
class DecoderBlock:
    r"""One pre-norm block: causal self-attention, then a feed-forward network, each on a residual path.

    $$h = x + \mathrm{Attn}(\mathrm{Norm}_1(x)), \qquad y = h + \mathrm{FFN}(\mathrm{Norm}_2(h))$$

    Attributes
    ----------
    ln_1 : LayerNorm or RMSNorm
        The norm before attention (GPT-2's ``ln_1``, Llama's ``input_layernorm``).
    attn : MultiHeadAttention or LatentAttention
        Causal self-attention, grouped-query when it has fewer key/value heads; latent
        attention in DeepSeek-V3.
    ln_2 : LayerNorm or RMSNorm
        The norm before the feed-forward (``ln_2``, ``post_attention_layernorm``).
    mlp : FeedForward, SwiGLU or MixtureOfExperts
        The feed-forward network: dense, or a mixture of experts.
    """

    ln_1: Norm
    attn: Attention
    ln_2: Norm
    mlp: FeedForwardNetwork

    def __call__(
        self,
        x: ArrayLike,
        mask: ArrayLike | None = None,
        rope: tuple[Array, Array] | None = None,
        cache: Cache | None = None,
    ) -> Array:
        """Apply the block to ``x`` of shape ``(..., n, d_model)``; returns the same shape.

        ``mask`` (``(n, n_keys)``, True = may attend; see [`decoder_mask`][llmarch.decoder_mask]),
        ``rope`` and ``cache`` go to the attention layer
        ([`MultiHeadAttention.attend`][llmarch.MultiHeadAttention.attend]).
        """
        h = x + self.attn(self.ln_1(x), mask=mask, rope=rope, cache=cache)
        return h + self.mlp(self.ln_2(h))

    def backward(self, grad_output: ArrayLike, tape: Tape) -> tuple[Array, dict[str, Array]]:
        r"""Gradients from $\bar y = \partial L / \partial y$, for the call ``tape`` recorded.

        The two residual lines backwards: each residual path hands its gradient straight
        through and adds what its branch sends back,

        $$\bar h = \bar y + \mathrm{Norm}_2^\top\big(\mathrm{FFN}^\top(\bar y)\big), \qquad
          \bar x = \bar h + \mathrm{Norm}_1^\top\big(\mathrm{Attn}^\top(\bar h)\big)$$

        where $F^\top(\bar y)$ is the backward pass of $F$ (the ``backward`` of each part).
        The straight path is why deep stacks train: $\bar y$ reaches $x$ unchanged, whatever
        the branches do.

        Returns
        -------
        grad_x : numpy.ndarray, shape (..., n, d_model)
        grads : dict
            Every weight's gradient by its path in the block (``"ln_1.gamma"``, ``"attn.w_q"``, ...).
        """
        grad, _ = recorded(self.mlp, tape, grad_output)  # the block's output has the feed-forward's shape
        grads: dict[str, Array] = {}

        def back(name: str, part: Any, g: Array) -> Array:
            g, part_grads = part.backward(g, tape)
            grads.update({f"{name}.{k}": v for k, v in part_grads.items()})
            return g

        grad_h = grad + back("ln_2", self.ln_2, back("mlp", self.mlp, grad))
        grad_x = grad_h + back("ln_1", self.ln_1, back("attn", self.attn, grad_h))
        return grad_x, grads


def parameter_shapes(config: DecoderConfig, *, buffers: bool = False) -> dict[str, tuple[int, ...]]:
    """Every parameter of a [`Decoder`][llmarch.Decoder] with ``config``, by its attribute path, and its shape.

    The one description of the model's weights: [`Decoder.init`][llmarch.Decoder.init]
    draws them, the checkpoint tables map them to Hugging Face names, and
    [`count_parameters`][llmarch.count_parameters] adds them up. Paths read like attribute
    access: ``"blocks.0.attn.w_q"`` is ``model.blocks[0].attn.w_q``, and
    ``"blocks.3.mlp.experts.7.w_up"`` is ``model.blocks[3].mlp.experts[7].w_up``.

    ``buffers=True`` adds the arrays a model loads and uses but does not train or count:
    DeepSeek-V3's router bias ``blocks.{i}.mlp.router.bias``.
    """
    if not isinstance(config, DecoderConfig):
        raise TypeError(f"config must be a DecoderConfig; got {type(config).__name__}")
    c = config
    d, q_width, kv_width = c.d_model, c.n_heads * c.d_head, c.n_kv_heads * c.d_head

    def norm(path: str) -> dict[str, tuple[int, ...]]:
        return {f"{path}.gamma": (d,), **({f"{path}.beta": (d,)} if c.norm == "layernorm" else {})}

    shapes: dict[str, tuple[int, ...]] = {"wte.weight": (c.vocab_size, d)}
    if c.positions == "learned":
        shapes["wpe.weight"] = (c.n_positions, d)
    for i in range(c.n_layers):
        p = f"blocks.{i}."
        shapes |= norm(p + "ln_1")
        if c.kv_lora_rank is not None:
            shapes |= _latent_attention_shapes(c, p + "attn.")
        else:
            shapes |= {p + "attn.w_q": (d, q_width), p + "attn.w_k": (d, kv_width), p + "attn.w_v": (d, kv_width)}
            shapes[p + "attn.w_o"] = (q_width, d)
        if c.attention_bias:
            shapes |= {p + "attn.b_q": (q_width,), p + "attn.b_k": (kv_width,), p + "attn.b_v": (kv_width,)}
            shapes[p + "attn.b_o"] = (d,)
        if c.qk_norm:
            shapes |= {p + "attn.q_norm.gamma": (c.d_head,), p + "attn.k_norm.gamma": (c.d_head,)}
        shapes |= norm(p + "ln_2")
        if c.is_moe_layer(i):
            shapes |= _expert_shapes(c, p + "mlp.", buffers)
        elif c.feed_forward == "mlp":
            shapes |= {p + "mlp.w1": (d, c.d_ff), p + "mlp.w2": (c.d_ff, d)}
            if c.mlp_bias:
                shapes |= {p + "mlp.b1": (c.d_ff,), p + "mlp.b2": (d,)}
        else:
            shapes |= {p + "mlp.w_gate": (d, c.d_ff), p + "mlp.w_up": (d, c.d_ff), p + "mlp.w_down": (c.d_ff, d)}
            if c.mlp_bias:
                shapes |= {p + "mlp.b_gate": (c.d_ff,), p + "mlp.b_up": (c.d_ff,), p + "mlp.b_down": (d,)}
    shapes |= norm("ln_f")
    if not c.tie_embeddings:
        shapes["lm_head"] = (c.vocab_size, d)
    return shapes


def _latent_attention_shapes(c: DecoderConfig, p: str) -> dict[str, tuple[int, ...]]:
    """The weights of a [`LatentAttention`][llmarch.LatentAttention] layer, under prefix ``p``."""
    assert c.kv_lora_rank is not None and c.qk_rope_head_dim is not None and c.v_head_dim is not None
    d, h, qk = c.d_model, c.n_heads, int(c.d_head)
    if c.q_lora_rank is None:
        shapes = {p + "w_q": (d, h * qk)}
    else:
        shapes = {p + "w_dq": (d, c.q_lora_rank), p + "q_latent_norm.gamma": (c.q_lora_rank,)}
        shapes[p + "w_uq"] = (c.q_lora_rank, h * qk)
    return shapes | {
        p + "w_dkv": (d, c.kv_lora_rank),
        p + "w_kr": (d, c.qk_rope_head_dim),
        p + "kv_latent_norm.gamma": (c.kv_lora_rank,),
        p + "w_ukv": (c.kv_lora_rank, h * (qk - c.qk_rope_head_dim + c.v_head_dim)),
        p + "w_o": (h * c.v_head_dim, d),
    }


def _expert_shapes(c: DecoderConfig, p: str, buffers: bool) -> dict[str, tuple[int, ...]]:
    """The weights of a [`MixtureOfExperts`][llmarch.MixtureOfExperts] layer, under prefix ``p``."""
    assert c.n_experts is not None and c.d_ff_expert is not None
    d, f = c.d_model, int(c.d_ff_expert)
    shapes: dict[str, tuple[int, ...]] = {p + "router.weight": (d, c.n_experts)}
    if buffers and c.router_bias:
        shapes[p + "router.bias"] = (c.n_experts,)
    for j in range(c.n_experts):
        e = f"{p}experts.{j}."
        shapes |= {e + "w_gate": (d, f), e + "w_up": (d, f), e + "w_down": (f, d)}
    if c.n_shared_experts:
        s = c.n_shared_experts * f
        shapes |= {p + "shared.w_gate": (d, s), p + "shared.w_up": (d, s), p + "shared.w_down": (s, d)}
    return shapes


# The projections that write into the residual stream: GPT-2 scales their init by 1/sqrt(2L).
_RESIDUAL_PROJECTIONS = ("attn.w_o", "mlp.w2", ".w_down")  # .w_down: dense, routed and shared experts


def _resolve(model: Any, path: str) -> Any:
    """The object at an attribute path such as ``"blocks.0.attn.w_q"``."""
    for part in path.split("."):
        model = model[int(part)] if part.isdigit() else getattr(model, part)
    return model


@dataclass
class Decoder:
    r"""A decoder-only transformer built from a [`DecoderConfig`][llmarch.DecoderConfig].

    $$x_0 = E[\text{ids}]\;(+\,P[\text{positions}]), \qquad x_{l+1} = \mathrm{Block}_l(x_l), \qquad
    \text{logits} = \mathrm{Norm}_f(x_L)\, W_\text{out}^\top$$

    One class for GPT-2, Llama 3, Mistral and Qwen3, and for Mixtral, Qwen3-MoE and DeepSeek-V3,
    whose blocks hold a [`MixtureOfExperts`][llmarch.MixtureOfExperts] or
    [`LatentAttention`][llmarch.LatentAttention]: the config says which parts each has.
    Build one with random weights ([`init`][llmarch.Decoder.init]) or from a Hugging Face
    checkpoint ([`from_hf_state_dict`][llmarch.Decoder.from_hf_state_dict],
    [`from_safetensors`][llmarch.Decoder.from_safetensors]). Computation happens in the
    dtype of the weights.

    Attributes
    ----------
    config : DecoderConfig
    wte : TokenEmbedding
        Token embedding $E$, shape ``(vocab_size, d_model)``.
    wpe : LearnedPositionalEmbedding or None
        Position table $P$, shape ``(n_positions, d_model)``; ``None`` with rotary positions.
    blocks : list of DecoderBlock
        ``n_layers`` blocks.
    ln_f : LayerNorm or RMSNorm
        The final norm.
    lm_head : numpy.ndarray or None, shape (vocab_size, d_model)
        The output layer $W_\text{out}$, one row per token; ``None`` when it is tied to $E$.
    """

    config: DecoderConfig
    wte: TokenEmbedding
    wpe: LearnedPositionalEmbedding | None
    blocks: list[DecoderBlock]
    ln_f: Norm
    lm_head: Array | None = None

    def __post_init__(self) -> None:
        c = self.config
        if not isinstance(c, DecoderConfig):
            raise TypeError(f"config must be a DecoderConfig; got {type(c).__name__}")
        if not isinstance(self.wte, TokenEmbedding):
            raise TypeError(f"wte must be a TokenEmbedding; got {type(self.wte).__name__}")
        if self.wpe is not None and not isinstance(self.wpe, LearnedPositionalEmbedding):
            raise TypeError(f"wpe must be a LearnedPositionalEmbedding or None; got {type(self.wpe).__name__}")
        if not isinstance(self.blocks, list) or not all(isinstance(b, DecoderBlock) for b in self.blocks):
            raise TypeError(f"blocks must be a list of DecoderBlock; got {self.blocks!r:.60}")
        if self.lm_head is not None:
            self.lm_head = as_float_array("lm_head", self.lm_head, ndim=2, layout="(vocab_size, d_model)")
        if len(self.blocks) != c.n_layers:
            raise ValueError(f"blocks must number n_layers = {c.n_layers}; got {len(self.blocks)}")
        if (self.wpe is None) != (c.positions == "rotary"):
            raise ValueError(
                f"wpe must be {'None' if c.positions == 'rotary' else 'a position table'} "
                f"with positions = {c.positions!r}"
            )
        if (self.lm_head is None) != c.tie_embeddings:
            raise ValueError(
                f"lm_head must be {'None' if c.tie_embeddings else 'an array'} with tie_embeddings = {c.tie_embeddings}"
            )
        norm = LayerNorm if c.norm == "layernorm" else RMSNorm
        dense: type = FeedForward if c.feed_forward == "mlp" else SwiGLU
        attention: type = MultiHeadAttention if c.kv_lora_rank is None else LatentAttention
        parts = [("ln_f", self.ln_f, norm)]
        for i, block in enumerate(self.blocks):
            mlp = MixtureOfExperts if c.is_moe_layer(i) else dense
            parts += [(f"blocks.{i}.ln_1", block.ln_1, norm), (f"blocks.{i}.ln_2", block.ln_2, norm)]
            parts += [(f"blocks.{i}.mlp", block.mlp, mlp), (f"blocks.{i}.attn", block.attn, attention)]
        for path, part, kind in parts:
            if not isinstance(part, kind):
                raise TypeError(f"{path} must be a {kind.__name__} for this config; got {type(part).__name__}")
        expected = parameter_shapes(c, buffers=True)
        for path, shape in expected.items():
            got = np.shape(_resolve(self, path))
            if got != shape:
                raise ValueError(f"{path} must have shape {shape} for this config; got {got}")
        for i, block in enumerate(self.blocks):
            a, m = block.attn, block.mlp
            if isinstance(m, MixtureOfExperts):
                self._check_router(i, m.router)
            networks = m.experts + ([m.shared] if m.shared else []) if isinstance(m, MixtureOfExperts) else [m]
            mlp_biases = [b for n in networks for b in ((n.b1, n.b2) if isinstance(n, FeedForward) else
                          (n.b_gate, n.b_up, n.b_down))]  # fmt: skip
            has = {"mlp_bias": any(b is not None for b in mlp_biases)}
            if isinstance(a, LatentAttention):
                if a.n_heads != c.n_heads:
                    raise ValueError(f"blocks.{i}.attn must have n_heads = {c.n_heads}")
            else:
                if (a.n_heads, a.n_kv_heads) != (c.n_heads, c.n_kv_heads):
                    raise ValueError(f"blocks.{i}.attn must have n_heads = {c.n_heads} and n_kv_heads = {c.n_kv_heads}")
                has["attention_bias"] = any(b is not None for b in (a.b_q, a.b_k, a.b_v, a.b_o))
                has["qk_norm"] = a.q_norm is not None or a.k_norm is not None
            for name, present in has.items():
                if present and not getattr(c, name):  # a missing part was caught by the shapes above
                    raise ValueError(f"blocks.{i}: the config has {name} = False, but the block has those parameters")
        self._rope_frequencies = (
            rotary_frequencies(c.rope_dim, c.rope_theta, c.rope_scaling) if c.positions == "rotary" else None
        )

    def _check_router(self, i: int, router: Router) -> None:
        c = self.config
        settings = {
            "n_experts_per_token": (router.n_experts_per_token, c.n_experts_per_token),
            "router_scoring": (router.scoring, c.router_scoring),
            "router_normalize": (router.normalize, c.router_normalize),
            "router_bias": (router.bias is not None, c.router_bias),
            "routed_scale": (router.scale, c.routed_scale),
            "n_expert_groups": (router.n_groups, c.n_expert_groups),
            "n_groups_per_token": (router.n_groups_per_token, c.n_groups_per_token),
        }
        for name, (got, expected) in settings.items():
            if got != expected:
                raise ValueError(f"blocks.{i}.mlp.router must route with {name} = {expected!r}; got {got!r}")

    # -- building one ---------------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        config: DecoderConfig,
        rng: np.random.Generator | int | None = None,
        *,
        std: float = 0.02,
        dtype: type[np.floating[Any]] = np.float32,
    ) -> Decoder:
        r"""Random weights as GPT-2 initialises them.

        Weights are drawn from $\mathcal{N}(0, \mathrm{std}^2)$, and the two projections
        that write into the residual stream (attention output and the feed-forward's last
        layer) are scaled by $1/\sqrt{2 L}$, so the stream's variance does not grow with
        depth; biases are zero and norms the identity. ``dtype`` defaults to float32, the
        precision of published weights.
        """
        if not isinstance(config, DecoderConfig):
            raise TypeError(f"config must be a DecoderConfig; got {type(config).__name__}")
        rng = as_generator("rng", rng)
        std = check_number("std", std, minimum=0.0)
        params: dict[str, Array] = {}
        for path, shape in parameter_shapes(config, buffers=True).items():
            leaf = path.rsplit(".", 1)[-1]
            if leaf == "gamma":
                params[path] = np.ones(shape, dtype=dtype)
            elif leaf == "beta" or leaf.startswith("b"):
                params[path] = np.zeros(shape, dtype=dtype)
            else:
                scale = 1 / math.sqrt(2 * config.n_layers) if path.endswith(_RESIDUAL_PROJECTIONS) else 1.0
                params[path] = random_normal(rng, shape, std * scale, dtype, f"config (for {path})")
        return cls.from_parameters(config, params)

    @classmethod
    def from_parameters(cls, config: DecoderConfig, params: Mapping[str, ArrayLike]) -> Decoder:
        """Assemble a model from arrays keyed as [`parameter_shapes`][llmarch.parameter_shapes] names them.

        The inverse of [`parameters`][llmarch.Decoder.parameters]; checkpoint loading and
        [`init`][llmarch.Decoder.init] both end here. The arrays are used as given (not copied).
        """
        if not isinstance(config, DecoderConfig):
            raise TypeError(f"config must be a DecoderConfig; got {type(config).__name__}")
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a mapping of parameter paths to arrays; got {type(params).__name__}")
        c, p = config, dict(params)
        missing = [path for path in parameter_shapes(c, buffers=True) if path not in p]
        if missing:
            raise ValueError(f"params is missing {missing[0]!r} ({len(missing)} missing in all)")
        for path, shape in parameter_shapes(c, buffers=True).items():
            p[path] = as_float_array(f"params[{path!r}]", p[path])
            if p[path].shape != shape:
                raise ValueError(f"params[{path!r}] must have shape {shape} for this config; got {p[path].shape}")

        def norm(path: str) -> Norm:
            if c.norm == "layernorm":
                return LayerNorm(p[f"{path}.gamma"], p[f"{path}.beta"], c.norm_eps)
            return RMSNorm(p[f"{path}.gamma"], c.norm_eps)

        def swiglu(path: str) -> SwiGLU:
            return SwiGLU(
                *(p[f"{path}.{w}"] for w in ("w_gate", "w_up", "w_down")),
                *(p.get(f"{path}.{w}") for w in ("b_gate", "b_up", "b_down")),
            )

        blocks = []
        for i in range(c.n_layers):
            b = f"blocks.{i}."
            attn: Attention
            if c.kv_lora_rank is not None:
                attn = _latent_attention(c, p, b + "attn.")
            else:
                qk = [RMSNorm(p[b + f"attn.{x}_norm.gamma"], c.norm_eps) for x in "qk"] if c.qk_norm else [None, None]
                weights = [p[b + f"attn.w_{x}"] for x in "qkvo"]
                biases = [p.get(b + f"attn.b_{x}") for x in "qkvo"]
                attn = MultiHeadAttention(
                    *weights, *biases, n_heads=c.n_heads, n_kv_heads=c.n_kv_heads, q_norm=qk[0], k_norm=qk[1]
                )
            mlp: FeedForwardNetwork
            if c.is_moe_layer(i):
                assert c.n_experts is not None and c.n_experts_per_token is not None
                router = Router(
                    p[b + "mlp.router.weight"],
                    c.n_experts_per_token,
                    scoring=c.router_scoring,
                    normalize=c.router_normalize,
                    bias=p[b + "mlp.router.bias"] if c.router_bias else None,
                    n_groups=c.n_expert_groups,
                    n_groups_per_token=c.n_groups_per_token,
                    scale=c.routed_scale,
                )
                experts = [swiglu(f"{b}mlp.experts.{j}") for j in range(c.n_experts)]
                mlp = MixtureOfExperts(router, experts, swiglu(b + "mlp.shared") if c.n_shared_experts else None)
            elif c.feed_forward == "mlp":
                mlp = FeedForward(
                    p[b + "mlp.w1"], p.get(b + "mlp.b1"), p[b + "mlp.w2"], p.get(b + "mlp.b2"), c.activation
                )
            else:
                mlp = swiglu(b + "mlp")
            blocks.append(DecoderBlock(norm(b + "ln_1"), attn, norm(b + "ln_2"), mlp))
        wpe = LearnedPositionalEmbedding(p["wpe.weight"]) if c.positions == "learned" else None
        lm_head = None if c.tie_embeddings else np.asarray(p["lm_head"])
        return cls(c, TokenEmbedding(p["wte.weight"]), wpe, blocks, norm("ln_f"), lm_head)

    def parameters(self) -> dict[str, Array]:
        """Every weight, keyed by its attribute path (the arrays themselves, not copies)."""
        return {path: _resolve(self, path) for path in parameter_shapes(self.config)}

    def buffers(self) -> dict[str, Array]:
        """The arrays the model loads and uses but does not train: DeepSeek-V3's router bias (often none)."""
        shapes = parameter_shapes(self.config, buffers=True)
        return {path: _resolve(self, path) for path in shapes.keys() - parameter_shapes(self.config).keys()}

    # -- Hugging Face checkpoints (llmarch.checkpoint holds the tables of names) ------------------

    @classmethod
    def from_hf_state_dict(cls, state: Mapping[str, ArrayLike], config: DecoderConfig) -> Decoder:
        """Build a model from the tensors of a Hugging Face checkpoint of ``config``'s family.

        See [`llmarch.checkpoint.from_hf_state_dict`][llmarch.checkpoint.from_hf_state_dict]:
        GPT-2, Llama, Mistral, Qwen3, Mixtral, Qwen3-MoE and DeepSeek-V3 names and layouts (experts
        stacked or one by one), with or without the
        ``transformer.`` / ``model.`` prefix; a missing, extra or misshapen tensor is an
        error naming it, and nothing partial is returned.
        """
        from llmarch.checkpoint import from_hf_state_dict

        return cls.from_parameters(config, from_hf_state_dict(state, config))

    @classmethod
    def from_safetensors(cls, path: str | os.PathLike[str], config: DecoderConfig) -> Decoder:
        """Load a Hugging Face ``.safetensors`` file (needs ``pip install "llmarch[weights]"``)."""
        from llmarch.checkpoint import read_safetensors

        return cls.from_hf_state_dict(read_safetensors(path), config)

    def to_hf_state_dict(self, prefix: bool = False) -> dict[str, Array]:
        """The weights under Hugging Face names and layouts.

        The inverse of [`from_hf_state_dict`][llmarch.Decoder.from_hf_state_dict].

        ``prefix=False`` gives the base model's names (``GPT2Model``, ``LlamaModel``, ...,
        as in most published files), without a tied ``lm_head.weight``; ``prefix=True``
        gives the ``...ForCausalLM`` / ``GPT2LMHeadModel`` names, ``lm_head.weight`` included.
        """
        from llmarch.checkpoint import to_hf_state_dict

        return to_hf_state_dict({**self.parameters(), **self.buffers()}, self.config, prefix=prefix)

    # -- running it -----------------------------------------------------------------------------

    @property
    def output_weight(self) -> Array:
        """$W_\\text{out}$, shape ``(vocab_size, d_model)``: ``lm_head``, or the token embedding when tied."""
        return self.wte.weight if self.lm_head is None else self.lm_head

    def new_caches(self) -> list[Cache]:
        """One empty cache per block: a [`KVCache`][llmarch.KVCache], windowed like the model's attention,
        or a [`LatentCache`][llmarch.LatentCache] with latent attention."""
        if self.config.kv_lora_rank is not None:
            return [LatentCache() for _ in self.blocks]
        return [KVCache(window=self.config.sliding_window) for _ in self.blocks]

    def _check_tokens(self, tokens: ArrayLike, start: int = 0) -> NDArray[np.int64]:
        ids = check_token_ids("tokens", tokens, self.config.vocab_size)
        if ids.ndim not in (1, 2):
            raise ValueError(f"tokens must be (n,) or (batch, n) token ids; got shape {ids.shape}")
        if start + ids.shape[-1] > self.config.n_positions:
            raise ValueError(
                f"tokens must number at most n_positions = {self.config.n_positions} (the context); "
                f"got {start + ids.shape[-1]}"
            )
        return ids

    def hidden_states(self, tokens: ArrayLike, caches: list[Cache] | None = None) -> Array:
        """The final, normalised hidden state of every token: ``(n, d_model)`` or ``(batch, n, d_model)``.

        With ``caches`` (one [`KVCache`][llmarch.KVCache] per block, for example from
        [`new_caches`][llmarch.Decoder.new_caches]), ``tokens`` are the new tokens only;
        they are placed after the tokens already cached.
        """
        if caches is not None:
            kind = KVCache if self.config.kv_lora_rank is None else LatentCache
            if not isinstance(caches, (list, tuple)):
                raise TypeError(f"caches must be a list of one {kind.__name__} per block; got {type(caches).__name__}")
            if len(caches) != len(self.blocks) or not all(isinstance(cache, kind) for cache in caches):
                raise ValueError(f"caches must be a list of one {kind.__name__} per block ({len(self.blocks)})")
            if any(cache.window not in (None, self.config.sliding_window) for cache in caches):
                raise ValueError(f"caches must have window None or sliding_window = {self.config.sliding_window}")
        start = 0 if caches is None else caches[0].length
        ids = self._check_tokens(tokens, start)
        return self._hidden_states(ids, caches)

    def _hidden_states(self, ids: NDArray[np.int64], caches: list[Cache] | None) -> Array:
        """[`hidden_states`][llmarch.Decoder.hidden_states] for checked token ids."""
        n = ids.shape[-1]
        start = 0 if caches is None else caches[0].length
        positions = np.arange(start, start + n)
        keys = positions if caches is None else caches[0].key_positions(n)
        mask = _decoder_mask(positions, keys, self.config.sliding_window)
        x = self.wte.weight[ids]
        if self.wpe is not None:
            x = x + self.wpe.weight[positions]
        rope = None if self._rope_frequencies is None else rotary_angles(positions, self._rope_frequencies, x.dtype)
        if rope is not None and self.config.rope_scaling is not None and self.config.rope_scaling.attention_factor != 1:
            factor = x.dtype.type(self.config.rope_scaling.attention_factor)  # YaRN's sharpening
            rope = (rope[0] * factor, rope[1] * factor)
        for i, block in enumerate(self.blocks):
            x = block(x, mask, rope, None if caches is None else caches[i])
        return self.ln_f(x)

    def loss_and_grads(self, tokens: ArrayLike, targets: ArrayLike) -> tuple[float, dict[str, Array]]:
        r"""Mean cross-entropy of ``targets`` and its gradient for every weight: one training step's backward pass.

        One forward pass records what each layer needs (a [`Tape`][llmarch.Tape]); then the
        gradient flows back from the loss, layer by layer. With $\hat x = \mathrm{Norm}_f(x_L)$,
        the logits $z = \hat x\, W_\text{out}^\top$ and $p = \mathrm{softmax}(z)$ at each of
        the $N$ positions scored:

        $$L = -\frac1N \sum_t \log p_{t, y_t}, \qquad \bar z_t = \frac1N \big(p_t - e_{y_t}\big), \qquad
          \bar W_\text{out} = \sum_t \bar z_t^\top \hat x_t, \qquad \bar{\hat x}_t = \bar z_t W_\text{out}$$

        then $\mathrm{Norm}_f$, the blocks from last to first
        ([`DecoderBlock.backward`][llmarch.DecoderBlock.backward]), and the embeddings: the
        token table collects a scatter-add of $\bar x_0$
        ([`embedding_backward`][llmarch.embedding.embedding_backward]), the position table
        its sum over the batch. When the output layer is tied to the token embedding, its
        gradient is the sum of both uses, $\bar E = \bar E_\text{lookup} + \bar W_\text{out}$.

        Parameters
        ----------
        tokens : array_like of int, shape (n,) or (batch, n)
            Token ids, ``n <= n_positions``.
        targets : array_like of int
            Of the shape of ``tokens``: the next token at every position (a language model's
            loss, the mean over every position). Of shape ``tokens.shape[:-1]`` (one per
            sequence): a class read at the last position (a sequence-classification loss).

        Returns
        -------
        loss : float
            $L$, in nats.
        grads : dict of str to numpy.ndarray
            $\partial L / \partial \theta$ with exactly the keys and shapes of
            [`to_hf_state_dict`][llmarch.Decoder.to_hf_state_dict]`()` (a config with
            ``family=None``, which has no Hugging Face names, keys them as
            [`parameters`][llmarch.Decoder.parameters]`()`), in the weights' dtype.

        Raises
        ------
        ValueError
            If a token or target is outside the vocabulary, the sequences are longer than
            ``n_positions``, or ``targets`` has neither of the two shapes; or the model has a
            mixture of experts or latent attention (no backward pass here for those).
        """
        c = self.config
        if c.n_experts is not None or c.kv_lora_rank is not None:
            part = "a mixture of experts" if c.n_experts is not None else "latent attention"
            raise ValueError(
                f"config: loss_and_grads has backward passes for dense feed-forward networks and multi-head or "
                f"grouped-query attention; this model has {part}"
            )
        ids = self._check_tokens(tokens)
        if ids.size == 0:
            raise ValueError(f"tokens must hold at least one sequence of at least one token; got shape {ids.shape}")
        labels = check_token_ids("targets", targets, self.config.vocab_size)
        if labels.shape not in (ids.shape, ids.shape[:-1]):
            raise ValueError(
                f"targets must have the shape of tokens {ids.shape} (the next token at every position) "
                f"or {ids.shape[:-1]} (one class per sequence, read at its last position); got shape {labels.shape}"
            )
        with Tape() as tape:
            hidden = self._hidden_states(ids, None)
        every_position = labels.shape == ids.shape
        scored = hidden if every_position else hidden[..., -1, :]
        w_out = self.output_weight.astype(hidden.dtype, copy=False)
        loss, grad_z = cross_entropy(scored @ w_out.T, labels)
        grad_w_out = grad_z.reshape(-1, grad_z.shape[-1]).T @ scored.reshape(-1, scored.shape[-1])
        if every_position:
            grad_hidden = grad_z @ w_out
        else:
            grad_hidden = np.zeros_like(hidden)
            grad_hidden[..., -1, :] = grad_z @ w_out
        grad_x, ln_f = self.ln_f.backward(grad_hidden, tape)
        grads = {f"ln_f.{k}": g for k, g in ln_f.items()}
        for i in range(len(self.blocks) - 1, -1, -1):
            grad_x, block = self.blocks[i].backward(grad_x, tape)
            grads |= {f"blocks.{i}.{k}": g for k, g in block.items()}
        grads["wte.weight"] = embedding_backward(ids, grad_x, self.config.vocab_size)
        if self.wpe is not None:
            grad_wpe = np.zeros_like(self.wpe.weight, dtype=grad_x.dtype)
            grad_wpe[: ids.shape[-1]] = grad_x.reshape(-1, *grad_x.shape[-2:]).sum(axis=0)
            grads["wpe.weight"] = grad_wpe
        if self.lm_head is None:
            grads["wte.weight"] += grad_w_out
        else:
            grads["lm_head"] = grad_w_out
        if self.config.family is None:
            return loss, grads
        from llmarch.checkpoint import to_hf_state_dict

        return loss, to_hf_state_dict(grads, self.config)

    def logits(self, tokens: ArrayLike) -> Array:
        r"""Next-token scores after every prefix of ``tokens``.

        $$\text{logits} = \mathrm{Norm}_f(x_L)\, W_\text{out}^\top$$

        Parameters
        ----------
        tokens : array_like of int, shape (n,) or (batch, n)
            Token ids, ``n <= n_positions``.

        Returns
        -------
        numpy.ndarray, shape (n, vocab_size) or (batch, n, vocab_size)
            Row $t$ scores the token that follows ``tokens[..., :t + 1]``; it does not
            depend on later tokens (causal).
        """
        return self.hidden_states(tokens) @ self.output_weight.T

    def generate(
        self,
        tokens: ArrayLike,
        max_new_tokens: int,
        temperature: float = 0.0,
        top_k: int | None = None,
        rng: np.random.Generator | int | None = None,
        use_cache: bool = True,
    ) -> NDArray[np.int64]:
        """Continue ``tokens`` by ``max_new_tokens`` tokens, one at a time.

        Each step scores the next token from the last position and picks one with
        [`sample_next_token`][llmarch.sample_next_token]. With ``use_cache=True`` every
        block keeps a [`KVCache`][llmarch.KVCache], so a step feeds only the newest token
        (cost $O(n)$ per token); with ``use_cache=False`` each step recomputes the whole
        sequence ($O(n^2)$ per token). Both give the same tokens.

        Parameters
        ----------
        tokens : array_like of int, shape (n,)
            The prompt, at least one token.
        max_new_tokens : int
            How many tokens to add; ``n + max_new_tokens`` must not exceed ``n_positions``.
        temperature : float, default 0.0
            ``0`` picks the most likely token (greedy, deterministic); above 0 samples.
        top_k : int, optional
            Sample only among the ``top_k`` most likely tokens.
        rng : numpy.random.Generator or int, optional
            Randomness for sampling (an int is a seed); the same seed gives the same text.
        use_cache : bool, default True
            Keep keys and values between steps.

        Returns
        -------
        numpy.ndarray of int64, shape (n + max_new_tokens,)
            The prompt followed by the new tokens.

        Raises
        ------
        ValueError
            If the prompt is empty or ``n + max_new_tokens`` exceeds ``n_positions``, or an
            argument is out of range.
        """
        prompt = self._check_tokens(tokens)
        if prompt.ndim != 1:
            raise ValueError(f"tokens must be a 1-D prompt (n,); got shape {prompt.shape}")
        max_new_tokens = check_size("max_new_tokens", max_new_tokens)
        temperature = check_temperature(temperature)
        top_k = None if top_k is None else check_size("top_k", top_k, minimum=1)
        rng = as_generator("rng", rng)
        if not isinstance(use_cache, bool):
            raise TypeError(f"use_cache must be True or False; got {use_cache!r}")
        if len(prompt) == 0:
            raise ValueError("tokens must hold at least one token to continue; got an empty prompt")
        n, total = len(prompt), len(prompt) + max_new_tokens
        if total > self.config.n_positions:
            raise ValueError(
                f"max_new_tokens: the prompt ({n} tokens) plus {max_new_tokens} new tokens makes {total}, "
                f"more than n_positions = {self.config.n_positions}"
            )
        sequence = np.empty(total, dtype=np.int64)
        sequence[:n] = prompt
        caches = self.new_caches() if use_cache else None
        new = prompt  # what the next forward pass must read
        for t in range(n, total):
            h = self._hidden_states(new, caches) if use_cache else self._hidden_states(sequence[:t], None)
            last = (h[-1] @ self.output_weight.T).astype(np.float64)
            sequence[t] = _sample(last, temperature, top_k, rng)
            new = sequence[t : t + 1]
        return sequence


def _latent_attention(c: DecoderConfig, p: Mapping[str, ArrayLike], prefix: str) -> LatentAttention:
    """The [`LatentAttention`][llmarch.LatentAttention] layer at ``prefix``, from arrays keyed by path."""
    assert c.qk_rope_head_dim is not None and c.d_head is not None
    compressed = c.q_lora_rank is not None
    scale = (1 / math.sqrt(c.d_head)) * (1.0 if c.rope_scaling is None else c.rope_scaling.softmax_factor)
    return LatentAttention(
        w_dq=p[prefix + "w_dq"] if compressed else None,
        q_latent_norm=RMSNorm(p[prefix + "q_latent_norm.gamma"], LATENT_NORM_EPS) if compressed else None,
        w_uq=p[prefix + "w_uq"] if compressed else None,
        w_q=None if compressed else p[prefix + "w_q"],
        w_dkv=p[prefix + "w_dkv"],
        w_kr=p[prefix + "w_kr"],
        kv_latent_norm=RMSNorm(p[prefix + "kv_latent_norm.gamma"], LATENT_NORM_EPS),
        w_ukv=p[prefix + "w_ukv"],
        w_o=p[prefix + "w_o"],
        n_heads=c.n_heads,
        qk_rope_head_dim=c.qk_rope_head_dim,
        scale=scale,
    )
