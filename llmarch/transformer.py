r"""The encoder-decoder transformer of Vaswani et al. 2017 ("Attention Is All You Need").

The encoder reads the whole source sentence with self-attention; the decoder writes the
target one token at a time, attending to what it has written so far (masked
self-attention) and to the encoder's output (cross-attention):

$$\text{memory} = \mathrm{Encoder}(\text{src}), \qquad
\text{logits} = \mathrm{Decoder}(\text{tgt}, \text{memory})\, E^\top$$

Every layer wraps each sublayer in a residual connection with a layer norm, either
post-LN (the paper) or pre-LN (GPT-2 and most later models), the two forms
[`post_ln_residual`][llmarch.post_ln_residual] and [`pre_ln_residual`][llmarch.pre_ln_residual]
teach; each layer's code writes its form out.

The parts are named as in GPT and the decoder-only models (and in GPT-2's checkpoints and
nanoGPT): the feed-forward network of a layer is ``mlp``, the token embedding ``wte``.

Arguments are checked once, where they come in (a layer's or the model's ``__call__``,
``encode``, ``decode``); the layers of a stack then run on the checked arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, as_generator, check_divisible, check_number, check_size
from llmarch.attention import MultiHeadAttention
from llmarch.embedding import TokenEmbedding, check_token_ids
from llmarch.layers import ACTIVATIONS, Activation, FeedForward, LayerNorm
from llmarch.masks import causal_mask
from llmarch.positional import sinusoidal_positional_encoding

__all__ = ["DecoderLayer", "EncoderLayer", "Transformer", "TransformerConfig"]

Array = NDArray[np.floating[Any]]
Mask = NDArray[np.bool_]
Norm = Literal["pre", "post"]


def _check_norm(norm: object) -> None:
    if norm not in ("pre", "post"):
        raise ValueError(f"norm must be 'pre' (pre-LN, GPT-2) or 'post' (post-LN, Vaswani et al.); got {norm!r}")


def _boolean(name: str, mask: ArrayLike, n_q: int, n_k: int) -> NDArray[np.bool_]:
    """Check a mask for ``(..., n_q, n_k)`` scores: boolean, its last two axes broadcasting to ``(n_q, n_k)``."""
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{name} must be a boolean array (True = may attend); got dtype {mask.dtype}")
    if mask.ndim < 2 or any(m not in (1, n) for m, n in zip(mask.shape[-2:], (n_q, n_k), strict=True)):
        raise ValueError(f"{name} must broadcast to (..., n_q, n_k) = (..., {n_q}, {n_k}); got shape {mask.shape}")
    return mask


def _head_axis(mask: Mask) -> Mask:
    """A mask for ``(..., n_q, n_k)`` scores with a head axis: ``(..., 1, n_q, n_k)``."""
    return mask[..., None, :, :] if mask.ndim >= 3 else mask


def _per_head(name: str, mask: ArrayLike | None, n_q: int, n_k: int) -> Mask | None:
    """Check a mask for ``(..., n_q, n_k)`` scores and give it a head axis."""
    return None if mask is None else _head_axis(_boolean(name, mask, n_q, n_k))


def _causal(name: str, mask: ArrayLike | None, n: int) -> Mask:
    """The decoder's self-attention mask: causal, and ``mask`` (target padding) too where given."""
    causal = causal_mask(n)  # (n, n)
    return causal if mask is None else _head_axis(causal & _boolean(name, mask, n, n))  # both must allow


def _stream(name: str, x: ArrayLike, d_model: int, layout: str) -> Array:
    """Check a residual stream ``(..., n, d_model)``."""
    x = as_float_array(name, x, min_ndim=2, layout=layout)
    if x.shape[-1] != d_model:
        raise ValueError(f"{name}: last dimension must be d_model = {d_model}; got shape {x.shape}")
    if x.shape[-2] == 0:
        raise ValueError(f"{name} must hold at least one position {layout}; got shape {x.shape}")
    return x


