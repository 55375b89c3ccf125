r"""Model configuration: the handful of numbers and choices that fix a decoder-only LLM.

[`DecoderConfig`][llmarch.DecoderConfig] describes GPT-2 as well as Llama 3, Mistral and
Qwen3: they are all the same stack of blocks, and differ in the choices listed here (which
norm, which feed-forward, how positions enter, how many key/value heads). Every released
size the guide uses is a preset that cites where its numbers come from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal

from llmarch._validate import check_size

__all__ = ["DecoderConfig", "GPTConfig", "RopeScaling"]

Family = Literal["gpt2", "llama", "mistral", "qwen3", "mixtral", "qwen3_moe", "deepseek_v3"]


def _positive_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite positive number; got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive number; got {value!r}")
    return float(value)


def _one_of(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


@dataclass(frozen=True)
class RopeScaling:
    r"""A rescaling of the rotary frequencies for a longer context: Llama 3.1's, or YaRN (DeepSeek-V3).

    Trained at ``original_n_positions`` tokens and then extended, a model leaves the fast
    rotations alone, slows the slow ones down by ``factor``, and blends in between. The two
    rules differ in where the blend lies.

    **Llama 3** (``kind="llama3"``). With wavelength $\lambda_i = 2\pi / \theta_i$,
    $L$ = ``original_n_positions``, $\lambda_\text{low} = L / \text{low\_freq\_factor}$ and
    $\lambda_\text{high} = L / \text{high\_freq\_factor}$:

    $$\theta'_i = \begin{cases}
    \theta_i & \lambda_i < \lambda_\text{high} \\
    \theta_i / \text{factor} & \lambda_i > \lambda_\text{low} \\
    (1 - s_i)\,\theta_i / \text{factor} + s_i\,\theta_i & \text{otherwise,}
    \end{cases} \qquad s_i = \frac{L / \lambda_i - \text{low\_freq\_factor}}
    {\text{high\_freq\_factor} - \text{low\_freq\_factor}}$$

    **YaRN** (``kind="yarn"``; Peng et al. 2023, *YaRN: Efficient Context Window Extension
    of Large Language Models*). Pair $i$ of a head of width $d$ turns $L\theta_i / 2\pi$ times
    over the original context; the pairs that turn more than ``beta_fast`` times keep their
    rate, those that turn fewer than ``beta_slow`` times are slowed by ``factor``, and a
    linear ramp $r_i$ blends the pairs in between:

    $$\theta'_i = (1 - r_i)\,\theta_i + r_i\,\theta_i / \text{factor}, \qquad
    r_i = \mathrm{clip}\!\left(\frac{i - i_\text{low}}{i_\text{high} - i_\text{low}}, 0, 1\right), \qquad
    i(\beta) = \frac{d \ln\!\big(L / (2\pi\beta)\big)}{2 \ln \text{base}}$$

    with $i_\text{low} = \lfloor i(\text{beta\_fast}) \rfloor$ and
    $i_\text{high} = \lceil i(\text{beta\_slow}) \rceil$. YaRN also sharpens attention, which
    the longer context would blur: with $m(s, a) = 0.1\, a \ln s + 1$, the rotated features
    are multiplied by [`attention_factor`][llmarch.RopeScaling.attention_factor]
    $= m(\text{factor}, \text{mscale}) / m(\text{factor}, \text{mscale\_all\_dim})$ (1 for
    DeepSeek-V3, whose two are equal), and DeepSeek's latent attention multiplies its softmax
    scale by $m(\text{factor}, \text{mscale\_all\_dim})^2$
    ([`LatentAttention`][llmarch.LatentAttention]).

    Attributes
    ----------
    factor : float
        How much slower the slowest rotations turn (8 in Llama 3.1, 32 in Llama 3.2, 40 in
        DeepSeek-V3).
    original_n_positions : int
        The context the model was first trained at (8192 for Llama 3, 4096 for DeepSeek-V3).
    low_freq_factor, high_freq_factor : float
        Llama 3: where the blend starts and ends (1 and 4 in Llama 3).
    kind : {"llama3", "yarn"}
        The rule; Hugging Face's ``rope_type``.
    beta_fast, beta_slow : float
        YaRN: the rotation counts where the blend starts and ends (32 and 1).
    mscale, mscale_all_dim : float or None
        YaRN: the coefficients $a$ of the attention sharpening (DeepSeek-V3: 1 and 1);
        ``None`` for both is YaRN's own rule, $m(\text{factor}, 1)$ on the rotated features.
    """

    factor: float
    original_n_positions: int
    low_freq_factor: float = 1.0
    high_freq_factor: float = 4.0
    kind: Literal["llama3", "yarn"] = "llama3"
    beta_fast: float = 32.0
    beta_slow: float = 1.0
    mscale: float | None = None
    mscale_all_dim: float | None = None

    def __post_init__(self) -> None:
        _one_of("kind", self.kind, ("llama3", "yarn"))
        if _positive_number("factor", self.factor) < 1:
            raise ValueError(f"factor must be at least 1 (rotations only ever slow down); got {self.factor!r}")
        check_size("original_n_positions", self.original_n_positions, minimum=1)
        low = _positive_number("low_freq_factor", self.low_freq_factor)
        if _positive_number("high_freq_factor", self.high_freq_factor) <= low:
            raise ValueError(
                f"high_freq_factor must be greater than low_freq_factor = {low}; got {self.high_freq_factor!r}"
            )
        slow = _positive_number("beta_slow", self.beta_slow)
        if _positive_number("beta_fast", self.beta_fast) <= slow:
            raise ValueError(f"beta_fast must be greater than beta_slow = {slow}; got {self.beta_fast!r}")
        for name in ("mscale", "mscale_all_dim"):
            if getattr(self, name) is not None:
                _positive_number(name, getattr(self, name))

    @staticmethod
    def _yarn_mscale(factor: float, coefficient: float = 1.0) -> float:
        """YaRN's $m(s, a) = 0.1\\, a \\ln s + 1$ (1 when $s \\le 1$)."""
        return 1.0 if factor <= 1 else 0.1 * coefficient * math.log(factor) + 1.0

    @property
    def attention_factor(self) -> float:
        r"""What the rotary ``cos`` and ``sin`` are multiplied by: 1 for Llama 3; YaRN's sharpening otherwise.

        $m(\text{factor}, \text{mscale}) / m(\text{factor}, \text{mscale\_all\_dim})$ when both are
        given, else $m(\text{factor}, 1)$.
        """
        if self.kind != "yarn":
            return 1.0
        if self.mscale and self.mscale_all_dim:
            return self._yarn_mscale(self.factor, self.mscale) / self._yarn_mscale(self.factor, self.mscale_all_dim)
        return self._yarn_mscale(self.factor)

    @property
    def softmax_factor(self) -> float:
        r"""What DeepSeek's latent attention multiplies its softmax scale by.

        $m(\text{factor}, \text{mscale\_all\_dim})^2$; 1 for Llama 3 and for YaRN without ``mscale_all_dim``.
        """
        if self.kind != "yarn" or not self.mscale_all_dim:
            return 1.0
        return self._yarn_mscale(self.factor, self.mscale_all_dim) ** 2

    def to_hf(self) -> dict[str, Any]:
        """The same settings as Hugging Face's ``rope_parameters`` entries."""
        common = {"rope_type": self.kind, "factor": float(self.factor)}
        if self.kind == "yarn":
            yarn = {"beta_fast": float(self.beta_fast), "beta_slow": float(self.beta_slow)}
            for name in ("mscale", "mscale_all_dim"):
                if getattr(self, name) is not None:
                    yarn[name] = float(getattr(self, name))
            return {**common, **yarn, "original_max_position_embeddings": self.original_n_positions}
        return {
            **common,
            "low_freq_factor": float(self.low_freq_factor),
            "high_freq_factor": float(self.high_freq_factor),
            "original_max_position_embeddings": self.original_n_positions,
        }


