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

Family = Literal["gpt2", "llama", "mistral", "qwen3"]


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
    r"""Llama 3.1's rescaling of the rotary frequencies for a longer context.

    Trained at ``original_n_positions`` tokens and then extended, Llama 3.1 leaves the fast
    rotations alone, slows the slow ones down by ``factor``, and blends in between. With
    wavelength $\lambda_i = 2\pi / \theta_i$, $L$ = ``original_n_positions``,
    $\lambda_\text{low} = L / \text{low\_freq\_factor}$ and
    $\lambda_\text{high} = L / \text{high\_freq\_factor}$:

    $$\theta'_i = \begin{cases}
    \theta_i & \lambda_i < \lambda_\text{high} \\
    \theta_i / \text{factor} & \lambda_i > \lambda_\text{low} \\
    (1 - s_i)\,\theta_i / \text{factor} + s_i\,\theta_i & \text{otherwise,}
    \end{cases} \qquad s_i = \frac{L / \lambda_i - \text{low\_freq\_factor}}
    {\text{high\_freq\_factor} - \text{low\_freq\_factor}}$$

    Attributes
    ----------
    factor : float
        How much slower the slowest rotations turn (8 in Llama 3.1, 32 in Llama 3.2).
    original_n_positions : int
        The context the model was first trained at (8192 for Llama 3).
    low_freq_factor, high_freq_factor : float
        Where the blend starts and ends (1 and 4 in Llama 3).
    kind : {"llama3"}
        The rule; Hugging Face's ``rope_type``.
    """

    factor: float
    original_n_positions: int
    low_freq_factor: float = 1.0
    high_freq_factor: float = 4.0
    kind: Literal["llama3"] = "llama3"

    def __post_init__(self) -> None:
        _one_of("kind", self.kind, ("llama3",))
        if _positive_number("factor", self.factor) < 1:
            raise ValueError(f"factor must be at least 1 (rotations only ever slow down); got {self.factor!r}")
        check_size("original_n_positions", self.original_n_positions, minimum=1)
        low = _positive_number("low_freq_factor", self.low_freq_factor)
        if _positive_number("high_freq_factor", self.high_freq_factor) <= low:
            raise ValueError(
                f"high_freq_factor must be greater than low_freq_factor = {low}; got {self.high_freq_factor!r}"
            )

    def to_hf(self) -> dict[str, Any]:
        """The same settings as Hugging Face's ``rope_parameters`` entries."""
        return {
            "rope_type": self.kind,
            "factor": float(self.factor),
            "low_freq_factor": float(self.low_freq_factor),
            "high_freq_factor": float(self.high_freq_factor),
            "original_max_position_embeddings": self.original_n_positions,
        }


class _DerivedInt(int):
    """An int that ``__post_init__`` filled in from other fields (see ``DecoderConfig``)."""


class _DerivedStr(str):
    """A str that ``__post_init__`` filled in from other fields."""


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
    },
    "llama": {
        "norm": "rmsnorm",
        "feed_forward": "swiglu",
        "positions": "rotary",
        "qk_norm": False,
        "sliding_window": None,
    },
    "mistral": {
        "norm": "rmsnorm",
        "feed_forward": "swiglu",
        "positions": "rotary",
        "qk_norm": False,
        "attention_bias": False,
        "mlp_bias": False,
    },
    "qwen3": {
        "norm": "rmsnorm",
        "feed_forward": "swiglu",
        "positions": "rotary",
        "qk_norm": True,
        "sliding_window": None,
        "mlp_bias": False,
    },
}

# Hugging Face's names for GPT-2's activations.
_HF_GPT2_ACTIVATION = {"gelu_tanh": "gelu_new", "gelu": "gelu", "relu": "relu"}


@dataclass(frozen=True)
class DecoderConfig:
    r"""The shape of a decoder-only transformer: GPT-2, Llama, Mistral, Qwen3.

    Build one from a preset ([`preset`][llmarch.DecoderConfig.preset]) or by hand; shrink a
    preset with ``dataclasses.replace(config, d_model=64, n_layers=2, ...)``: the result is
    checked again, and the fields left at their defaults (``n_kv_heads``, ``d_head``,
    ``d_ff``, ``activation``) follow the new sizes, so it is a valid model of the same family.
    (Such a field holds a marked ``int`` or ``str``; to fix one in a new config, pass a plain
    value, ``d_head=int(other.d_head)``.)

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
    family : {"gpt2", "llama", "mistral", "qwen3"} or None
        The Hugging Face model family: it fixes the choices that family's code makes (for
        example Qwen3 always has ``qk_norm``) and gives the checkpoint's tensor names.
        ``None`` allows any combination, without a Hugging Face equivalent.
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

    # Which presets this class offers: every family here, only GPT-2 in GPTConfig.
    _preset_families: ClassVar[tuple[str, ...]] = ("gpt2", "llama", "mistral", "qwen3")

    def __post_init__(self) -> None:
        for name in ("vocab_size", "n_positions", "d_model", "n_layers", "n_heads"):
            check_size(name, getattr(self, name), minimum=1)
        if self.d_model % self.n_heads:
            raise ValueError(f"n_heads must divide d_model = {self.d_model}; got n_heads = {self.n_heads}")
        derived = {
            "n_kv_heads": self.n_heads,
            "d_head": self.d_model // self.n_heads,
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
        if self.positions == "rotary" and self.d_head % 2:
            raise ValueError(f"d_head must be even with rotary positions (pairs rotate); got d_head = {self.d_head}")
        if self.rope_scaling is not None and not isinstance(self.rope_scaling, RopeScaling):
            raise TypeError(f"rope_scaling must be a RopeScaling or None; got {type(self.rope_scaling).__name__}")
        if self.sliding_window is not None:
            check_size("sliding_window", self.sliding_window, minimum=1)
        for name in ("qk_norm", "attention_bias", "mlp_bias", "tie_embeddings"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False; got {getattr(self, name)!r}")
        if self.family is not None:
            self._check_family()

    def _check_family(self) -> None:
        _one_of("family", self.family, (*_FAMILY_RULES, None))
        for name, required in _FAMILY_RULES[self.family].items():
            if getattr(self, name) != required:
                raise ValueError(
                    f"{name}: the {self.family} family has {name} = {required!r}; got {getattr(self, name)!r} "
                    "(family=None allows any combination, without Hugging Face checkpoints)"
                )
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
}
