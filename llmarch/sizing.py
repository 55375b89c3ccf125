r"""Counting parameters and cache bytes exactly, from the configuration alone."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmarch._validate import check_size
from llmarch.config import DecoderConfig, GPTConfig
from llmarch.decoder import parameter_shapes

__all__ = [
    "GPT2_TABLE",
    "GPT3_TABLE",
    "PublishedSize",
    "count_parameters",
    "kv_cache_bytes",
    "parameter_breakdown",
]

# Which part of the model a parameter path belongs to (first match wins).
_PARTS = (
    ("token_embedding", "wte."),
    ("position_embedding", "wpe."),
    ("norms", "ln_"),
    ("attention", ".attn."),
    ("feed_forward", ".mlp."),
    ("output", "lm_head"),
)


def _part(path: str) -> str:
    return next(part for part, marker in _PARTS if marker in path)


def parameter_breakdown(config: DecoderConfig, *, active: bool = False) -> dict[str, int]:
    r"""Parameters of a decoder-only model, by part.

    With $V$ = ``vocab_size``, $d$ = ``d_model``, $L$ = ``n_layers``, $h$ and $h_{kv}$
    the query and key/value heads of width $d_h$, and $d_\text{ff}$ = ``d_ff``, the big
    terms are

    $$\underbrace{Vd}_\text{token embedding}
    + L\,\underbrace{\big(2 d\, h d_h + 2 d\, h_{kv} d_h\big)}_\text{attention}
    + L\,\underbrace{k\, d\, d_\text{ff}}_\text{feed-forward}
    + \underbrace{Vd}_\text{output, if untied}$$

    with $k = 2$ for the GELU MLP and $k = 3$ for SwiGLU; biases, norms ($d$ or $2d$ each,
    $2L + 1$ of them) and GPT-2's learned positions ($n_\text{ctx} d$) add the rest. QK-norm
    is counted with attention. A mixture-of-experts layer's router, routed and shared experts
    are counted with the feed-forward; its router bias (DeepSeek-V3) is a buffer, not a
    parameter, and is not counted.

    ``active=True`` counts what one token uses: every parameter but the routed experts it
    does not go to, so a mixture-of-experts layer counts its router, its shared experts and
    ``n_experts_per_token`` of its routed experts.

    Returns
    -------
    dict of str to int
        ``token_embedding``, ``position_embedding``, ``attention``, ``feed_forward``,
        ``norms`` and ``output`` (0 when tied to the embedding).
    """
    parts = dict.fromkeys(("token_embedding", "position_embedding", "attention", "feed_forward", "norms", "output"), 0)
    if not isinstance(active, bool):
        raise TypeError(f"active must be True or False; got {active!r}")
    for path, shape in parameter_shapes(config).items():
        if active and _unused_expert(path, config):
            continue
        parts[_part(path)] += math.prod(shape)
    return parts


def _unused_expert(path: str, config: DecoderConfig) -> bool:
    """Whether ``path`` belongs to a routed expert beyond the ``n_experts_per_token`` one token uses.

    All experts of a layer have the same size, so which $k$ a token uses does not matter.
    """
    marker = ".mlp.experts."
    if marker not in path or config.n_experts_per_token is None:
        return False
    return int(path.split(marker, 1)[1].split(".", 1)[0]) >= config.n_experts_per_token


def count_parameters(config: DecoderConfig, *, active: bool = False) -> int:
    """Exact number of parameters of a decoder-only model with ``config``; with ``active``, those one token uses.

    Equals ``sum(p.numel() for p in model.parameters())`` of the Hugging Face model built
    from [`to_hf_config()`][llmarch.DecoderConfig.to_hf_config] (the reference tests check
    every preset): 124,439,808 for ``GPTConfig.preset("gpt2")``, whose output layer is
    the token embedding (tied), counted once. Buffers (DeepSeek-V3's router bias) are not
    parameters, and the multi-token-prediction module of DeepSeek-V3's released checkpoint is
    not part of the model.

    ``active=True`` leaves out the routed experts a token does not go to (see
    [`parameter_breakdown`][llmarch.parameter_breakdown]): Mixtral 8x7B has 46.7B parameters
    and uses 12.9B per token. For a dense model it is the total.
    """
    return sum(parameter_breakdown(config, active=active).values())


def kv_cache_bytes(config: DecoderConfig, n_tokens: int, dtype: Any = np.float32) -> int:
    r"""Bytes of the KV cache of one sequence of ``n_tokens`` tokens.

    Every layer keeps a key and a value of $h_{kv}\, d_h$ numbers per token:

    $$2 \cdot L \cdot h_{kv} \cdot d_h \cdot \min(n, w) \cdot \text{bytes per number}$$

    where $w$ is the sliding window ($\infty$ without one): a windowed model, like
    Mistral's rolling buffer and [`KVCache`][llmarch.KVCache], keeps only the last $w$
    tokens. Grouped-query attention shrinks it by $h / h_{kv}$ against multi-head attention.

    Latent attention ([`LatentCache`][llmarch.LatentCache]) keeps the latent and the shared
    rotary key instead, $d_c + d^R_h$ numbers per token and layer (DeepSeek-V2's definition):

    $$L \cdot (\text{kv\_lora\_rank} + \text{qk\_rope\_head\_dim}) \cdot n \cdot \text{bytes per number}$$

    Parameters
    ----------
    config : DecoderConfig
    n_tokens : int
        Tokens in the sequence so far (no batch axis).
    dtype : numpy dtype, default float32
        What each number is stored as (``np.float16`` for the 2 bytes of bf16/fp16 serving).
    """
    if not isinstance(config, DecoderConfig):
        raise TypeError(f"config must be a DecoderConfig; got {type(config).__name__}")
    n_tokens = check_size("n_tokens", n_tokens)
    try:
        itemsize = np.dtype(dtype).itemsize
    except TypeError:
        raise TypeError(f"dtype must be a NumPy dtype such as np.float16; got {dtype!r}") from None
    kept = n_tokens if config.sliding_window is None else min(n_tokens, config.sliding_window)
    if config.kv_lora_rank is not None and config.qk_rope_head_dim is not None:
        return config.n_layers * (config.kv_lora_rank + config.qk_rope_head_dim) * kept * itemsize
    return 2 * config.n_layers * config.n_kv_heads * config.d_head * kept * itemsize


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
