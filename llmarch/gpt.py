r"""GPT: the decoder-only transformer, built as GPT-2 is (Radford et al. 2019).

A GPT is the decoder of the encoder-decoder transformer without the cross-attention: a
stack of pre-LN blocks of causal self-attention and feed-forward, between a token plus
learned position embedding and an output layer that reuses the token embedding:

$$x_0 = E[\text{ids}] + P[0..n), \qquad x_{l+1} = \mathrm{Block}_l(x_l), \qquad
\text{logits} = \mathrm{LN}_f(x_L)\, E^\top$$

It is trained to predict the next token, and it writes text by doing so again and again:
pick a token from the last row of the logits, append it, repeat. The weights load
directly from a Hugging Face GPT-2 checkpoint.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, check_size
from llmarch.attention import KVCache, MultiHeadAttention, softmax
from llmarch.config import GPTConfig
from llmarch.embedding import TokenEmbedding, check_token_ids
from llmarch.layers import FeedForward, LayerNorm
from llmarch.positional import LearnedPositionalEmbedding
from llmarch.residual import pre_ln_residual

__all__ = ["GPT", "GPTBlock", "sample_next_token"]

Array = NDArray[np.floating[Any]]

# Buffers in Hugging Face GPT-2 checkpoints that hold no weights (the causal mask and its fill value).
_HF_BUFFERS = re.compile(r"h\.\d+\.attn\.(bias|masked_bias)")
_HF_PREFIX = "transformer."


def _causal_rows(start: int, n: int) -> NDArray[np.bool_]:
    """The last ``n`` rows of ``causal_mask(start + n)``: query ``start + i`` sees keys ``0 .. start + i``."""
    return np.arange(start + n)[None, :] <= np.arange(start, start + n)[:, None]


@dataclass
class GPTBlock:
    r"""One GPT-2 block: pre-LN causal self-attention, then a pre-LN feed-forward network.

    $$h = x + \mathrm{MHA}_\text{causal}(\mathrm{LN}_1(x)), \qquad y = h + \mathrm{FFN}(\mathrm{LN}_2(h))$$

    The attribute names follow the Hugging Face GPT-2 checkpoint (``h.{i}.ln_1``,
    ``h.{i}.attn``, ``h.{i}.ln_2``, ``h.{i}.mlp``).

    Attributes
    ----------
    ln_1 : LayerNorm
    attn : MultiHeadAttention
    ln_2 : LayerNorm
    mlp : FeedForward
    """

    ln_1: LayerNorm
    attn: MultiHeadAttention
    ln_2: LayerNorm
    mlp: FeedForward

    def __call__(self, x: ArrayLike, cache: KVCache | None = None) -> Array:
        """Apply the block to ``x`` of shape ``(n, d_model)``; returns the same shape.

        With a ``cache``, ``x`` holds only the new tokens; they come after the
        ``cache.length`` tokens already in it, and their keys and values are appended.
        """
        x = as_float_array("x", x, min_ndim=2, layout="(n, d_model)")
        start = 0 if cache is None else cache.length
        mask = _causal_rows(start, x.shape[-2])  # (n, start + n)
        x = pre_ln_residual(x, lambda h: self.attn(h, mask=mask, cache=cache), self.ln_1)
        return pre_ln_residual(x, self.mlp, self.ln_2)


def sample_next_token(
    logits: ArrayLike,
    temperature: float = 0.0,
    top_k: int | None = None,
    rng: np.random.Generator | int | None = None,
) -> int:
    r"""Pick the next token from one row of logits: greedy, or sampled with temperature and top-k.

    With $T > 0$ the token is drawn from the softmax of the scaled logits, restricted to
    the $k$ largest when ``top_k`` is given:

    $$p_i = \frac{e^{z_i / T}}{\sum_{j \in \text{top-}k} e^{z_j / T}} \quad (i \in \text{top-}k)$$

    A small $T$ sharpens the distribution towards the most likely token; a large $T$
    flattens it. $T = 0$ is the limit: always the most likely token (greedy; ties go to
    the smallest id).

    Parameters
    ----------
    logits : array_like, shape (vocab_size,)
        Scores of every candidate next token.
    temperature : float, default 0.0
        $T \ge 0$; ``0`` means greedy.
    top_k : int, optional
        Keep only the ``top_k`` highest-scoring tokens (all of them if it exceeds the vocabulary).
    rng : numpy.random.Generator or int, optional
        Source of randomness when sampling; an int is a seed. Draws one number per call.

    Returns
    -------
    int
        The chosen token id.
    """
    z = as_float_array("logits", logits, ndim=1, layout="(vocab_size,)").astype(np.float64)
    if z.size == 0:
        raise ValueError("logits must hold at least one score; got an empty array")
    temperature = _check_temperature(temperature)
    top_k = None if top_k is None else check_size("top_k", top_k, minimum=1)
    if temperature == 0.0:
        return int(np.argmax(z))
    candidates = np.arange(z.size)
    if top_k is not None and top_k < z.size:
        candidates = np.sort(np.argpartition(z, -top_k)[-top_k:])  # sorted, so the draw is reproducible
    probs = softmax(z[candidates] / temperature)
    return int(np.random.default_rng(rng).choice(candidates, p=probs))


def _check_temperature(temperature: Any) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)):
        raise TypeError(f"temperature must be a number >= 0; got {type(temperature).__name__} {temperature!r}")
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be a finite number >= 0 (0 = greedy); got {temperature!r}")
    return float(temperature)


@dataclass
class GPT:
    r"""A decoder-only transformer with GPT-2's layout.

    $$x_0 = E[\text{ids}] + P[0..n), \qquad x_{l+1} = \mathrm{Block}_l(x_l), \qquad
    \text{logits} = \mathrm{LN}_f(x_L)\, E^\top$$

    Build one with random weights ([`init`][llmarch.GPT.init]) or from a Hugging Face GPT-2
    checkpoint ([`from_hf_state_dict`][llmarch.GPT.from_hf_state_dict],
    [`from_safetensors`][llmarch.GPT.from_safetensors]). The output layer is the token
    embedding, transposed (tied weights), so the model has exactly
    [`count_parameters(config)`][llmarch.count_parameters] parameters.

    Attributes
    ----------
    config : GPTConfig
    wte : TokenEmbedding
        Token embedding $E$, shape ``(vocab_size, d_model)``; also the output layer.
    wpe : LearnedPositionalEmbedding
        Position embedding $P$, shape ``(n_positions, d_model)``.
    blocks : list of GPTBlock
        ``n_layers`` blocks (``h.0``, ``h.1``, ... in the checkpoint).
    ln_f : LayerNorm
        The final layer norm of a pre-LN stack.
    """

    config: GPTConfig
    wte: TokenEmbedding
    wpe: LearnedPositionalEmbedding
    blocks: list[GPTBlock]
    ln_f: LayerNorm

    def __post_init__(self) -> None:
        c = self.config
        if not isinstance(c, GPTConfig):
            raise TypeError(f"config must be a GPTConfig; got {type(c).__name__}")
        if self.wte.weight.shape != (c.vocab_size, c.d_model):
            raise ValueError(
                f"wte must have shape (vocab_size, d_model) = {(c.vocab_size, c.d_model)}; got {self.wte.weight.shape}"
            )
        if self.wpe.weight.shape != (c.n_positions, c.d_model):
            raise ValueError(
                f"wpe must have shape (n_positions, d_model) = {(c.n_positions, c.d_model)}; "
                f"got {self.wpe.weight.shape}"
            )
        if len(self.blocks) != c.n_layers:
            raise ValueError(f"blocks must hold n_layers = {c.n_layers} blocks; got {len(self.blocks)}")
        if not isinstance(self.ln_f, LayerNorm) or self.ln_f.gamma.shape != (c.d_model,):
            raise ValueError(f"ln_f must be a LayerNorm of size d_model = {c.d_model}; got {self.ln_f!r}")

    @classmethod
    def init(
        cls,
        config: GPTConfig,
        rng: np.random.Generator | None = None,
        *,
        std: float = 0.02,
        dtype: type[np.floating[Any]] = np.float32,
    ) -> GPT:
        r"""Random weights as GPT-2 initialises them.

        Weights are drawn from $\mathcal{N}(0, \mathrm{std}^2)$, and the two projections
        that write into the residual stream (attention output and second feed-forward
        layer) are scaled by $1/\sqrt{2 L}$, so the stream's variance does not grow with
        depth; biases are zero and layer norms the identity. ``dtype`` defaults to
        float32, the precision of the published weights.
        """
        if not isinstance(config, GPTConfig):
            raise TypeError(f"config must be a GPTConfig; got {type(config).__name__}")
        c = config
        rng = np.random.default_rng() if rng is None else rng
        wte = TokenEmbedding.init(c.vocab_size, c.d_model, rng, std=std, dtype=dtype)
        wpe = LearnedPositionalEmbedding.init(c.n_positions, c.d_model, rng, std=std, dtype=dtype)
        blocks = []
        for _ in range(c.n_layers):
            attn = MultiHeadAttention.init(c.d_model, c.n_heads, rng, std=std, dtype=dtype)
            mlp = FeedForward.init(c.d_model, c.d_ff, rng, activation=c.activation, std=std, dtype=dtype)
            attn.w_o *= dtype(1 / math.sqrt(2 * c.n_layers))
            mlp.w2 *= dtype(1 / math.sqrt(2 * c.n_layers))
            ln_1, ln_2 = (LayerNorm.init(c.d_model, eps=c.layer_norm_eps, dtype=dtype) for _ in range(2))
            blocks.append(GPTBlock(ln_1, attn, ln_2, mlp))
        return cls(config, wte, wpe, blocks, LayerNorm.init(c.d_model, eps=c.layer_norm_eps, dtype=dtype))

    # -- Hugging Face GPT-2 checkpoints ---------------------------------------------------

    @classmethod
    def from_hf_state_dict(cls, state: Mapping[str, ArrayLike], config: GPTConfig) -> GPT:
        r"""Build a GPT from the tensors of a Hugging Face GPT-2 checkpoint.

        The names are those of ``GPT2Model`` (``wte.weight``, ``h.0.attn.c_attn.weight``,
        ...), with or without the ``transformer.`` prefix of ``GPT2LMHeadModel``. GPT-2
        stores its linear layers as ``Conv1D``: weights of shape ``(in, out)`` used as
        ``x @ W``, the same row-vector convention as [`MultiHeadAttention`][llmarch.MultiHeadAttention];
        ``c_attn`` holds $W^Q$, $W^K$ and $W^V$ side by side, shape ``(d, 3d)``.

        Parameters
        ----------
        state : mapping of str to array_like
            The tensors, as NumPy arrays (or anything ``numpy.asarray`` accepts, such as
            CPU torch tensors). The causal-mask buffers ``h.{i}.attn.bias`` and
            ``h.{i}.attn.masked_bias`` are ignored; ``lm_head.weight``, if present, must
            equal ``wte.weight`` (tied).
        config : GPTConfig
            The checkpoint's shape, for example ``GPTConfig.preset("gpt2")``.

        Raises
        ------
        ValueError
            Naming the tensor: one that is missing, one whose shape does not match
            ``config``, one the model has no place for, or an untied ``lm_head.weight``.
        """
        if not isinstance(config, GPTConfig):
            raise TypeError(f"config must be a GPTConfig; got {type(config).__name__}")
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a mapping of tensor names to arrays; got {type(state).__name__}")
        tensors = {(k[len(_HF_PREFIX) :] if k.startswith(_HF_PREFIX) else k): v for k, v in state.items()}
        shapes = _hf_shapes(config)
        unknown = sorted(
            k for k in tensors if k not in shapes and k != "lm_head.weight" and not _HF_BUFFERS.fullmatch(k)
        )
        if unknown:
            raise ValueError(
                f"state has tensors that a GPT with this config has no place for: {', '.join(unknown[:5])}"
                f"{' ...' if len(unknown) > 5 else ''} (does config match the checkpoint? n_layers = {config.n_layers})"
            )

        def get(name: str) -> Array:
            if name not in tensors:
                raise ValueError(f"state is missing the tensor {name!r} (or {_HF_PREFIX + name!r})")
            array = as_float_array(f"state[{name!r}]", tensors[name])
            if array.shape != shapes[name]:
                raise ValueError(f"state[{name!r}] must have shape {shapes[name]} for this config; got {array.shape}")
            return array

        c = config
        wte = get("wte.weight")
        if "lm_head.weight" in tensors and not np.array_equal(np.asarray(tensors["lm_head.weight"]), wte):
            raise ValueError(
                "state['lm_head.weight'] must equal 'wte.weight': this GPT ties its output layer to the token embedding"
            )
        blocks = []
        for i in range(c.n_layers):
            p = f"h.{i}."
            w_q, w_k, w_v = (np.ascontiguousarray(w) for w in np.split(get(p + "attn.c_attn.weight"), 3, axis=1))
            b_q, b_k, b_v = np.split(get(p + "attn.c_attn.bias"), 3)
            attn = MultiHeadAttention(
                w_q, w_k, w_v, get(p + "attn.c_proj.weight"), b_q, b_k, b_v, get(p + "attn.c_proj.bias"), c.n_heads
            )
            mlp = FeedForward(
                get(p + "mlp.c_fc.weight"),
                get(p + "mlp.c_fc.bias"),
                get(p + "mlp.c_proj.weight"),
                get(p + "mlp.c_proj.bias"),
                c.activation,
            )
            ln_1 = LayerNorm(get(p + "ln_1.weight"), get(p + "ln_1.bias"), c.layer_norm_eps)
            ln_2 = LayerNorm(get(p + "ln_2.weight"), get(p + "ln_2.bias"), c.layer_norm_eps)
            blocks.append(GPTBlock(ln_1, attn, ln_2, mlp))
        ln_f = LayerNorm(get("ln_f.weight"), get("ln_f.bias"), c.layer_norm_eps)
        return cls(c, TokenEmbedding(wte), LearnedPositionalEmbedding(get("wpe.weight")), blocks, ln_f)

    @classmethod
    def from_safetensors(cls, path: str | os.PathLike[str], config: GPTConfig) -> GPT:
        """Load a Hugging Face GPT-2 ``.safetensors`` file (such as the published ``model.safetensors``).

        Needs the optional ``safetensors`` package: ``pip install "llmarch[weights]"``.
        The tensors are read as NumPy arrays and passed to
        [`from_hf_state_dict`][llmarch.GPT.from_hf_state_dict].

        Raises
        ------
        ImportError
            If ``safetensors`` is not installed (the message says how to install it).
        FileNotFoundError
            If ``path`` is not a file.
        """
        try:
            from safetensors.numpy import load_file
        except ImportError as exc:
            raise ImportError(
                "GPT.from_safetensors needs the safetensors package: pip install 'llmarch[weights]' "
                "(or pip install safetensors)"
            ) from exc
        if not Path(path).is_file():
            raise FileNotFoundError(f"path must be a .safetensors file; no such file: {os.fspath(path)!r}")
        return cls.from_hf_state_dict(load_file(path), config)

    def to_hf_state_dict(self, prefix: bool = False) -> dict[str, NDArray[np.floating[Any]]]:
        """The weights under Hugging Face GPT-2 names and layouts; the inverse of
        [`from_hf_state_dict`][llmarch.GPT.from_hf_state_dict].

        ``prefix=False`` gives ``GPT2Model``'s names (as in the published file);
        ``prefix=True`` gives ``GPT2LMHeadModel``'s: ``transformer.`` before each name,
        plus ``lm_head.weight`` (the same array as the token embedding).
        """
        state: dict[str, NDArray[np.floating[Any]]] = {"wte.weight": self.wte.weight, "wpe.weight": self.wpe.weight}
        for i, b in enumerate(self.blocks):
            a, p = b.attn, f"h.{i}."
            state |= {
                p + "ln_1.weight": b.ln_1.gamma,
                p + "ln_1.bias": b.ln_1.beta,
                p + "attn.c_attn.weight": np.concatenate([a.w_q, a.w_k, a.w_v], axis=1),
                p + "attn.c_attn.bias": np.concatenate([a.b_q, a.b_k, a.b_v]),
                p + "attn.c_proj.weight": a.w_o,
                p + "attn.c_proj.bias": a.b_o,
                p + "ln_2.weight": b.ln_2.gamma,
                p + "ln_2.bias": b.ln_2.beta,
                p + "mlp.c_fc.weight": b.mlp.w1,
                p + "mlp.c_fc.bias": b.mlp.b1,
                p + "mlp.c_proj.weight": b.mlp.w2,
                p + "mlp.c_proj.bias": b.mlp.b2,
            }
        state |= {"ln_f.weight": self.ln_f.gamma, "ln_f.bias": self.ln_f.beta}
        if not prefix:
            return state
        return {**{_HF_PREFIX + k: v for k, v in state.items()}, "lm_head.weight": self.wte.weight}

    # -- running the model ----------------------------------------------------------------

    def _check_tokens(self, tokens: ArrayLike) -> NDArray[np.int64]:
        ids = check_token_ids("tokens", tokens, self.config.vocab_size)
        if ids.ndim != 1:
            raise ValueError(f"tokens must be a 1-D array of token ids (n,); got shape {ids.shape}")
        if len(ids) > self.config.n_positions:
            raise ValueError(
                f"tokens must number at most n_positions = {self.config.n_positions} (the position table); "
                f"got {len(ids)}"
            )
        return ids

    def hidden_states(self, tokens: ArrayLike, caches: list[KVCache] | None = None) -> Array:
        """The final, normalised hidden state of every token: ``(n, d_model)``.

        With ``caches`` (one [`KVCache`][llmarch.KVCache] per block), ``tokens`` are the
        new tokens only; they are placed after the tokens already cached.
        """
        ids = self._check_tokens(tokens)
        start = 0 if caches is None else caches[0].length
        if caches is not None and len(caches) != len(self.blocks):
            raise ValueError(f"caches must hold one KVCache per block ({len(self.blocks)}); got {len(caches)}")
        x = self.wte(ids) + self.wpe(np.arange(start, start + len(ids)))
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i])
        return self.ln_f(x)

    def logits(self, tokens: ArrayLike) -> Array:
        r"""Next-token scores after every prefix of ``tokens``.

        $$\text{logits} = \mathrm{LN}_f(x_L)\, E^\top$$

        Parameters
        ----------
        tokens : array_like of int, shape (n,)
            Token ids, ``n <= n_positions``.

        Returns
        -------
        numpy.ndarray, shape (n, vocab_size)
            Row $t$ scores the token that follows ``tokens[:t + 1]``; it does not depend
            on ``tokens[t + 1:]`` (causal).
        """
        h = self.hidden_states(tokens)
        return h @ self.wte.weight.T

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
            If the prompt is empty or ``n + max_new_tokens`` exceeds ``n_positions`` (the
            learned position table has no row for later positions), or an argument is out
            of range.
        """
        prompt = self._check_tokens(tokens)
        max_new_tokens = check_size("max_new_tokens", max_new_tokens)
        temperature = _check_temperature(temperature)
        top_k = None if top_k is None else check_size("top_k", top_k, minimum=1)
        if len(prompt) == 0:
            raise ValueError("tokens must hold at least one token to continue; got an empty prompt")
        n, total = len(prompt), len(prompt) + max_new_tokens
        if total > self.config.n_positions:
            raise ValueError(
                f"max_new_tokens: the prompt ({n} tokens) plus {max_new_tokens} new tokens makes {total}, "
                f"more than n_positions = {self.config.n_positions}"
            )
        rng = np.random.default_rng(rng)
        sequence = np.empty(total, dtype=np.int64)
        sequence[:n] = prompt
        caches = [KVCache() for _ in self.blocks] if use_cache else None
        new = prompt  # what the next forward pass must read
        for t in range(n, total):
            h = self.hidden_states(new, caches) if use_cache else self.hidden_states(sequence[:t])
            sequence[t] = sample_next_token(h[-1] @ self.wte.weight.T, temperature, top_k, rng)
            new = sequence[t : t + 1]
        return sequence


def _hf_shapes(config: GPTConfig) -> dict[str, tuple[int, ...]]:
    """Every weight of a Hugging Face GPT-2 checkpoint (without prefix) and its shape."""
    d, d_ff = config.d_model, config.d_ff
    shapes: dict[str, tuple[int, ...]] = {
        "wte.weight": (config.vocab_size, d),
        "wpe.weight": (config.n_positions, d),
    }
    for i in range(config.n_layers):
        p = f"h.{i}."
        shapes |= {
            p + "ln_1.weight": (d,),
            p + "ln_1.bias": (d,),
            p + "attn.c_attn.weight": (d, 3 * d),
            p + "attn.c_attn.bias": (3 * d,),
            p + "attn.c_proj.weight": (d, d),
            p + "attn.c_proj.bias": (d,),
            p + "ln_2.weight": (d,),
            p + "ln_2.bias": (d,),
            p + "mlp.c_fc.weight": (d, d_ff),
            p + "mlp.c_fc.bias": (d_ff,),
            p + "mlp.c_proj.weight": (d_ff, d),
            p + "mlp.c_proj.bias": (d,),
        }
    return shapes | {"ln_f.weight": (d,), "ln_f.bias": (d,)}
