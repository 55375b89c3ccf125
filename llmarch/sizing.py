r"""Counting parameters exactly, from the configuration alone."""

from __future__ import annotations

from dataclasses import dataclass

from llmarch._validate import check_size
from llmarch.config import GPTConfig

__all__ = ["GPT2_TABLE", "GPT3_TABLE", "PublishedSize", "count_parameters", "parameter_breakdown"]


def parameter_breakdown(config: GPTConfig) -> dict[str, int]:
    r"""Parameters of a GPT-2-style model, by part.

    With $V$ = ``vocab_size``, $n_\text{ctx}$ = ``n_positions``, $d$ = ``d_model``,
    $d_\text{ff}$ = ``d_ff`` and $L$ = ``n_layers``:

    $$\underbrace{Vd}_\text{token embedding} + \underbrace{n_\text{ctx} d}_\text{positions}
    + L\,\underbrace{(4d^2 + 4d)}_\text{attention}
    + L\,\underbrace{(2 d\, d_\text{ff} + d_\text{ff} + d)}_\text{feed-forward}
    + \underbrace{(2L + 1)\, 2d}_\text{layer norms}$$

    The output layer reuses the token embedding (tied weights, as in GPT-2), so it adds
    nothing.

    Returns
    -------
    dict of str to int
        ``token_embedding``, ``position_embedding``, ``attention``, ``feed_forward``,
        ``layer_norms`` and ``output`` (always 0: tied).
    """
    if not isinstance(config, GPTConfig):
        raise TypeError(f"config must be a GPTConfig; got {type(config).__name__}")
    d, d_ff, n_layers = config.d_model, config.d_ff, config.n_layers
    return {
        "token_embedding": config.vocab_size * d,
        "position_embedding": config.n_positions * d,
        "attention": n_layers * (d * 3 * d + 3 * d + d * d + d),  # fused q,k,v projection + output projection
        "feed_forward": n_layers * (d * d_ff + d_ff + d_ff * d + d),
        "layer_norms": (2 * n_layers + 1) * 2 * d,  # two per block and a final one; gain and bias each
        "output": 0,
    }


def count_parameters(config: GPTConfig) -> int:
    """Exact number of parameters of a GPT-2-style model (tied output layer).

    Equals ``sum(p.numel() for p in GPT2LMHeadModel(config).parameters())`` in Hugging Face
    transformers: 124,439,808 for ``GPTConfig.preset("gpt2")``.
    """
    return sum(parameter_breakdown(config).values())


_SUFFIXES = {"K": 10**3, "M": 10**6, "B": 10**9}


@dataclass(frozen=True)
class PublishedSize:
    r"""One row of a published table of model sizes, exactly as printed.

    Attributes
    ----------
    name : str
        The model's name in the paper (for GPT-2: the ``GPTConfig.preset`` name).
    n_params : str
        The parameter count as published, for example ``"125M"`` or ``"175.0B"``.
    n_layers, d_model, n_heads, d_head : int
        The architecture as published; in a consistent row $h \cdot d_\text{head} = d_\text{model}$.
    n_ctx : int
        Context length (learned position embeddings).
    vocab_size : int
        Token vocabulary; 50257 (GPT-2's byte-level BPE) for both GPT-2 and GPT-3.
    """

    name: str
    n_params: str
    n_layers: int
    d_model: int
    n_heads: int
    d_head: int
    n_ctx: int
    vocab_size: int = 50257

    @property
    def published_parameters(self) -> int:
        """``n_params`` as a number: ``"1.3B"`` is 1,300,000,000."""
        number, suffix = self.n_params[:-1], self.n_params[-1]
        if suffix not in _SUFFIXES:
            raise ValueError(f"n_params must end in K, M or B; got {self.n_params!r}")
        return round(float(number) * _SUFFIXES[suffix])

    @property
    def heads_consistent(self) -> bool:
        r"""Whether $h \cdot d_\text{head} = d_\text{model}$ in this row."""
        return self.n_heads * self.d_head == self.d_model

    def config(self, d_model: int | None = None) -> GPTConfig:
        r"""The row as a `GPTConfig` ($d_\text{ff} = 4 d_\text{model}$, as in GPT-2 and GPT-3).

        ``d_model`` replaces the published width (to test another reading of the row). The
        parameter count does not depend on how $d_\text{model}$ is split into heads, so where
        the published ``n_heads`` does not divide the width, the configuration uses one head.
        """
        width = self.d_model if d_model is None else check_size("d_model", d_model, minimum=1)
        heads = self.n_heads if width % self.n_heads == 0 else 1
        return GPTConfig(
            vocab_size=self.vocab_size,
            n_positions=self.n_ctx,
            d_model=width,
            n_layers=self.n_layers,
            n_heads=heads,
        )


GPT2_TABLE: tuple[PublishedSize, ...] = (
    PublishedSize("gpt2", "117M", 12, 768, 12, 64, 1024),
    PublishedSize("gpt2-medium", "345M", 24, 1024, 16, 64, 1024),
    PublishedSize("gpt2-large", "762M", 36, 1280, 20, 64, 1024),
    PublishedSize("gpt2-xl", "1542M", 48, 1600, 25, 64, 1024),
)
"""The four GPT-2 models with the sizes of Radford et al. (2019), Table 2.

Parameters, layers and widths as in the paper; heads of 64 dimensions and the context of
1024 from the released models' configurations. Names are the `GPTConfig.preset` names.
"""

GPT3_TABLE: tuple[PublishedSize, ...] = (
    PublishedSize("GPT-3 Small", "125M", 12, 768, 12, 64, 2048),
    PublishedSize("GPT-3 Medium", "350M", 24, 1024, 16, 64, 2048),
    PublishedSize("GPT-3 Large", "760M", 24, 1536, 16, 96, 2048),
    PublishedSize("GPT-3 XL", "1.3B", 24, 2048, 24, 128, 2048),
    PublishedSize("GPT-3 2.7B", "2.7B", 32, 2560, 32, 80, 2048),
    PublishedSize("GPT-3 6.7B", "6.7B", 32, 4096, 32, 128, 2048),
    PublishedSize("GPT-3 13B", "13.0B", 40, 5140, 40, 128, 2048),
    PublishedSize("GPT-3 175B", "175.0B", 96, 12288, 96, 128, 2048),
)
r"""The eight GPT-3 sizes of Brown et al. (2020), *Language Models are Few-Shot Learners*, Table 2.1, as printed.

Every model has a context of 2048 tokens, $d_\text{ff} = 4 d_\text{model}$ and GPT-2's
vocabulary of 50257. Two rows are inconsistent as printed (``heads_consistent`` is False):
their ``n_heads * d_head`` differs from ``d_model``.
"""
