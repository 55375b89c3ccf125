r"""Model configuration: the handful of numbers that fix a GPT's shape."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from llmarch._validate import check_size

__all__ = ["GPTConfig"]

# The four released GPT-2 sizes (Radford et al. 2019, Table 2; Hugging Face config.json).
_PRESETS: dict[str, dict[str, int]] = {
    "gpt2": {"d_model": 768, "n_layers": 12, "n_heads": 12},
    "gpt2-medium": {"d_model": 1024, "n_layers": 24, "n_heads": 16},
    "gpt2-large": {"d_model": 1280, "n_layers": 36, "n_heads": 20},
    "gpt2-xl": {"d_model": 1600, "n_layers": 48, "n_heads": 25},
}


@dataclass(frozen=True)
class GPTConfig:
    r"""The shape of a decoder-only transformer (GPT).

    Attributes
    ----------
    vocab_size : int
        Number of token ids $V$ (50257 for GPT-2's byte-level BPE).
    n_positions : int
        Longest context $n_\text{ctx}$ the learned position table covers.
    d_model : int
        Width of the residual stream $d$.
    n_layers : int
        Number of transformer blocks $L$.
    n_heads : int
        Attention heads per block $h$; must divide ``d_model``.
    d_ff : int
        Hidden width of the feed-forward network; ``None`` means $4d$.
    layer_norm_eps : float
        $\varepsilon$ of every layer norm (GPT-2: ``1e-5``).
    activation : {"gelu_tanh", "gelu", "relu"}
        Feed-forward nonlinearity (GPT-2: the tanh form of GELU).
    """

    vocab_size: int
    n_positions: int
    d_model: int
    n_layers: int
    n_heads: int
    d_ff: int = field(default=None)  # type: ignore[assignment]  # filled in by __post_init__
    layer_norm_eps: float = 1e-5
    activation: Literal["gelu_tanh", "gelu", "relu"] = "gelu_tanh"

    def __post_init__(self) -> None:
        for name in ("vocab_size", "n_positions", "d_model", "n_layers", "n_heads"):
            check_size(name, getattr(self, name), minimum=1)
        if self.d_ff is None:
            object.__setattr__(self, "d_ff", 4 * self.d_model)
        check_size("d_ff", self.d_ff, minimum=1)
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model must be divisible by n_heads = {self.n_heads}; got d_model = {self.d_model}")
        if self.activation not in ("gelu_tanh", "gelu", "relu"):
            raise ValueError(f"activation must be 'gelu_tanh', 'gelu' or 'relu'; got {self.activation!r}")
        if not self.layer_norm_eps >= 0:
            raise ValueError(f"layer_norm_eps must be a non-negative number; got {self.layer_norm_eps!r}")

    @property
    def d_head(self) -> int:
        """Per-head width $d / h$."""
        return self.d_model // self.n_heads

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> GPTConfig:
        """A released GPT-2 size: ``"gpt2"``, ``"gpt2-medium"``, ``"gpt2-large"`` or ``"gpt2-xl"``.

        All four share ``vocab_size=50257`` and ``n_positions=1024``; keyword ``overrides``
        replace any field (for example ``n_layers=2`` for a quick experiment).
        """
        if name not in _PRESETS:
            raise ValueError(f"name must be one of {sorted(_PRESETS)}; got {name!r}")
        return cls(**{"vocab_size": 50257, "n_positions": 1024, **_PRESETS[name], **overrides})

    @classmethod
    def presets(cls) -> list[str]:
        """The names :meth:`preset` accepts."""
        return list(_PRESETS)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dictionary."""
        return asdict(self)
