r"""Multi-head latent attention (MLA): keys and values kept as one small latent per token.

Multi-head attention caches a key and a value of $h\, d_h$ numbers each for every token and
layer; grouped-query attention shares them between heads. DeepSeek-V2 (DeepSeek-AI 2024,
sec. 2.1) instead compresses what keys and values are made from into a latent
$c^{KV}_t$ of $d_c \ll h\, d_h$ numbers, and rebuilds every head's key and value from it:

$$c^{KV}_t = \mathrm{RMSNorm}(x_t W^{DKV}), \qquad k^C_{t,i} = c^{KV}_t W^{UK}_i, \qquad v^C_{t,i} = c^{KV}_t W^{UV}_i$$

Rotary positions cannot pass through $W^{UK}$ (a rotation between $q$ and $W^{UK}$ would
tie the cached latent to the query's position), so a small *decoupled* part of
$d^R_h$ features carries them: one rotated key $k^R_t = \mathrm{RoPE}(x_t W^{KR})$ shared
by all heads, and a rotated part $q^R_{t,i}$ of every query. A head's score is

$$\text{score}_{t,j,i} = \frac{q^C_{t,i} \cdot k^C_{j,i} + q^R_{t,i} \cdot k^R_j}{\sqrt{d_h + d^R_h}}$$

and the cache keeps only $c^{KV}_j$ and $k^R_j$: $d_c + d^R_h$ numbers per token and layer
(576 in DeepSeek-V3, against $2 \cdot 128 \cdot 128 = 32768$ for multi-head attention of
the same heads). The queries are compressed too ($c^Q_t$ of width $d'_c$), which saves
parameters and activations, not cache.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, check_memory, check_number, check_size, float_dtype
from llmarch.attention import _check_rope, _merge_heads, _softmax, _split_heads, check_mask
from llmarch.layers import RMSNorm
from llmarch.positional import apply_rotary

__all__ = ["LATENT_NORM_EPS", "LatentAttention", "LatentCache"]

Array = NDArray[np.floating[Any]]

LATENT_NORM_EPS = 1e-6
"""The $\\varepsilon$ of the two latent norms: DeepSeek's code and Hugging Face's fix it at $10^{-6}$."""


@dataclass
class LatentCache:
    r"""The cache of one latent-attention layer: the latent $c^{KV}$ and the rotated key $k^R$ of every token.

    Where a [`KVCache`][llmarch.KVCache] keeps a key and a value per head, this keeps
    $d_c + d^R_h$ numbers per token, whatever the number of heads; the keys and values are
    rebuilt from it (or never built: see [`LatentAttention`][llmarch.LatentAttention]).

    Attributes
    ----------
    latent : numpy.ndarray or None, shape (..., n_cached, kv_lora_rank)
        $c^{KV}$ of the tokens so far (after its norm); ``None`` while empty.
    rope_key : numpy.ndarray or None, shape (..., n_cached, qk_rope_head_dim)
        $k^R$, already rotated to each token's position.
    """

    latent: Array | None = None
    rope_key: Array | None = None

    @property
    def window(self) -> None:
        """Latent attention has no sliding window: ``None`` (as [`KVCache.window`][llmarch.KVCache])."""
        return None

    @property
    def length(self) -> int:
        """Number of tokens seen so far: the position the next token will have."""
        return self.stored

    @property
    def stored(self) -> int:
        """Number of tokens the cache holds."""
        return 0 if self.latent is None else int(self.latent.shape[-2])

    def key_positions(self, n_new: int) -> NDArray[np.int64]:
        """Positions of the keys the cache will hold once ``n_new`` more tokens are appended."""
        n_new = check_size("n_new", n_new)
        check_memory("n_new", (self.length + n_new,), np.int64)
        return np.arange(self.length + n_new)

    def _append(self, latent: Array, rope_key: Array) -> tuple[Array, Array]:
        """Add the new tokens' latents and rotated keys; return all of them."""
        if self.latent is None or self.rope_key is None:
            self.latent, self.rope_key = latent, rope_key
        else:
            self.latent = np.concatenate([self.latent, latent.astype(self.latent.dtype, copy=False)], axis=-2)
            self.rope_key = np.concatenate([self.rope_key, rope_key.astype(self.rope_key.dtype, copy=False)], axis=-2)
        return self.latent, self.rope_key

    @property
    def nbytes(self) -> int:
        """Bytes held now."""
        return 0 if self.latent is None or self.rope_key is None else int(self.latent.nbytes + self.rope_key.nbytes)