class _DerivedInt(int):
    """An int that ``__post_init__`` filled in from other fields (see ``DecoderConfig``)."""


class _DerivedStr(str):
    """A str that ``__post_init__`` filled in from other fields."""


# A dense family has neither experts nor latent attention.
_DENSE: dict[str, Any] = {"n_experts": None, "kv_lora_rank": None}
# Mixtral's and Qwen3-MoE's router: a softmax over all experts, no bias, no groups, no scaling.
_SOFTMAX_ROUTING: dict[str, Any] = {
    "n_shared_experts": 0,
    "router_scoring": "softmax",
    "router_bias": False,
    "routed_scale": 1.0,
    "n_expert_groups": 1,
    "n_groups_per_token": 1,
}

# What each family fixes. A config whose family is None may combine the choices freely, but
# has no Hugging Face equivalent (no checkpoint names, no to_hf_config).
_FAMILY_RULES: dict[str, dict[str, Any]] = {
    "gpt2": {
        "norm": "layernorm",
        "feed_forward": "mlp",
        "positions": "learned",
        "qk_norm": False,
        "sliding_window": None,
        "attention_bias": True,
        "mlp_bias": True,
        **_DENSE,
    },
    "llama": {
        "norm": "rmsnorm",
        "feed_forward": "swiglu",
        "positions": "rotary",
        "qk_norm": False,
        "sliding_window": None,
        **_DENSE,
    },
    "mistral": {
        "norm": "rmsnorm",
        "feed_forward": "swiglu",
        "positions": "rotary",
        "qk_norm": False,
        "attention_bias": False,
        "mlp_bias": False,
        **_DENSE,
    },
    "qwen3": {
        "norm": "rmsnorm",
        "feed_forward": "swiglu",
        "positions": "rotary",
        "qk_norm": True,
        "sliding_window": None,
        "mlp_bias": False,
        **_DENSE,
    },
    # Mixtral: Mistral's attention, every feed-forward a mixture of SwiGLU experts, softmax top-k.
    "mixtral": {
        "norm": "rmsnorm",
        "feed_forward": "swiglu",
        "positions": "rotary",
        "qk_norm": False,
        "attention_bias": False,
        "mlp_bias": False,
        "first_k_dense": 0,
        **_SOFTMAX_ROUTING,
        "router_normalize": True,
        "kv_lora_rank": None,
    },
    # Qwen3-MoE: Qwen3's attention (QK-norm), softmax top-k, optionally renormalised.
    "qwen3_moe": {
        "norm": "rmsnorm",
        "feed_forward": "swiglu",
        "positions": "rotary",
        "qk_norm": True,
        "sliding_window": None,
        "mlp_bias": False,
        **_SOFTMAX_ROUTING,
        "kv_lora_rank": None,
    },
    # DeepSeek-V3: latent attention, shared experts, sigmoid scores with a balancing bias.
    "deepseek_v3": {
        "norm": "rmsnorm",
        "feed_forward": "swiglu",
        "positions": "rotary",
        "qk_norm": False,
        "sliding_window": None,
        "attention_bias": False,
        "mlp_bias": False,
        "router_scoring": "sigmoid",
        "router_bias": True,
    },
}
# Families that need experts, and those that need latent attention.
_MOE_FAMILIES = ("mixtral", "qwen3_moe", "deepseek_v3")
_LATENT_FAMILIES = ("deepseek_v3",)

