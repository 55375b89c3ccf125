r"""Hugging Face checkpoints: one table of tensor names per model family.

A checkpoint is a mapping from tensor names to arrays. Each family names and lays out the
same weights its own way: GPT-2 stores its linear layers as ``Conv1D`` (``(in, out)``,
used as ``x @ W``, our convention) and fuses $W^Q$, $W^K$, $W^V$ into one ``c_attn``;
Llama, Mistral and Qwen3 use ``nn.Linear`` (``(out, in)``, used as ``x @ W.T``) with one
matrix per projection. A row of a family's table says which Hugging Face tensor holds
which of our parameters (see [`parameter_shapes`][llmarch.parameter_shapes]), joined
along the last axis, and whether it is stored transposed. Loading, saving and the shape
checks all read the same table; a row whose parameters a config lacks (biases, QK-norm,
an untied output layer, an expert in a dense layer) is simply not part of that model.

Mixtures of experts are stored two ways. The installed ``transformers`` (5.x) keeps each
layer's experts as one stacked tensor (``experts.gate_up_proj`` of shape
``(n_experts, 2 d_ff_expert, d_model)``), and released checkpoint files keep one tensor per
expert (``experts.{j}.gate_proj.weight``, Mixtral's ``block_sparse_moe.experts.{j}.w1.weight``);
transformers converts the second into the first when it loads a file. A family's table
therefore has rows that *stack* a parameter of every expert (``{j}`` in our paths only), and
a second table, ``released``, with the per-expert names (``{j}`` in both), which
[`from_hf_state_dict`][llmarch.checkpoint.from_hf_state_dict] accepts as well.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array
from llmarch.config import DecoderConfig
from llmarch.decoder import parameter_shapes

__all__ = ["FAMILIES", "Family", "Tensor", "from_hf_state_dict", "hf_shapes", "read_safetensors", "to_hf_state_dict"]

Array = NDArray[np.floating[Any]]


@dataclass(frozen=True)
class Tensor:
    """One row of a family's table.

    Attributes
    ----------
    hf : str
        The Hugging Face name, without the model prefix; ``{i}`` stands for the layer and
        ``{j}`` for an expert.
    ours : tuple of str
        Our parameter paths, relative to block ``i`` when ``hf`` has ``{i}``; several are
        concatenated along their last axis into the one tensor. A ``{j}`` in our paths but
        not in ``hf`` stacks that parameter of every expert ``j`` along a new first axis.
    transpose : bool
        The tensor is stored transposed (``nn.Linear``'s ``(out, in)``; for a stack, each
        expert's matrix is).
    """

    hf: str
    ours: tuple[str, ...]
    transpose: bool = False


@dataclass(frozen=True)
class Family:
    """How one Hugging Face model family names its tensors.

    Attributes
    ----------
    prefix : str
        What the ``...ForCausalLM`` / ``...LMHeadModel`` class puts before every name but
        ``lm_head.weight`` (``"transformer."``, ``"model."``).
    tensors : tuple of Tensor
        Every tensor a model of the family can have, as the installed ``transformers``'
        ``state_dict()`` names them (and [`to_hf_state_dict`][llmarch.checkpoint.to_hf_state_dict] writes).
    ignored : str
        A regular expression of buffers that hold no weights (causal masks, rotary tables
        of older checkpoints).
    released : tuple of Tensor
        The same tensors as released checkpoint files name them, where these differ (one
        tensor per expert); empty when they do not.
    """

    prefix: str
    tensors: tuple[Tensor, ...]
    ignored: str = r"$^"
    released: tuple[Tensor, ...] = ()


def _linear(hf: str, ours: str) -> Tensor:
    return Tensor(hf, (ours,), transpose=True)


_GPT2 = Family(
    prefix="transformer.",
    tensors=(
        Tensor("wte.weight", ("wte.weight",)),
        Tensor("wpe.weight", ("wpe.weight",)),
        Tensor("h.{i}.ln_1.weight", ("ln_1.gamma",)),
        Tensor("h.{i}.ln_1.bias", ("ln_1.beta",)),
        Tensor("h.{i}.attn.c_attn.weight", ("attn.w_q", "attn.w_k", "attn.w_v")),
        Tensor("h.{i}.attn.c_attn.bias", ("attn.b_q", "attn.b_k", "attn.b_v")),
        Tensor("h.{i}.attn.c_proj.weight", ("attn.w_o",)),
        Tensor("h.{i}.attn.c_proj.bias", ("attn.b_o",)),
        Tensor("h.{i}.ln_2.weight", ("ln_2.gamma",)),
        Tensor("h.{i}.ln_2.bias", ("ln_2.beta",)),
        Tensor("h.{i}.mlp.c_fc.weight", ("mlp.w1",)),
        Tensor("h.{i}.mlp.c_fc.bias", ("mlp.b1",)),
        Tensor("h.{i}.mlp.c_proj.weight", ("mlp.w2",)),
        Tensor("h.{i}.mlp.c_proj.bias", ("mlp.b2",)),
        Tensor("ln_f.weight", ("ln_f.gamma",)),
        Tensor("ln_f.bias", ("ln_f.beta",)),
        Tensor("lm_head.weight", ("lm_head",)),
    ),
    ignored=r"h\.\d+\.attn\.(bias|masked_bias)",
)

# Llama, Mistral and Qwen3 share one layout; Qwen3 adds QK-norm, Llama and Qwen3 allow biases.
_LLAMA = Family(
    prefix="model.",
    tensors=(
        Tensor("embed_tokens.weight", ("wte.weight",)),
        Tensor("layers.{i}.input_layernorm.weight", ("ln_1.gamma",)),
        *(_linear(f"layers.{{i}}.self_attn.{x}_proj.weight", f"attn.w_{x}") for x in "qkvo"),
        *(Tensor(f"layers.{{i}}.self_attn.{x}_proj.bias", (f"attn.b_{x}",)) for x in "qkvo"),
        Tensor("layers.{i}.self_attn.q_norm.weight", ("attn.q_norm.gamma",)),
        Tensor("layers.{i}.self_attn.k_norm.weight", ("attn.k_norm.gamma",)),
        Tensor("layers.{i}.post_attention_layernorm.weight", ("ln_2.gamma",)),
        *(_linear(f"layers.{{i}}.mlp.{x}_proj.weight", f"mlp.w_{x}") for x in ("gate", "up", "down")),
        *(Tensor(f"layers.{{i}}.mlp.{x}_proj.bias", (f"mlp.b_{x}",)) for x in ("gate", "up", "down")),
        Tensor("norm.weight", ("ln_f.gamma",)),
        Tensor("lm_head.weight", ("lm_head",)),
    ),
    ignored=r"(layers\.\d+\.self_attn\.)?rotary_emb\.inv_freq",
)

# The attention, norms, embedding and output of the Llama layout, without its feed-forward rows.
_LLAMA_ATTENTION = tuple(t for t in _LLAMA.tensors if ".mlp." not in t.hf)
_DENSE_MLP = tuple(t for t in _LLAMA.tensors if ".mlp." in t.hf)
_ROUTER = _linear("layers.{i}.mlp.gate.weight", "mlp.router.weight")


def _stacked_experts(hf: str) -> tuple[Tensor, ...]:
    """transformers 5's experts: gate and up of every expert in one tensor, down in another, under ``hf``."""
    return (
        Tensor(f"{hf}.gate_up_proj", ("mlp.experts.{j}.w_gate", "mlp.experts.{j}.w_up"), transpose=True),
        Tensor(f"{hf}.down_proj", ("mlp.experts.{j}.w_down",), transpose=True),
    )


def _expert_files(hf: str, names: tuple[str, str, str]) -> tuple[Tensor, ...]:
    """Released files' experts: one tensor per expert and matrix, ``{hf}.{j}.{name}.weight``."""
    ours = ("w_gate", "w_up", "w_down")
    pairs = zip(names, ours, strict=True)
    return tuple(_linear(f"{hf}.{{j}}.{name}.weight", f"mlp.experts.{{j}}.{w}") for name, w in pairs)


_MIXTRAL = Family(
    prefix="model.",
    tensors=(*_LLAMA_ATTENTION, _ROUTER, *_stacked_experts("layers.{i}.mlp.experts")),
    ignored=_LLAMA.ignored,
    released=(
        *_LLAMA_ATTENTION,
        _linear("layers.{i}.block_sparse_moe.gate.weight", "mlp.router.weight"),
        *_expert_files("layers.{i}.block_sparse_moe.experts", ("w1", "w3", "w2")),
    ),
)

# Qwen3-MoE and DeepSeek-V3 name their experts alike; DeepSeek adds the router bias, shared
# experts, and its own latent attention (kv_a_proj_with_mqa holds W^DKV and W^KR).
_MOE_FEED_FORWARD = (
    *_DENSE_MLP,  # the dense layers (mlp_only_layers, first_k_dense_replace)
    _ROUTER,
    Tensor("layers.{i}.mlp.gate.e_score_correction_bias", ("mlp.router.bias",)),
    *(_linear(f"layers.{{i}}.mlp.shared_experts.{x}_proj.weight", f"mlp.shared.w_{x}") for x in ("gate", "up", "down")),
)
_PER_EXPERT = _expert_files("layers.{i}.mlp.experts", ("gate_proj", "up_proj", "down_proj"))
_QWEN3_MOE = Family(
    prefix="model.",
    tensors=(*_LLAMA_ATTENTION, *_MOE_FEED_FORWARD, *_stacked_experts("layers.{i}.mlp.experts")),
    ignored=_LLAMA.ignored,
    released=(*_LLAMA_ATTENTION, *_MOE_FEED_FORWARD, *_PER_EXPERT),
)
_LATENT_ATTENTION = (
    Tensor("embed_tokens.weight", ("wte.weight",)),
    Tensor("layers.{i}.input_layernorm.weight", ("ln_1.gamma",)),
    _linear("layers.{i}.self_attn.q_proj.weight", "attn.w_q"),
    _linear("layers.{i}.self_attn.q_a_proj.weight", "attn.w_dq"),
    Tensor("layers.{i}.self_attn.q_a_layernorm.weight", ("attn.q_latent_norm.gamma",)),
    _linear("layers.{i}.self_attn.q_b_proj.weight", "attn.w_uq"),
    Tensor("layers.{i}.self_attn.kv_a_proj_with_mqa.weight", ("attn.w_dkv", "attn.w_kr"), transpose=True),
    Tensor("layers.{i}.self_attn.kv_a_layernorm.weight", ("attn.kv_latent_norm.gamma",)),
    _linear("layers.{i}.self_attn.kv_b_proj.weight", "attn.w_ukv"),
    _linear("layers.{i}.self_attn.o_proj.weight", "attn.w_o"),
    Tensor("layers.{i}.post_attention_layernorm.weight", ("ln_2.gamma",)),
    Tensor("norm.weight", ("ln_f.gamma",)),
    Tensor("lm_head.weight", ("lm_head",)),
)
_DEEPSEEK_V3 = Family(
    prefix="model.",
    tensors=(*_LATENT_ATTENTION, *_MOE_FEED_FORWARD, *_stacked_experts("layers.{i}.mlp.experts")),
    ignored=_LLAMA.ignored,
    released=(*_LATENT_ATTENTION, *_MOE_FEED_FORWARD, *_PER_EXPERT),
)

FAMILIES: dict[str, Family] = {
    "gpt2": _GPT2,
    "llama": _LLAMA,
    "mistral": _LLAMA,
    "qwen3": _LLAMA,
    "mixtral": _MIXTRAL,
    "qwen3_moe": _QWEN3_MOE,
    "deepseek_v3": _DEEPSEEK_V3,
}
"""The table of each Hugging Face family the [`Decoder`][llmarch.Decoder] loads and saves."""

_LM_HEAD = "lm_head.weight"


def _family(config: DecoderConfig) -> Family:
    if not isinstance(config, DecoderConfig):
        raise TypeError(f"config must be a DecoderConfig; got {type(config).__name__}")
    if config.family is None:
        raise ValueError("config: family=None has no Hugging Face checkpoint names")
    return FAMILIES[config.family]


@dataclass(frozen=True)
class _Row:
    """One tensor of a model: its Hugging Face name, our paths (per expert for a stack), transposed or not."""

    name: str
    ours: list[list[str]]  # one list of paths; for a stack, one list per expert
    transpose: bool
    stacked: bool


def _rows(config: DecoderConfig, table: tuple[Tensor, ...] | None = None) -> list[_Row]:
    """The tensors of a model with ``config``, in table order (``table``: the family's own by default)."""
    shapes = parameter_shapes(config, buffers=True)
    experts = range(config.n_experts or 0)
    rows = []
    for tensor in _family(config).tensors if table is None else table:
        stacked = "{j}" in "".join(tensor.ours) and "{j}" not in tensor.hf
        for i in range(config.n_layers) if "{i}" in tensor.hf else [None]:
            for j in experts if "{j}" in tensor.hf else [None]:
                groups = [
                    [path.format(j=e) if i is None else f"blocks.{i}.{path.format(j=e)}" for path in tensor.ours]
                    for e in (experts if stacked else [j])
                ]
                if groups and all(path in shapes for group in groups for path in group):
                    rows.append(_Row(tensor.hf.format(i=i, j=j), groups, tensor.transpose, stacked))
    return rows


def _shape(row: _Row, shapes: Mapping[str, tuple[int, ...]]) -> tuple[int, ...]:
    *lead, _ = shapes[row.ours[0][0]]
    matrix = (*lead, sum(shapes[path][-1] for path in row.ours[0]))
    matrix = matrix[::-1] if row.transpose else matrix
    return (len(row.ours), *matrix) if row.stacked else matrix


def hf_shapes(config: DecoderConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor of the Hugging Face checkpoint of ``config`` (without prefix) and its shape.

    The names of the installed ``transformers``' ``state_dict()``, stacked experts included;
    buffers (DeepSeek-V3's ``e_score_correction_bias``) are tensors of the checkpoint too.
    """
    shapes = parameter_shapes(config, buffers=True)
    return {row.name: _shape(row, shapes) for row in _rows(config)}


def to_hf_state_dict(
    params: Mapping[str, Array], config: DecoderConfig, prefix: bool = False, *, released: bool = False
) -> dict[str, Array]:
    """Our parameters (keyed as [`parameter_shapes`][llmarch.parameter_shapes]) under Hugging Face names.

    ``prefix=False`` gives the base model's names, plus ``lm_head.weight`` when the output
    layer is untied; ``prefix=True`` gives the causal-LM class's names (the family prefix
    before each name) and always ``lm_head.weight`` (the embedding itself when tied).
    ``released=True`` names the experts one by one, as released checkpoint files do
    (``Family.released``), instead of the installed ``transformers``' stacked tensors.
    """
    family = _family(config)
    state: dict[str, Array] = {}
    for row in _rows(config, family.released if released and family.released else None):
        matrices = []
        for group in row.ours:
            arrays = [params[path] for path in group]
            tensor = arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=-1)
            matrices.append(np.swapaxes(tensor, -1, -2) if row.transpose else tensor)
        tensor = np.stack(matrices) if row.stacked else matrices[0]
        state[row.name] = np.ascontiguousarray(tensor) if row.transpose or row.stacked else tensor
    if not prefix:
        return state
    out = {(name if name == _LM_HEAD else family.prefix + name): tensor for name, tensor in state.items()}
    if config.tie_embeddings:
        out[_LM_HEAD] = params["wte.weight"]
    return out


def _guess_family(names: list[str]) -> str:
    for family, table in FAMILIES.items():
        known = {t.hf.replace("{i}", "0").replace("{j}", "0") for t in (*table.tensors, *table.released)}
        if any(re.sub(r"\.\d+\.", ".0.", name) in known for name in names):
            return family
    return "unknown"


def from_hf_state_dict(state: Mapping[str, ArrayLike], config: DecoderConfig) -> dict[str, Array]:
    """Our parameters from a Hugging Face checkpoint's tensors; all checked before any is returned.

    Parameters
    ----------
    state : mapping of str to array_like
        The tensors as NumPy arrays (or anything ``numpy.asarray`` accepts, such as CPU
        torch tensors), with or without the family prefix (``transformer.`` for GPT-2,
        ``model.`` for the others). Buffers without weights are ignored; a tied
        ``lm_head.weight``, if present, must equal the embedding. Experts may come stacked
        (the installed ``transformers``' ``state_dict()``) or one tensor per expert (released
        files, ``Family.released``), not mixed.
    config : DecoderConfig
        The checkpoint's shape and family.

    Returns
    -------
    dict of str to numpy.ndarray
        Keyed as [`parameter_shapes`][llmarch.parameter_shapes]; float32 if every tensor
        is float32, else float64.

    Raises
    ------
    ValueError
        Naming the first offending tensor: one that is missing, one whose shape does not
        match ``config``, one the model has no place for (and which family its names look
        like), or an untied ``lm_head.weight`` where the output layer is tied.
    """
    family = _family(config)
    if not isinstance(state, Mapping):
        raise TypeError(f"state must be a mapping of tensor names to arrays; got {type(state).__name__}")
    tensors = {(k[len(family.prefix) :] if k.startswith(family.prefix) else k): v for k, v in state.items()}
    table = family.tensors
    if family.released and any(_named_in(name, family.released, family.tensors) for name in tensors):
        table = family.released  # a released file's per-expert names
    shapes = parameter_shapes(config, buffers=True)
    rows = _rows(config, table)
    expected = {row.name: _shape(row, shapes) for row in rows}
    allowed = set(expected) | ({_LM_HEAD} if config.tie_embeddings else set())
    unknown = sorted(k for k in tensors if k not in allowed and not re.fullmatch(family.ignored, k))
    if unknown:
        raise ValueError(
            f"state[{unknown[0]!r}]: a {config.family} model with this config has no such tensor "
            f"({len(unknown)} unexpected in all; their names look like {_guess_family(unknown)}; "
            f"n_layers = {config.n_layers})"
        )
    arrays: dict[str, Array] = {}
    for name, shape in expected.items():
        if name not in tensors:
            raise ValueError(f"state is missing the tensor {name!r} (or {family.prefix + name!r})")
        array = as_float_array(f"state[{name!r}]", tensors[name])
        if array.shape != shape:
            raise ValueError(f"state[{name!r}] must have shape {shape} for this config; got {array.shape}")
        arrays[name] = array
    dtype = np.float32 if all(a.dtype == np.float32 for a in arrays.values()) else np.float64
    params: dict[str, Array] = {}
    for row in rows:
        tensor = arrays[row.name].astype(dtype, copy=False)
        for group, matrix in zip(row.ours, tensor if row.stacked else [tensor], strict=True):
            matrix = np.swapaxes(matrix, -1, -2) if row.transpose else matrix
            cuts = np.cumsum([shapes[path][-1] for path in group])[:-1]
            for path, part in zip(group, np.split(matrix, cuts, axis=-1), strict=True):
                params[path] = np.ascontiguousarray(part)
    if config.tie_embeddings and _LM_HEAD in tensors:
        if not np.array_equal(np.asarray(tensors[_LM_HEAD]), params["wte.weight"]):
            raise ValueError(
                f"state[{_LM_HEAD!r}] must equal the token embedding: this config ties its output layer to it"
            )
    return params


def _named_in(name: str, table: tuple[Tensor, ...], other: tuple[Tensor, ...]) -> bool:
    """Whether ``name`` has the pattern of a row of ``table`` that ``other`` does not have."""
    generic = re.sub(r"\.\d+(?=\.)", ".0", name)
    own = {t.hf.replace("{i}", "0").replace("{j}", "0") for t in table}
    return generic in own - {t.hf.replace("{i}", "0").replace("{j}", "0") for t in other}


def read_safetensors(path: str | os.PathLike[str]) -> dict[str, NDArray[Any]]:
    """The tensors of a ``.safetensors`` file as NumPy arrays (needs ``pip install "llmarch[weights]"``).

    Raises
    ------
    ImportError
        If ``safetensors`` is not installed (the message says how to install it).
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        If the file is not a readable safetensors file.
    """
    try:
        from safetensors.numpy import load_file
    except ImportError as exc:
        raise ImportError(
            "reading .safetensors needs the safetensors package: pip install 'llmarch[weights]' "
            "(or pip install safetensors)"
        ) from exc
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike naming a .safetensors file; got {type(path).__name__}")
    if not Path(path).is_file():
        raise FileNotFoundError(f"path must be a .safetensors file; no such file: {os.fspath(path)!r}")
    try:
        return load_file(path)
    except Exception as exc:  # safetensors raises its own error type for damaged files
        raise ValueError(f"path: {os.fspath(path)!r} is not a readable .safetensors file ({exc})") from None