@dataclass(kw_only=True)
class LatentAttention:
    r"""Multi-head latent attention of DeepSeek-V2 and V3, with the up-projections absorbed or not.

    For a token $x_t$ (row vectors, $h$ heads, $d_h$ = ``qk_nope_head_dim``,
    $d^R_h$ = ``qk_rope_head_dim``, $d^V_h$ = ``v_head_dim``):

    $$c^Q_t = \mathrm{RMSNorm}(x_t W^{DQ}), \qquad [q^C_{t,i}, q^R_{t,i}] = c^Q_t W^{UQ}_i, \qquad
    c^{KV}_t = \mathrm{RMSNorm}(x_t W^{DKV}), \qquad k^R_t = x_t W^{KR}$$

    $q^R$ and $k^R$ are rotated to their positions (rotary, in the interleaved layout DeepSeek
    uses), and head $i$ attends with

    $$a_{t,j,i} = \mathrm{softmax}_j\big(\tau\,(q^C_{t,i} \cdot c^{KV}_j W^{UK}_i + q^R_{t,i} \cdot k^R_j)\big), \qquad
    o_{t,i} = \sum_j a_{t,j,i}\, c^{KV}_j W^{UV}_i, \qquad \text{out}_t = [o_{t,1}, \dots, o_{t,h}]\, W^O$$

    with $\tau = 1/\sqrt{d_h + d^R_h}$ (times YaRN's factor, ``scale``).

    **Absorbing the up-projections.** Both products with the cache can be regrouped so that
    the keys and values are never built. $q^C_{t,i} \cdot (c^{KV}_j W^{UK}_i) =
    (q^C_{t,i} {W^{UK}_i}^\top) \cdot c^{KV}_j$: the query is projected *into* the latent
    once, and scored against the cached latents directly; and
    $\sum_j a_{t,j,i}\, c^{KV}_j W^{UV}_i = \big(\sum_j a_{t,j,i}\, c^{KV}_j\big) W^{UV}_i$:
    attention averages the latents, and $W^{UV}_i$ (which could be folded into $W^O$ too)
    is applied once per query. Attention then reads only what the cache holds: it is
    multi-query attention over keys $[c^{KV}_j, k^R_j]$ of width $d_c + d^R_h$ and values
    $c^{KV}_j$. With ``absorb=True`` (the default) a step of generation costs $O(n\,h\,d_c)$
    and builds nothing of size $n\,h\,d_h$; ``absorb=False`` computes the keys and values
    as the formulas above say (as Hugging Face does). Both give the same output, up to
    rounding.

    Attributes
    ----------
    w_dq : numpy.ndarray or None, shape (d_model, q_lora_rank)
        $W^{DQ}$ (``q_a_proj``); ``None`` when the queries are not compressed (then ``w_q``).
    q_latent_norm : RMSNorm or None
        The norm of $c^Q$ (``q_a_layernorm``).
    w_uq : numpy.ndarray or None, shape (q_lora_rank, n_heads * (qk_nope_head_dim + qk_rope_head_dim))
        $W^{UQ}$ and the rotary query part, head by head (``q_b_proj``).
    w_q : numpy.ndarray or None, shape (d_model, n_heads * (qk_nope_head_dim + qk_rope_head_dim))
        Uncompressed queries (``q_proj``), instead of ``w_dq``, ``q_latent_norm`` and ``w_uq``.
    w_dkv : numpy.ndarray, shape (d_model, kv_lora_rank)
        $W^{DKV}$ (the first ``kv_lora_rank`` rows of ``kv_a_proj_with_mqa``).
    w_kr : numpy.ndarray, shape (d_model, qk_rope_head_dim)
        $W^{KR}$ (its last ``qk_rope_head_dim`` rows).
    kv_latent_norm : RMSNorm
        The norm of $c^{KV}$ (``kv_a_layernorm``).
    w_ukv : numpy.ndarray, shape (kv_lora_rank, n_heads * (qk_nope_head_dim + v_head_dim))
        $W^{UK}_i$ and $W^{UV}_i$, head by head (``kv_b_proj``).
    w_o : numpy.ndarray, shape (n_heads * v_head_dim, d_model)
        $W^O$ (``o_proj``).
    n_heads : int
    qk_rope_head_dim : int
        $d^R_h$.
    scale : float or None
        $\tau$; default $1/\sqrt{d_h + d^R_h}$.
    absorb : bool, default True
        Attend to the latent directly (see above).
    """

    w_dkv: Array
    w_kr: Array
    kv_latent_norm: RMSNorm
    w_ukv: Array
    w_o: Array
    n_heads: int
    qk_rope_head_dim: int
    w_dq: Array | None = None
    q_latent_norm: RMSNorm | None = None
    w_uq: Array | None = None
    w_q: Array | None = None
    scale: float | None = None
    absorb: bool = True

    def __post_init__(self) -> None:
        h = self.n_heads = check_size("n_heads", self.n_heads, minimum=1)
        rope = self.qk_rope_head_dim = check_size("qk_rope_head_dim", self.qk_rope_head_dim, minimum=2)
        if rope % 2:
            raise ValueError(f"qk_rope_head_dim must be even (pairs rotate); got {rope}")
        self.w_dkv = as_float_array("w_dkv", self.w_dkv, ndim=2, layout="(d_model, kv_lora_rank)")
        if 0 in self.w_dkv.shape:
            raise ValueError(f"w_dkv must have shape (d_model, kv_lora_rank), both at least 1; got {self.w_dkv.shape}")
        d_model, rank = self.w_dkv.shape
        compressed = self.w_dq is not None
        if compressed == (self.w_q is not None) or compressed != (self.w_uq is not None):
            raise ValueError("w_q, w_dq, w_uq: give w_dq, q_latent_norm and w_uq (compressed queries), or w_q alone")
        head = "(d_model, n_heads * qk_head_dim)"
        if compressed:
            self.w_dq = as_float_array("w_dq", self.w_dq, ndim=2, layout="(d_model, q_lora_rank)")
            if self.w_dq.shape[0] != d_model or self.w_dq.shape[1] == 0:
                raise ValueError(f"w_dq must have shape (d_model = {d_model}, q_lora_rank >= 1); got {self.w_dq.shape}")
            q_rank = self.w_dq.shape[1]
            if not (isinstance(self.q_latent_norm, RMSNorm) and self.q_latent_norm.gamma.shape == (q_rank,)):
                raise ValueError(f"q_latent_norm must be an RMSNorm over q_lora_rank = {q_rank} features")
            self.w_uq = as_float_array("w_uq", self.w_uq, ndim=2, layout="(q_lora_rank, n_heads * qk_head_dim)")
            if self.w_uq.shape[0] != q_rank:
                raise ValueError(f"w_uq must have q_lora_rank = {q_rank} rows (w_dq's columns); got {self.w_uq.shape}")
            name, q_out = "w_uq", self.w_uq.shape[1]
        else:
            self.w_q = as_float_array("w_q", self.w_q, ndim=2, layout=head)
            if self.w_q.shape[0] != d_model:
                raise ValueError(f"w_q must have d_model = {d_model} rows (w_dkv's); got {self.w_q.shape}")
            name, q_out = "w_q", self.w_q.shape[1]
        if q_out % h or q_out // h <= rope:
            raise ValueError(
                f"{name}, n_heads, qk_rope_head_dim: the {q_out} query columns must split into n_heads = {h} heads "
                f"of more than qk_rope_head_dim = {rope} features"
            )
        self.w_o = as_float_array("w_o", self.w_o, ndim=2, layout="(n_heads * v_head_dim, d_model)")
        if self.w_o.shape[0] == 0 or self.w_o.shape[0] % h or self.w_o.shape[1] != d_model:
            raise ValueError(
                f"w_o must have shape (n_heads * v_head_dim, d_model) with n_heads = {h}, d_model = {d_model}; "
                f"got {self.w_o.shape}"
            )
        nope, v = q_out // h - rope, self.w_o.shape[0] // h
        self._check("w_kr", self.w_kr, (d_model, rope), "(d_model, qk_rope_head_dim)")
        self._check("w_ukv", self.w_ukv, (rank, h * (nope + v)), "(kv_lora_rank, n_heads * (qk_nope + v_head_dim))")
        if not (isinstance(self.kv_latent_norm, RMSNorm) and self.kv_latent_norm.gamma.shape == (rank,)):
            raise ValueError(f"kv_latent_norm must be an RMSNorm over kv_lora_rank = {rank} features")
        default = 1 / math.sqrt(nope + rope)
        self.scale = default if self.scale is None else check_number("scale", self.scale, positive=True)
        if not isinstance(self.absorb, bool):
            raise TypeError(f"absorb must be True or False; got {self.absorb!r}")

    def _check(self, name: str, value: ArrayLike, shape: tuple[int, ...], layout: str) -> None:
        w = as_float_array(name, value, ndim=len(shape), layout=layout)
        if w.shape != shape:
            raise ValueError(f"{name} must have shape {layout} = {shape}; got {w.shape}")
        setattr(self, name, w)

    # -- sizes ----------------------------------------------------------------------------------

    @property
    def d_model(self) -> int:
        """Model width $d$."""
        return int(self.w_dkv.shape[0])

    @property
    def kv_lora_rank(self) -> int:
        """Width of the latent, $d_c$."""
        return int(self.w_dkv.shape[1])

    @property
    def v_head_dim(self) -> int:
        """Width of every value head, $d^V_h$."""
        return int(self.w_o.shape[0]) // self.n_heads

    @property
    def qk_nope_head_dim(self) -> int:
        """Width of the position-free part of every query and key head, $d_h$."""
        return int(self.w_ukv.shape[1]) // self.n_heads - self.v_head_dim

    @property
    def w_uk(self) -> Array:
        """$W^{UK}$ per head, shape ``(kv_lora_rank, n_heads, qk_nope_head_dim)`` (a view of ``w_ukv``)."""
        return self.w_ukv.reshape(self.kv_lora_rank, self.n_heads, -1)[..., : self.qk_nope_head_dim]

    @property
    def w_uv(self) -> Array:
        """$W^{UV}$ per head, shape ``(kv_lora_rank, n_heads, v_head_dim)`` (a view of ``w_ukv``)."""
        return self.w_ukv.reshape(self.kv_lora_rank, self.n_heads, -1)[..., self.qk_nope_head_dim :]

    # -- running it -----------------------------------------------------------------------------

    def attend(
        self,
        x: ArrayLike,
        mask: ArrayLike | None = None,
        *,
        cache: LatentCache | None = None,
        rope: tuple[Array, Array] | None = None,
        absorb: bool | None = None,
    ) -> tuple[Array, Array]:
        """Self-attention of ``x``; returns the output and every head's attention weights.

        Parameters
        ----------
        x : array_like, shape (..., n, d_model)
        mask : array_like of bool, optional
            Broadcastable to ``(..., n_heads, n, n_keys)``, True = may attend.
        cache : LatentCache, optional
            ``x`` holds only the new tokens; their latents are appended and the queries
            attend to every cached token.
        rope : (cos, sin), optional
            The angles of the new tokens' positions, each ``(n, qk_rope_head_dim / 2)``
            ([`rotary_angles`][llmarch.positional.rotary_angles]).
        absorb : bool, optional
            Override the layer's ``absorb`` for this call.

        Returns
        -------
        output : numpy.ndarray, shape (..., n, d_model)
        weights : numpy.ndarray, shape (..., n_heads, n, n_keys)
        """
        if cache is not None and not isinstance(cache, LatentCache):
            raise TypeError(f"cache must be a LatentCache or None; got {type(cache).__name__}")
        x = as_float_array("x", x, min_ndim=2, layout="(..., n, d_model)")
        if x.shape[-1] != self.d_model:
            raise ValueError(f"x: last dimension must be d_model = {self.d_model}; got shape {x.shape}")
        x = x.astype(float_dtype(x), copy=False)
        if rope is not None:
            rope = _check_rope(rope, (x.shape[-2], self.qk_rope_head_dim // 2), x.dtype)
        n_k = x.shape[-2] if cache is None else cache.length + x.shape[-2]
        scores_shape = (*x.shape[:-2], self.n_heads, x.shape[-2], n_k)
        allowed = None if mask is None else check_mask(mask, scores_shape, "x and cache")
        if absorb is not None and not isinstance(absorb, bool):
            raise TypeError(f"absorb must be True, False or None; got {absorb!r}")
        return self._forward(x, allowed, cache, rope, self.absorb if absorb is None else absorb)

    def _forward(
        self,
        x: Array,
        mask: NDArray[np.bool_] | None = None,
        cache: LatentCache | None = None,
        rope: tuple[Array, Array] | None = None,
        absorb: bool = True,
    ) -> tuple[Array, Array]:
        """[`attend`][llmarch.LatentAttention.attend] for checked inputs of the weights' dtype."""
        dt, nope, rope_dim = x.dtype, self.qk_nope_head_dim, self.qk_rope_head_dim
        if self.w_q is not None:
            q = x @ self.w_q.astype(dt, copy=False)
        else:
            assert self.w_dq is not None and self.q_latent_norm is not None and self.w_uq is not None
            q = self.q_latent_norm(x @ self.w_dq.astype(dt, copy=False)) @ self.w_uq.astype(dt, copy=False)
        q = _split_heads(q, self.n_heads)  # (..., h, n, nope + rope)
        q_nope, q_rope = q[..., :nope], q[..., nope:]
        latent = self.kv_latent_norm(x @ self.w_dkv.astype(dt, copy=False))  # (..., n, d_c)
        rope_key = x @ self.w_kr.astype(dt, copy=False)  # (..., n, d_R): one key for all heads
        if rope is not None:
            q_rope, rope_key = apply_rotary(q_rope, *rope, "interleaved"), apply_rotary(rope_key, *rope, "interleaved")
        if cache is not None:
            latent, rope_key = cache._append(latent, rope_key)
        latent_h, rope_key_h = latent[..., None, :, :], rope_key[..., None, :, :]  # one "head", shared by all
        tau = dt.type(self.scale)
        if absorb:
            q_latent = q_nope @ np.moveaxis(self.w_uk, 0, -1).astype(dt, copy=False)  # (..., h, n, d_c)
            scores = (q_latent @ np.swapaxes(latent_h, -1, -2) + q_rope @ np.swapaxes(rope_key_h, -1, -2)) * tau
            weights = _masked_softmax(scores, mask)
            heads = (weights @ latent_h) @ np.swapaxes(self.w_uv, 0, 1).astype(dt, copy=False)  # (..., h, n, d_V)
        else:
            kv = _split_heads(latent @ self.w_ukv.astype(dt, copy=False), self.n_heads)  # (..., h, n_k, nope + v)
            k_nope, v = kv[..., :nope], kv[..., nope:]
            k = np.concatenate([k_nope, np.broadcast_to(rope_key_h, (*k_nope.shape[:-1], rope_dim))], axis=-1)
            scores = (np.concatenate([q_nope, q_rope], axis=-1) @ np.swapaxes(k, -1, -2)) * tau
            weights = _masked_softmax(scores, mask)
            heads = weights @ v
        return _merge_heads(heads) @ self.w_o.astype(dt, copy=False), weights

    def __call__(
        self,
        x: ArrayLike,
        mask: ArrayLike | None = None,
        *,
        cache: LatentCache | None = None,
        rope: tuple[Array, Array] | None = None,
    ) -> Array:
        """Self-attention of ``x`` ``(..., n, d_model)``; same shape ([`attend`][llmarch.LatentAttention.attend])."""
        return self.attend(x, mask, cache=cache, rope=rope)[0]

    def new_cache(self) -> LatentCache:
        """An empty [`LatentCache`][llmarch.LatentCache] for this layer."""
        return LatentCache()


def _masked_softmax(scores: Array, mask: NDArray[np.bool_] | None) -> Array:
    if mask is not None:
        scores = np.where(mask, scores, scores.dtype.type(-np.inf))
    return _softmax(scores, -1)