# Hugging Face's names for GPT-2's activations.
_HF_GPT2_ACTIVATION = {"gelu_tanh": "gelu_new", "gelu": "gelu", "relu": "relu"}


@dataclass(frozen=True)
class DecoderConfig:
    r"""The shape of a decoder-only transformer: GPT-2, Llama, Mistral, Qwen3, Mixtral, Qwen3-MoE, DeepSeek-V3.

    Build one from a preset ([`preset`][llmarch.DecoderConfig.preset]) or by hand; shrink a
    preset with ``dataclasses.replace(config, d_model=64, n_layers=2, ...)``: the result is
    checked again, and the fields left at their defaults (``n_kv_heads``, ``d_head``,
    ``d_ff``, ``activation``) follow the new sizes, so it is a valid model of the same family.
    (Such a field holds a marked ``int`` or ``str``; to fix one in a new config, pass a plain
    value, ``d_head=int(other.d_head)``.)

    Two groups of fields make a model bigger without making each token dearer: a **mixture
    of experts** (``n_experts`` and the fields after it; [`MixtureOfExperts`][llmarch.MixtureOfExperts])
    replaces the feed-forward network of every layer from ``first_k_dense`` on, and **latent
    attention** (``kv_lora_rank`` and the fields after it; [`LatentAttention`][llmarch.LatentAttention])
    replaces multi-head attention in every layer.

    Attributes
    ----------
    vocab_size : int
        Number of token ids $V$.
    n_positions : int
        The longest context $n_\text{ctx}$ (the learned position table's length, or the
        context a rotary model was built for).
    d_model : int
        Width of the residual stream $d$.
    n_layers : int
        Number of blocks $L$.
    n_heads : int
        Query heads per block $h$; must divide ``d_model``.
    n_kv_heads : int
        Key/value heads $h_{kv}$; must divide ``n_heads``. ``n_heads`` is multi-head
        attention, fewer is grouped-query attention (GQA), 1 is multi-query attention
        (MQA). Default: ``n_heads``.
    d_head : int
        Width of each head $d_h$; default ``d_model // n_heads`` (Qwen3 sets it apart).
    d_ff : int
        Hidden width of the feed-forward network; default $4d$ (SwiGLU models set their own).
    norm : {"layernorm", "rmsnorm"}
        [`LayerNorm`][llmarch.LayerNorm] (GPT-2) or [`RMSNorm`][llmarch.RMSNorm] (the others).
    norm_eps : float
        $\varepsilon$ of every norm.
    feed_forward : {"mlp", "swiglu"}
        [`FeedForward`][llmarch.FeedForward] (two layers, GPT-2) or [`SwiGLU`][llmarch.SwiGLU] (gated).
    activation : {"gelu_tanh", "gelu", "relu", "silu"}
        The MLP's nonlinearity (GPT-2: ``"gelu_tanh"``); SwiGLU's is always ``"silu"``.
        Default: the feed-forward's own.
    positions : {"learned", "rotary"}
        A learned table added to the embeddings (GPT-2), or rotary embedding of the queries
        and keys in every layer (the others; ``d_head`` must be even).
    rope_theta : float
        Rotary base: pair $i$ of a head turns at $\theta_i = \text{rope\_theta}^{-2i/d_h}$.
    rope_scaling : RopeScaling or None
        Llama 3.1's stretch of the slow rotations to a longer context.
    qk_norm : bool
        An [`RMSNorm`][llmarch.RMSNorm] over each head's queries and keys before the rotation (Qwen3).
    sliding_window : int or None
        Each query sees only the ``sliding_window`` most recent tokens, itself included
        (Mistral 7B: 4096); ``None`` is full causal attention.
    attention_bias, mlp_bias : bool
        Whether the attention projections and the feed-forward layers have biases (GPT-2: yes).
    tie_embeddings : bool
        Whether the output layer is the token embedding, transposed (GPT-2, Llama 3.2 1B and 3B,
        the small Qwen3 models), or a matrix of its own.
    family : {"gpt2", "llama", "mistral", "qwen3", "mixtral", "qwen3_moe", "deepseek_v3"} or None
        The Hugging Face model family: it fixes the choices that family's code makes (for
        example Qwen3 always has ``qk_norm``) and gives the checkpoint's tensor names.
        ``None`` allows any combination, without a Hugging Face equivalent.
    n_experts : int or None
        Routed experts $E$ per mixture-of-experts layer (Mixtral: 8, DeepSeek-V3: 256);
        ``None``: every feed-forward network is dense.
    n_experts_per_token : int or None
        Experts each token goes to, $k \le E$ (Mixtral: 2, Qwen3-MoE and DeepSeek-V3: 8).
    n_shared_experts : int
        Experts every token goes to, beside the routed ones (DeepSeek-V3: 1); default 0.
    d_ff_expert : int or None
        Hidden width of each expert; default ``d_ff`` (Mixtral's experts are as wide as a
        dense layer; Qwen3-30B-A3B's are 768 wide, its dense width 6144).
    first_k_dense : int
        How many leading layers keep a dense feed-forward network of width ``d_ff``
        (DeepSeek-V3: 3); default 0.
    router_scoring : {"softmax", "sigmoid"}
        How router logits become scores: a softmax over the experts (Mixtral, Qwen3-MoE) or
        a sigmoid of each (DeepSeek-V3).
    router_normalize : bool
        Whether the $k$ chosen scores are divided by their sum (Hugging Face's ``norm_topk_prob``).
    router_bias : bool
        Whether a bias is added to the scores to *choose* experts, not to weight them
        (DeepSeek-V3's auxiliary-loss-free balancing; a buffer, not counted as a parameter).
    routed_scale : float
        What the routed experts' weights are multiplied by (DeepSeek-V3: 2.5).
    n_expert_groups, n_groups_per_token : int
        Group-limited routing (DeepSeek-V3: 8 and 4): the experts form ``n_expert_groups``
        equal groups, and a token chooses among the experts of its ``n_groups_per_token``
        best groups only. Default 1 and 1: no limit.
    q_lora_rank : int or None
        Latent attention: width $d'_c$ of the compressed query (DeepSeek-V3: 1536); ``None``
        projects the queries directly.
    kv_lora_rank : int or None
        Latent attention: width $d_c$ of the compressed key/value latent, what the cache
        keeps (DeepSeek-V3: 512); ``None``: multi-head (or grouped-query) attention.
    qk_rope_head_dim : int or None
        Latent attention: the rotary part of every query and key head, $d^R_h$ (64); the key's
        is one vector shared by all heads.
    qk_nope_head_dim : int or None
        Latent attention: the part of every query and key head without positions (128).
        With latent attention ``d_head`` is ``qk_nope_head_dim + qk_rope_head_dim``.
    v_head_dim : int or None
        Latent attention: the width of every value head (128).
    """

    vocab_size: int
    n_positions: int
    d_model: int
    n_layers: int
    n_heads: int
    n_kv_heads: int = field(default=None)  # type: ignore[assignment]  # filled in by __post_init__
    d_head: int = field(default=None)  # type: ignore[assignment]
    d_ff: int = field(default=None)  # type: ignore[assignment]
    norm: Literal["layernorm", "rmsnorm"] = "rmsnorm"
    norm_eps: float = 1e-5
    feed_forward: Literal["mlp", "swiglu"] = "swiglu"
    activation: Literal["gelu_tanh", "gelu", "relu", "silu"] = field(default=None)  # type: ignore[assignment]
    positions: Literal["learned", "rotary"] = "rotary"
    rope_theta: float = 10000.0
    rope_scaling: RopeScaling | None = None
    qk_norm: bool = False
    sliding_window: int | None = None
    attention_bias: bool = False
    mlp_bias: bool = False
    tie_embeddings: bool = False
    family: Family | None = "llama"
    # Mixture of experts (None: dense).
    n_experts: int | None = None
    n_experts_per_token: int | None = None
    n_shared_experts: int = 0
    d_ff_expert: int | None = field(default=None)  # filled in by __post_init__ when there are experts
    first_k_dense: int = 0
    router_scoring: Literal["softmax", "sigmoid"] = "softmax"
    router_normalize: bool = True
    router_bias: bool = False
    routed_scale: float = 1.0
    n_expert_groups: int = 1
    n_groups_per_token: int = 1
    # Multi-head latent attention (None: multi-head or grouped-query attention).
    q_lora_rank: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None
    qk_nope_head_dim: int | None = None
    v_head_dim: int | None = None

    # Which presets this class offers: every family here, only GPT-2 in GPTConfig.
    _preset_families: ClassVar[tuple[str, ...]] = (
        "gpt2",
        "llama",
        "mistral",
        "qwen3",
        "mixtral",
        "qwen3_moe",
        "deepseek_v3",
    )

    def __post_init__(self) -> None:
        for name in ("vocab_size", "n_positions", "d_model", "n_layers", "n_heads"):
            check_size(name, getattr(self, name), minimum=1)
        if self.d_model % self.n_heads:
            raise ValueError(f"n_heads must divide d_model = {self.d_model}; got n_heads = {self.n_heads}")
        self._check_latent_attention()
        derived = {
            "n_kv_heads": self.n_heads,
            "d_head": self.d_model // self.n_heads if self.kv_lora_rank is None else self.qk_head_dim,
            "d_ff": 4 * self.d_model,
            "activation": "silu" if self.feed_forward == "swiglu" else "gelu_tanh",
        }
        # A value filled in here is marked as derived, so that dataclasses.replace(config,
        # d_model=...) derives it again from the new sizes instead of keeping the old one.
        for name, default in derived.items():
            if getattr(self, name) is None or isinstance(getattr(self, name), (_DerivedInt, _DerivedStr)):
                object.__setattr__(self, name, (_DerivedStr if isinstance(default, str) else _DerivedInt)(default))
        for name in ("n_kv_heads", "d_head", "d_ff"):
            check_size(name, getattr(self, name), minimum=1)
        if self.n_experts is None:
            if isinstance(self.d_ff_expert, _DerivedInt):  # left over from a config with experts
                object.__setattr__(self, "d_ff_expert", None)
        elif self.d_ff_expert is None or isinstance(self.d_ff_expert, _DerivedInt):
            object.__setattr__(self, "d_ff_expert", _DerivedInt(self.d_ff))
        if self.n_heads % self.n_kv_heads:
            raise ValueError(
                f"n_kv_heads must divide n_heads = {self.n_heads} (each key/value head serves a group of "
                f"query heads); got n_kv_heads = {self.n_kv_heads}"
            )
        _one_of("norm", self.norm, ("layernorm", "rmsnorm"))
        _one_of("feed_forward", self.feed_forward, ("mlp", "swiglu"))
        _one_of("positions", self.positions, ("learned", "rotary"))
        if self.feed_forward == "swiglu":
            _one_of("activation", self.activation, ("silu",))
        else:
            _one_of("activation", self.activation, ("gelu_tanh", "gelu", "relu"))
        _positive_number("norm_eps", self.norm_eps)
        _positive_number("rope_theta", self.rope_theta)
        if self.positions == "rotary" and self.kv_lora_rank is None and self.d_head % 2:
            raise ValueError(f"d_head must be even with rotary positions (pairs rotate); got d_head = {self.d_head}")
        if self.rope_scaling is not None and not isinstance(self.rope_scaling, RopeScaling):
            raise TypeError(f"rope_scaling must be a RopeScaling or None; got {type(self.rope_scaling).__name__}")
        if self.sliding_window is not None:
            check_size("sliding_window", self.sliding_window, minimum=1)
        for name in ("qk_norm", "attention_bias", "mlp_bias", "tie_embeddings", "router_normalize", "router_bias"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False; got {getattr(self, name)!r}")
        self._check_experts()
        if self.kv_lora_rank is not None:
            self._check_latent_choices()
        if self.family is not None:
            self._check_family()

    def _check_experts(self) -> None:
        """The mixture-of-experts fields: all at their defaults without experts, consistent with them."""
        check_size("n_shared_experts", self.n_shared_experts)
        check_size("first_k_dense", self.first_k_dense)
        check_size("n_expert_groups", self.n_expert_groups, minimum=1)
        check_size("n_groups_per_token", self.n_groups_per_token, minimum=1)
        _one_of("router_scoring", self.router_scoring, ("softmax", "sigmoid"))
        _positive_number("routed_scale", self.routed_scale)
        if self.n_experts is None:
            if self.n_experts_per_token is not None or self.d_ff_expert is not None:
                name = "n_experts_per_token" if self.n_experts_per_token is not None else "d_ff_expert"
                raise ValueError(f"{name}: a model without experts (n_experts = None) has no {name}")
            return
        check_size("n_experts", self.n_experts, minimum=1)
        if self.n_experts_per_token is None:
            raise ValueError("n_experts_per_token must be set with n_experts (how many experts each token goes to)")
        check_size("n_experts_per_token", self.n_experts_per_token, minimum=1)
        check_size("d_ff_expert", self.d_ff_expert, minimum=1)
        if self.n_experts_per_token > self.n_experts:
            raise ValueError(
                f"n_experts_per_token must be at most n_experts = {self.n_experts} (a token cannot go to more "
                f"experts than there are); got {self.n_experts_per_token}"
            )
        if self.n_experts % self.n_expert_groups:
            raise ValueError(
                f"n_expert_groups must divide n_experts = {self.n_experts} (the groups are equal); "
                f"got n_expert_groups = {self.n_expert_groups}"
            )
        if self.n_groups_per_token > self.n_expert_groups:
            raise ValueError(
                f"n_groups_per_token must be at most n_expert_groups = {self.n_expert_groups}; "
                f"got {self.n_groups_per_token}"
            )
        reachable = self.n_groups_per_token * (self.n_experts // self.n_expert_groups)
        if self.n_experts_per_token > reachable:
            raise ValueError(
                f"n_experts_per_token must be at most the {reachable} experts of the n_groups_per_token = "
                f"{self.n_groups_per_token} groups a token may use; got {self.n_experts_per_token}"
            )
        if self.feed_forward != "swiglu" or self.mlp_bias:
            raise ValueError(
                "feed_forward, mlp_bias: experts are SwiGLU networks without biases; "
                f"got feed_forward = {self.feed_forward!r}, mlp_bias = {self.mlp_bias}"
            )

    def _check_latent_attention(self) -> None:
        """The latent-attention sizes (before d_head is derived from them)."""
        names = ("q_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim")
        if self.kv_lora_rank is None:
            given = [name for name in names if getattr(self, name) is not None]
            if given:
                raise ValueError(f"{given[0]}: only latent attention has it; set kv_lora_rank too, or leave it None")
            return
        for name in ("kv_lora_rank", *names):
            if name == "q_lora_rank" and self.q_lora_rank is None:
                continue
            if getattr(self, name) is None:
                raise ValueError(f"{name} must be set with kv_lora_rank (latent attention)")
            check_size(name, getattr(self, name), minimum=1)
        for name in ("kv_lora_rank", "q_lora_rank"):
            rank = getattr(self, name)
            if rank is not None and rank > self.d_model:
                raise ValueError(
                    f"{name} must be at most d_model = {self.d_model} (a latent compresses the width); got {rank}"
                )
        if self.qk_rope_head_dim % 2:
            raise ValueError(f"qk_rope_head_dim must be even (pairs rotate); got {self.qk_rope_head_dim}")

    def _check_latent_choices(self) -> None:
        """What latent attention does not combine with."""
        if self.d_head != self.qk_head_dim:
            raise ValueError(
                f"d_head: with latent attention it is qk_nope_head_dim + qk_rope_head_dim = {self.qk_head_dim}; "
                f"got {self.d_head}"
            )
        if self.n_kv_heads != self.n_heads:
            raise ValueError(
                f"n_kv_heads: latent attention expands keys and values for every head, n_kv_heads = n_heads = "
                f"{self.n_heads}; got {self.n_kv_heads}"
            )
        for name, off in (("qk_norm", False), ("attention_bias", False), ("sliding_window", None)):
            if getattr(self, name) != off:
                raise ValueError(f"{name} must be {off!r} with latent attention; got {getattr(self, name)!r}")
        if self.positions != "rotary":
            raise ValueError(f"positions must be 'rotary' with latent attention; got {self.positions!r}")

    def _check_family(self) -> None:
        _one_of("family", self.family, (*_FAMILY_RULES, None))
        for name, required in _FAMILY_RULES[self.family].items():
            if getattr(self, name) != required:
                raise ValueError(
                    f"{name}: the {self.family} family has {name} = {required!r}; got {getattr(self, name)!r} "
                    "(family=None allows any combination, without Hugging Face checkpoints)"
                )
        if self.family in _MOE_FAMILIES and self.n_experts is None:
            raise ValueError(f"n_experts: the {self.family} family has experts; got None")
        if self.family in _LATENT_FAMILIES and self.kv_lora_rank is None:
            raise ValueError(f"kv_lora_rank: the {self.family} family has latent attention; got None")
        if self.family == "deepseek_v3" and self.n_shared_experts < 1:
            raise ValueError(f"n_shared_experts: the deepseek_v3 family has at least 1; got {self.n_shared_experts}")
        if self.family == "gpt2" and (self.n_kv_heads, self.d_head) != (self.n_heads, self.d_model // self.n_heads):
            raise ValueError(
                f"n_kv_heads, d_head: GPT-2 has n_kv_heads = n_heads = {self.n_heads} and d_head = d_model / n_heads "
                f"= {self.d_model // self.n_heads}; got {self.n_kv_heads} and {self.d_head}"
            )

    # -- derived sizes ----------------------------------------------------------------------------

    @property
    def n_kv_groups(self) -> int:
        """Query heads per key/value head, $h / h_{kv}$ (1 for multi-head attention)."""
        return self.n_heads // self.n_kv_heads

    @property
    def qk_head_dim(self) -> int | None:
        """Latent attention: the width of each query and key head, ``qk_nope_head_dim + qk_rope_head_dim``."""
        if self.qk_nope_head_dim is None or self.qk_rope_head_dim is None:
            return None
        return self.qk_nope_head_dim + self.qk_rope_head_dim

    @property
    def rope_dim(self) -> int:
        """Features of each query and key head that rotate: ``d_head`` (``qk_rope_head_dim`` with latent attention)."""
        return self.d_head if self.qk_rope_head_dim is None else self.qk_rope_head_dim

    def is_moe_layer(self, layer: int) -> bool:
        """Whether block ``layer`` (counted from 0) has a mixture of experts instead of a dense feed-forward."""
        return self.n_experts is not None and layer >= self.first_k_dense

    # -- presets ----------------------------------------------------------------------------------

    @classmethod
    def presets(cls) -> list[str]:
        """The names [`preset`][llmarch.DecoderConfig.preset] accepts, smallest family first."""
        return [name for name, (kw, _) in _PRESETS.items() if kw["family"] in cls._preset_families]

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> DecoderConfig:
        """A released configuration, for example ``"gpt2"``, ``"llama-3.1-8b"`` or ``"qwen3-0.6b"``.

        Keyword ``overrides`` replace any field (``n_layers=2`` for a quick experiment).
        [`source`][llmarch.DecoderConfig.source] says where the numbers come from.
        """
        if name not in cls.presets():
            raise ValueError(f"name must be one of {cls.presets()}; got {name!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"overrides: {cls.__name__} has no field {unknown[0]!r}")
        return cls(**{**_PRESETS[name][0], **overrides})

    @classmethod
    def source(cls, name: str) -> str:
        """Where the numbers of preset ``name`` come from (paper table or released config)."""
        if name not in cls.presets():
            raise ValueError(f"name must be one of {cls.presets()}; got {name!r}")
        return _PRESETS[name][1]

    # -- Hugging Face -----------------------------------------------------------------------------

    def to_hf_config(self) -> dict[str, Any]:
        """Keyword arguments of the same model's Hugging Face config, ``model_type`` included.

        ``transformers.AutoConfig.for_model(**config.to_hf_config())`` builds it (transformers
        5, where rotary settings are ``rope_parameters``). Special-token ids are not part of
        the architecture and are left at Hugging Face's defaults.

        Raises
        ------
        ValueError
            If ``family`` is ``None``: such a combination has no Hugging Face model.
        """
        if self.family is None:
            raise ValueError("family: a config with family=None has no Hugging Face equivalent")
        if self.family == "gpt2":
            return {
                "model_type": "gpt2",
                "vocab_size": self.vocab_size,
                "n_positions": self.n_positions,
                "n_embd": self.d_model,
                "n_layer": self.n_layers,
                "n_head": self.n_heads,
                "n_inner": int(self.d_ff),
                "activation_function": _HF_GPT2_ACTIVATION[self.activation],
                "layer_norm_epsilon": self.norm_eps,
                "tie_word_embeddings": self.tie_embeddings,
            }
        rope = {"rope_type": "default", "rope_theta": float(self.rope_theta)}
        if self.rope_scaling is not None:
            rope = {**rope, **self.rope_scaling.to_hf()}
        kw: dict[str, Any] = {
            "model_type": self.family,
            "vocab_size": self.vocab_size,
            "max_position_embeddings": self.n_positions,
            "hidden_size": self.d_model,
            "num_hidden_layers": self.n_layers,
            "num_attention_heads": self.n_heads,
            "num_key_value_heads": int(self.n_kv_heads),
            "head_dim": int(self.d_head),
            "intermediate_size": int(self.d_ff),
            "hidden_act": str(self.activation),
            "rms_norm_eps": self.norm_eps,
            "rope_parameters": rope,
            "tie_word_embeddings": self.tie_embeddings,
        }
        if self.family == "llama":
            kw |= {"attention_bias": self.attention_bias, "mlp_bias": self.mlp_bias}
        elif self.family == "mistral":
            kw |= {"sliding_window": self.sliding_window}
        elif self.family == "qwen3":
            kw |= {"attention_bias": self.attention_bias, "use_sliding_window": False}
        elif self.family == "mixtral":
            kw |= {
                "intermediate_size": int(self.d_ff_expert),  # Mixtral's only feed-forward width is the experts'
                "num_local_experts": self.n_experts,
                "num_experts_per_tok": self.n_experts_per_token,
                "sliding_window": self.sliding_window,
            }
        elif self.family == "qwen3_moe":
            kw |= {
                "attention_bias": self.attention_bias,
                "use_sliding_window": False,
                "moe_intermediate_size": int(self.d_ff_expert),
                "num_experts": self.n_experts,
                "num_experts_per_tok": self.n_experts_per_token,
                "norm_topk_prob": self.router_normalize,
                "decoder_sparse_step": 1,
                "mlp_only_layers": list(range(min(self.first_k_dense, self.n_layers))),
            }
        elif self.family == "deepseek_v3":
            del kw["head_dim"]  # transformers sets it to qk_rope_head_dim itself
            kw |= {
                "attention_bias": False,
                "moe_intermediate_size": int(self.d_ff_expert),
                "n_routed_experts": self.n_experts,
                "n_shared_experts": self.n_shared_experts,
                "num_experts_per_tok": self.n_experts_per_token,
                "first_k_dense_replace": self.first_k_dense,
                "norm_topk_prob": self.router_normalize,
                "routed_scaling_factor": float(self.routed_scale),
                "n_group": self.n_expert_groups,
                "topk_group": self.n_groups_per_token,
                "q_lora_rank": self.q_lora_rank,
                "kv_lora_rank": self.kv_lora_rank,
                "qk_rope_head_dim": self.qk_rope_head_dim,
                "qk_nope_head_dim": self.qk_nope_head_dim,
                "v_head_dim": self.v_head_dim,
                "rope_interleave": True,  # DeepSeek's rotary pairs neighbouring features
                # The multi-token-prediction module of the released checkpoint is not part of the model.
                "num_nextn_predict_layers": 0,
            }
        return kw


@dataclass(frozen=True)
class GPTConfig(DecoderConfig):
    r"""A [`DecoderConfig`][llmarch.DecoderConfig] with GPT-2's choices as its defaults.

    LayerNorm, a GELU MLP, learned positions, biases everywhere and a tied output layer
    (Radford et al. 2019): ``GPTConfig(vocab_size, n_positions, d_model, n_layers, n_heads)``
    is a GPT-2-shaped model. [`preset`][llmarch.GPTConfig.preset] offers the four released
    sizes, ``"gpt2"`` to ``"gpt2-xl"``.
    """

    norm: Literal["layernorm", "rmsnorm"] = "layernorm"
    feed_forward: Literal["mlp", "swiglu"] = "mlp"
    positions: Literal["learned", "rotary"] = "learned"
    attention_bias: bool = True
    mlp_bias: bool = True
    tie_embeddings: bool = True
    family: Family | None = "gpt2"

    _preset_families: ClassVar[tuple[str, ...]] = ("gpt2",)


def _gpt2(d_model: int, n_layers: int, n_heads: int) -> dict[str, Any]:
    return {**_GPT2_COMMON, "d_model": d_model, "n_layers": n_layers, "n_heads": n_heads}


_GPT2_COMMON: dict[str, Any] = {
    "vocab_size": 50257,
    "n_positions": 1024,
    "norm": "layernorm",
    "feed_forward": "mlp",
    "activation": "gelu_tanh",
    "positions": "learned",
    "attention_bias": True,
    "mlp_bias": True,
    "tie_embeddings": True,
    "family": "gpt2",
}
_GPT2_SOURCE = "Radford et al. 2019, Table 2; Hugging Face {name} config.json (openai-community/{name})"

_LLAMA3: dict[str, Any] = {
    "vocab_size": 128256,
    "n_positions": 131072,
    "norm_eps": 1e-5,
    "rope_theta": 500000.0,
    "family": "llama",
}
_LLAMA31_SCALING = RopeScaling(factor=8.0, original_n_positions=8192)
_LLAMA32_SCALING = RopeScaling(factor=32.0, original_n_positions=8192)
_QWEN3: dict[str, Any] = {
    "vocab_size": 151936,
    "n_positions": 40960,
    "d_head": 128,
    "norm_eps": 1e-6,
    "rope_theta": 1000000.0,
    "qk_norm": True,
    "family": "qwen3",
}

# name -> (fields, where they come from). Every count is checked against Hugging Face's own
# (tests/reference/), built on the meta device from to_hf_config().
_PRESETS: dict[str, tuple[dict[str, Any], str]] = {
    "gpt2": (_gpt2(768, 12, 12), _GPT2_SOURCE.format(name="gpt2")),
    "gpt2-medium": (_gpt2(1024, 24, 16), _GPT2_SOURCE.format(name="gpt2-medium")),
    "gpt2-large": (_gpt2(1280, 36, 20), _GPT2_SOURCE.format(name="gpt2-large")),
    "gpt2-xl": (_gpt2(1600, 48, 25), _GPT2_SOURCE.format(name="gpt2-xl")),
    "llama-3.2-1b": (
        {
            **_LLAMA3,
            "d_model": 2048,
            "n_layers": 16,
            "n_heads": 32,
            "n_kv_heads": 8,
            "d_ff": 8192,
            "rope_scaling": _LLAMA32_SCALING,
            "tie_embeddings": True,
        },
        "Hugging Face meta-llama/Llama-3.2-1B config.json",
    ),
    "llama-3.2-3b": (
        {
            **_LLAMA3,
            "d_model": 3072,
            "n_layers": 28,
            "n_heads": 24,
            "n_kv_heads": 8,
            "d_ff": 8192,
            "rope_scaling": _LLAMA32_SCALING,
            "tie_embeddings": True,
        },
        "Hugging Face meta-llama/Llama-3.2-3B config.json",
    ),
    "llama-3.1-8b": (
        {
            **_LLAMA3,
            "d_model": 4096,
            "n_layers": 32,
            "n_heads": 32,
            "n_kv_heads": 8,
            "d_ff": 14336,
            "rope_scaling": _LLAMA31_SCALING,
        },
        "Dubey et al. 2024 (The Llama 3 Herd of Models), Table 3; Hugging Face meta-llama/Llama-3.1-8B config.json",
    ),
    "llama-3.1-70b": (
        {
            **_LLAMA3,
            "d_model": 8192,
            "n_layers": 80,
            "n_heads": 64,
            "n_kv_heads": 8,
            "d_ff": 28672,
            "rope_scaling": _LLAMA31_SCALING,
        },
        "Dubey et al. 2024 (The Llama 3 Herd of Models), Table 3; Hugging Face meta-llama/Llama-3.1-70B config.json",
    ),
    "llama-3.1-405b": (
        {
            **_LLAMA3,
            "d_model": 16384,
            "n_layers": 126,
            "n_heads": 128,
            "n_kv_heads": 8,
            "d_ff": 53248,
            "rope_scaling": _LLAMA31_SCALING,
        },
        "Dubey et al. 2024 (The Llama 3 Herd of Models), Table 3; Hugging Face meta-llama/Llama-3.1-405B config.json",
    ),
    "mistral-7b": (
        {
            "vocab_size": 32000,
            "n_positions": 32768,
            "d_model": 4096,
            "n_layers": 32,
            "n_heads": 32,
            "n_kv_heads": 8,
            "d_ff": 14336,
            "sliding_window": 4096,
            "norm_eps": 1e-5,
            "rope_theta": 10000.0,
            "family": "mistral",
        },
        "Jiang et al. 2023 (Mistral 7B), Table 1; Hugging Face mistralai/Mistral-7B-v0.1 config.json",
    ),
    "qwen3-0.6b": (
        {
            **_QWEN3,
            "d_model": 1024,
            "n_layers": 28,
            "n_heads": 16,
            "n_kv_heads": 8,
            "d_ff": 3072,
            "tie_embeddings": True,
        },
        "Qwen3 Technical Report (Yang et al. 2025), Table 1; Hugging Face Qwen/Qwen3-0.6B config.json",
    ),
    "qwen3-8b": (
        {**_QWEN3, "d_model": 4096, "n_layers": 36, "n_heads": 32, "n_kv_heads": 8, "d_ff": 12288},
        "Qwen3 Technical Report (Yang et al. 2025), Table 1; Hugging Face Qwen/Qwen3-8B config.json",
    ),
    "qwen3-32b": (
        {**_QWEN3, "d_model": 5120, "n_layers": 64, "n_heads": 64, "n_kv_heads": 8, "d_ff": 25600},
        "Qwen3 Technical Report (Yang et al. 2025), Table 1; Hugging Face Qwen/Qwen3-32B config.json",
    ),
    "mixtral-8x7b": (
        {
            "vocab_size": 32000,
            "n_positions": 32768,
            "d_model": 4096,
            "n_layers": 32,
            "n_heads": 32,
            "n_kv_heads": 8,
            "d_ff": 14336,
            "norm_eps": 1e-5,
            "rope_theta": 1000000.0,
            "family": "mixtral",
            "n_experts": 8,
            "n_experts_per_token": 2,
        },
        "Jiang et al. 2024 (Mixtral of Experts), Table 1; Hugging Face mistralai/Mixtral-8x7B-v0.1 config.json",
    ),
    "qwen3-30b-a3b": (
        {
            **_QWEN3,
            "d_model": 2048,
            "n_layers": 48,
            "n_heads": 32,
            "n_kv_heads": 4,
            "d_ff": 6144,
            "family": "qwen3_moe",
            "n_experts": 128,
            "n_experts_per_token": 8,
            "d_ff_expert": 768,
            "router_normalize": True,
        },
        "Qwen3 Technical Report (Yang et al. 2025), Table 2; Hugging Face Qwen/Qwen3-30B-A3B config.json",
    ),
    "deepseek-v3": (
        {
            "vocab_size": 129280,
            "n_positions": 163840,
            "d_model": 7168,
            "n_layers": 61,
            "n_heads": 128,
            "d_ff": 18432,
            "norm_eps": 1e-6,
            "rope_theta": 10000.0,
            "rope_scaling": RopeScaling(
                factor=40.0,
                original_n_positions=4096,
                kind="yarn",
                beta_fast=32.0,
                beta_slow=1.0,
                mscale=1.0,
                mscale_all_dim=1.0,
            ),
            "family": "deepseek_v3",
            "n_experts": 256,
            "n_experts_per_token": 8,
            "n_shared_experts": 1,
            "d_ff_expert": 2048,
            "first_k_dense": 3,
            "router_scoring": "sigmoid",
            "router_normalize": True,
            "router_bias": True,
            "routed_scale": 2.5,
            "n_expert_groups": 8,
            "n_groups_per_token": 4,
            "q_lora_rank": 1536,
            "kv_lora_rank": 512,
            "qk_rope_head_dim": 64,
            "qk_nope_head_dim": 128,
            "v_head_dim": 128,
        },
        "DeepSeek-AI 2024 (DeepSeek-V3 Technical Report), sections 2.1 and 4.2-4.3; deepseek-ai/DeepSeek-V3 "
        "inference/configs/config_671B.json and the Hugging Face deepseek-ai/DeepSeek-V3 config.json",
    ),
}