@dataclass
class EncoderLayer:
    r"""One encoder layer: self-attention, then a feed-forward network, each in a residual block.

    Post-LN (``norm="post"``, the paper):

    $$h = \mathrm{LN}_1(x + \mathrm{MHA}(x)), \qquad y = \mathrm{LN}_2(h + \mathrm{FFN}(h))$$

    Pre-LN (``norm="pre"``): $h = x + \mathrm{MHA}(\mathrm{LN}_1(x))$,
    $y = h + \mathrm{FFN}(\mathrm{LN}_2(h))$.

    Attributes
    ----------
    self_attn : MultiHeadAttention
    mlp : FeedForward
        The feed-forward network (named as in GPT).
    ln_1, ln_2 : LayerNorm
        The norms around the attention and the feed-forward sublayer.
    norm : {"post", "pre"}
        Where the norms go: [`post_ln_residual`][llmarch.post_ln_residual] or
        [`pre_ln_residual`][llmarch.pre_ln_residual].
    """

    self_attn: MultiHeadAttention
    mlp: FeedForward
    ln_1: LayerNorm
    ln_2: LayerNorm
    norm: Norm = "post"

    def __post_init__(self) -> None:
        _check_norm(self.norm)

    @classmethod
    def init(
        cls,
        d_model: int,
        n_heads: int,
        d_ff: int,
        rng: np.random.Generator | None = None,
        *,
        norm: Norm = "post",
        activation: Activation = "relu",
        eps: float = 1e-5,
        std: float = 0.02,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> EncoderLayer:
        """Random weights from $\\mathcal{N}(0, \\mathrm{std}^2)$, zero biases, identity norms."""
        _check_norm(norm)
        rng = as_generator("rng", rng)
        return cls(
            MultiHeadAttention.init(d_model, n_heads, rng, std=std, dtype=dtype),
            FeedForward.init(d_model, d_ff, rng, activation=activation, std=std, dtype=dtype),
            LayerNorm.init(d_model, eps=eps, dtype=dtype),
            LayerNorm.init(d_model, eps=eps, dtype=dtype),
            norm,
        )

    def __call__(self, x: ArrayLike, mask: ArrayLike | None = None) -> Array:
        """Encode ``x`` of shape ``(..., n, d_model)``; returns the same shape.

        ``mask`` (bool, True = may attend) broadcasts to ``(..., n, n)`` and is shared by
        every head; for a padded batch pass ``padding_mask(lengths, n)``.
        """
        x = _stream("x", x, self.self_attn.d_model, "(..., n, d_model)")
        return self._forward(x, _per_head("mask", mask, x.shape[-2], x.shape[-2]))

    def _forward(self, x: Array, mask: Mask | None) -> Array:
        """``__call__`` on arguments already checked (``mask`` with its head axis): what a stack runs."""
        if self.norm == "pre":
            h = x + self.self_attn(self.ln_1(x), mask=mask)
            return h + self.mlp(self.ln_2(h))
        h = self.ln_1(x + self.self_attn(x, mask=mask))
        return self.ln_2(h + self.mlp(h))


@dataclass
class DecoderLayer:
    r"""One decoder layer: masked self-attention, cross-attention to the encoder, feed-forward.

    Post-LN (``norm="post"``, the paper), with $m$ the encoder output ("memory"):

    $$h_1 = \mathrm{LN}_1(x + \mathrm{MHA}_\text{causal}(x)), \quad
    h_2 = \mathrm{LN}_2(h_1 + \mathrm{MHA}(h_1, m)), \quad
    y = \mathrm{LN}_3(h_2 + \mathrm{FFN}(h_2))$$

    The self-attention is always causal (position $i$ sees positions $\le i$); a
    ``self_mask`` such as target padding is combined with it by logical *and*.

    Attributes
    ----------
    self_attn : MultiHeadAttention
        Masked self-attention over the target.
    cross_attn : MultiHeadAttention
        Queries from the target, keys and values from the memory.
    mlp : FeedForward
        The feed-forward network (named as in GPT).
    ln_1, ln_2, ln_3 : LayerNorm
        The norms around the three sublayers.
    norm : {"post", "pre"}
        Where the norms go.
    """

    self_attn: MultiHeadAttention
    cross_attn: MultiHeadAttention
    mlp: FeedForward
    ln_1: LayerNorm
    ln_2: LayerNorm
    ln_3: LayerNorm
    norm: Norm = "post"

    def __post_init__(self) -> None:
        _check_norm(self.norm)

    @classmethod
    def init(
        cls,
        d_model: int,
        n_heads: int,
        d_ff: int,
        rng: np.random.Generator | None = None,
        *,
        norm: Norm = "post",
        activation: Activation = "relu",
        eps: float = 1e-5,
        std: float = 0.02,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> DecoderLayer:
        """Random weights from $\\mathcal{N}(0, \\mathrm{std}^2)$, zero biases, identity norms."""
        _check_norm(norm)
        rng = as_generator("rng", rng)
        return cls(
            MultiHeadAttention.init(d_model, n_heads, rng, std=std, dtype=dtype),
            MultiHeadAttention.init(d_model, n_heads, rng, std=std, dtype=dtype),
            FeedForward.init(d_model, d_ff, rng, activation=activation, std=std, dtype=dtype),
            *(LayerNorm.init(d_model, eps=eps, dtype=dtype) for _ in range(3)),
            norm,
        )

    def __call__(
        self,
        x: ArrayLike,
        memory: ArrayLike,
        *,
        self_mask: ArrayLike | None = None,
        memory_mask: ArrayLike | None = None,
    ) -> Array:
        """Decode ``x`` of shape ``(..., n_tgt, d_model)`` against ``memory`` ``(..., n_src, d_model)``.

        Parameters
        ----------
        x : array_like, shape (..., n_tgt, d_model)
            The target so far.
        memory : array_like, shape (..., n_src, d_model)
            The encoder's output.
        self_mask : array_like of bool, optional
            Broadcastable to ``(..., n_tgt, n_tgt)``, for example target padding; combined
            with the causal mask by ``&``.
        memory_mask : array_like of bool, optional
            Broadcastable to ``(..., n_tgt, n_src)``, for example source padding.

        Returns
        -------
        numpy.ndarray, shape (..., n_tgt, d_model)
        """
        d_model = self.self_attn.d_model
        x = _stream("x", x, d_model, "(..., n_tgt, d_model)")
        memory = _stream("memory", memory, d_model, "(..., n_src, d_model)")
        causal = _causal("self_mask", self_mask, x.shape[-2])
        return self._forward(x, memory, causal, _per_head("memory_mask", memory_mask, x.shape[-2], memory.shape[-2]))

    def _forward(self, x: Array, memory: Array, self_mask: Mask, memory_mask: Mask | None) -> Array:
        """``__call__`` on arguments already checked, ``self_mask`` causal: what a stack runs."""
        if self.norm == "pre":
            h1 = x + self.self_attn(self.ln_1(x), mask=self_mask)
            h2 = h1 + self.cross_attn(self.ln_2(h1), memory, mask=memory_mask)
            return h2 + self.mlp(self.ln_3(h2))
        h1 = self.ln_1(x + self.self_attn(x, mask=self_mask))
        h2 = self.ln_2(h1 + self.cross_attn(h1, memory, mask=memory_mask))
        return self.ln_3(h2 + self.mlp(h2))


@dataclass(frozen=True)
class TransformerConfig:
    r"""The shape of an encoder-decoder transformer; the defaults are the paper's base model.

    Vaswani et al. 2017, Table 3, "base": $d_\text{model} = 512$, $h = 8$,
    $d_\text{ff} = 2048$, $N = 6$ encoder and 6 decoder layers, post-LN, ReLU, and a
    shared source/target vocabulary of about 37,000 byte-pair tokens (sec. 5.1).
    [`base`][llmarch.TransformerConfig.base] gives it; [`tiny`][llmarch.TransformerConfig.tiny]
    gives a toy size for examples.

    Attributes
    ----------
    vocab_size : int
        Shared source and target vocabulary $V$.
    d_model : int
        Width of every layer.
    n_heads : int
        Attention heads $h$; must divide ``d_model``.
    d_ff : int
        Hidden width of the feed-forward networks.
    n_layers : int
        $N$: layers in the encoder, and again in the decoder.
    norm : {"post", "pre"}
        Residual placement of the layer norms.
    activation : {"relu", "gelu", "gelu_tanh"}
        Feed-forward nonlinearity.
    layer_norm_eps : float
        $\varepsilon$ of every layer norm.
    """

    vocab_size: int = 37000
    d_model: int = 512
    n_heads: int = 8
    d_ff: int = 2048
    n_layers: int = 6
    norm: Norm = "post"
    activation: Activation = "relu"
    layer_norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_heads", "d_ff", "n_layers"):
            check_size(name, getattr(self, name), minimum=1)
        check_divisible("d_model", self.d_model, "n_heads", self.n_heads)
        _check_norm(self.norm)
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {self.activation!r}")
        check_number("layer_norm_eps", self.layer_norm_eps, minimum=0)

    @classmethod
    def base(cls, **overrides: Any) -> TransformerConfig:
        """The paper's base model; keyword ``overrides`` replace any field."""
        return cls(**overrides)

    @classmethod
    def tiny(cls, vocab_size: int, **overrides: Any) -> TransformerConfig:
        """A toy model for examples: $d_\\text{model} = 32$, 4 heads, $d_\\text{ff} = 64$, 2 + 2 layers."""
        return cls(**{"vocab_size": vocab_size, "d_model": 32, "n_heads": 4, "d_ff": 64, "n_layers": 2, **overrides})


@dataclass
class Transformer:
    r"""The encoder-decoder transformer (Vaswani et al. 2017, Figure 1).

    Source and target tokens share one embedding table $E$, which is scaled by
    $\sqrt{d_\text{model}}$ and added to the sinusoidal positions (sec. 3.4, 3.5); the
    same $E$, transposed, is the output layer:

    $$x = \sqrt{d_\text{model}}\,E[\text{ids}] + PE, \qquad \text{logits} = h\,E^\top$$

    A pre-LN model also has a final layer norm after each stack (otherwise ``None``).

    Attributes
    ----------
    config : TransformerConfig
    wte : TokenEmbedding
        The token embedding $E$, shared by source, target and output layer (named as in GPT).
    encoder : list of EncoderLayer
    decoder : list of DecoderLayer
    encoder_norm, decoder_norm : LayerNorm or None
        Final norms of a pre-LN model.
    """

    config: TransformerConfig
    wte: TokenEmbedding
    encoder: list[EncoderLayer] = field(default_factory=list)
    decoder: list[DecoderLayer] = field(default_factory=list)
    encoder_norm: LayerNorm | None = None
    decoder_norm: LayerNorm | None = None

    @classmethod
    def init(
        cls,
        config: TransformerConfig,
        rng: np.random.Generator | None = None,
        *,
        std: float = 0.02,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> Transformer:
        """A model of the given shape with random weights from $\\mathcal{N}(0, \\mathrm{std}^2)$."""
        if not isinstance(config, TransformerConfig):
            raise TypeError(f"config must be a TransformerConfig; got {type(config).__name__}")
        c = config
        rng = as_generator("rng", rng)
        kw: dict[str, Any] = {"norm": c.norm, "activation": c.activation, "eps": c.layer_norm_eps, "std": std}
        final = (lambda: LayerNorm.init(c.d_model, eps=c.layer_norm_eps, dtype=dtype)) if c.norm == "pre" else None
        return cls(
            config,
            TokenEmbedding.init(c.vocab_size, c.d_model, rng, std=std, dtype=dtype),
            [EncoderLayer.init(c.d_model, c.n_heads, c.d_ff, rng, dtype=dtype, **kw) for _ in range(c.n_layers)],
            [DecoderLayer.init(c.d_model, c.n_heads, c.d_ff, rng, dtype=dtype, **kw) for _ in range(c.n_layers)],
            final() if final else None,
            final() if final else None,
        )

    def embed(self, ids: ArrayLike) -> Array:
        r"""Token embedding times $\sqrt{d_\text{model}}$ plus the sinusoidal positions; ``(..., n, d_model)``."""
        return self._embed(self._ids("ids", ids))

    def _ids(self, name: str, ids: ArrayLike) -> NDArray[np.int64]:
        """Check token ids ``(..., n)``: integers in ``[0, vocab_size)``, at least one per sequence."""
        array = np.asarray(ids)
        if array.ndim < 1 or array.shape[-1] == 0:
            raise ValueError(f"{name} must have shape (..., n) with n >= 1 tokens; got shape {array.shape}")
        return check_token_ids(name, array, self.config.vocab_size)

    def _embed(self, ids: NDArray[np.int64]) -> Array:
        x = self.wte.weight[ids]  # E[ids]: the ids are checked
        positions = sinusoidal_positional_encoding(x.shape[-2], self.config.d_model).astype(x.dtype)
        return x * x.dtype.type(math.sqrt(self.config.d_model)) + positions

    def encode(self, src: ArrayLike, src_mask: ArrayLike | None = None) -> Array:
        """Run the encoder on source ids ``(..., n_src)``; returns the memory ``(..., n_src, d_model)``.

        ``src_mask`` (bool) broadcasts to ``(..., n_src, n_src)``: ``padding_mask(lengths, n_src)``.
        """
        x = self._embed(self._ids("src", src))
        return self._encode(x, _per_head("src_mask", src_mask, x.shape[-2], x.shape[-2]))

    def decode(
        self,
        tgt: ArrayLike,
        memory: ArrayLike,
        *,
        tgt_mask: ArrayLike | None = None,
        src_mask: ArrayLike | None = None,
    ) -> Array:
        """Run the decoder on target ids ``(..., n_tgt)``; returns ``(..., n_tgt, d_model)``.

        ``tgt_mask`` (target padding) is combined with the causal mask; ``src_mask``
        (source padding) hides padded memory positions from the cross-attention.
        """
        x = self._embed(self._ids("tgt", tgt))
        memory = _stream("memory", memory, self.config.d_model, "(..., n_src, d_model)")
        causal = _causal("tgt_mask", tgt_mask, x.shape[-2])
        return self._decode(x, memory, causal, _per_head("src_mask", src_mask, x.shape[-2], memory.shape[-2]))

    def _encode(self, x: Array, src_mask: Mask | None) -> Array:
        for layer in self.encoder:
            x = layer._forward(x, src_mask)
        return x if self.encoder_norm is None else self.encoder_norm(x)

    def _decode(self, x: Array, memory: Array, causal: Mask, src_mask: Mask | None) -> Array:
        for layer in self.decoder:
            x = layer._forward(x, memory, causal, src_mask)
        return x if self.decoder_norm is None else self.decoder_norm(x)

    def __call__(
        self,
        src: ArrayLike,
        tgt: ArrayLike,
        *,
        src_mask: ArrayLike | None = None,
        tgt_mask: ArrayLike | None = None,
    ) -> Array:
        r"""Next-token logits for every target position.

        Parameters
        ----------
        src : array_like of int, shape (..., n_src)
            Source token ids.
        tgt : array_like of int, shape (..., n_tgt)
            Target token ids so far (during training: the target shifted right).
        src_mask : array_like of bool, optional
            Source key mask, for example ``padding_mask(src_lengths, n_src)`` of shape
            ``(batch, 1, n_src)``; used by the encoder and by the cross-attention.
        tgt_mask : array_like of bool, optional
            Target key mask, for example ``padding_mask(tgt_lengths, n_tgt)``; combined
            with the causal mask.

        Returns
        -------
        numpy.ndarray, shape (..., n_tgt, vocab_size)
            Row $t$ scores the token that follows target position $t$.
        """
        source, x = self._embed(self._ids("src", src)), self._embed(self._ids("tgt", tgt))
        n_src, n_tgt = source.shape[-2], x.shape[-2]
        # The source mask serves the encoder's self-attention and the decoder's cross-attention.
        _per_head("src_mask", src_mask, n_tgt, n_src)
        src_mask = _per_head("src_mask", src_mask, n_src, n_src)
        memory = self._encode(source, src_mask)
        h = self._decode(x, memory, _causal("tgt_mask", tgt_mask, n_tgt), src_mask)
        return h @ self.wte.weight.T
