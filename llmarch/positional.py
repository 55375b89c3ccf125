r"""Positional encodings: telling a permutation-blind model where each token sits.

Attention treats its input as a set; without position information "dog bites man" and
"man bites dog" look the same. A positional encoding is added to (or, for rotary, applied
inside) the token embeddings so that order matters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, as_generator, check_memory, check_number, check_size, random_normal
from llmarch.config import RopeScaling

__all__ = [
    "LearnedPositionalEmbedding",
    "apply_rotary",
    "rotary_angles",
    "rotary_embedding",
    "rotary_frequencies",
    "sinusoidal_positional_encoding",
]


def sinusoidal_positional_encoding(
    n_positions: int,
    d_model: int,
    *,
    base: float = 10000.0,
) -> NDArray[np.float64]:
    r"""The fixed sinusoidal encoding of Vaswani et al. 2017, sec. 3.5.

    $$PE_{(p,\,2i)} = \sin\!\left(\frac{p}{\text{base}^{2i/d_\text{model}}}\right), \qquad
    PE_{(p,\,2i+1)} = \cos\!\left(\frac{p}{\text{base}^{2i/d_\text{model}}}\right)$$

    Each pair of features is a clock hand turning at its own speed, from once every
    $2\pi$ positions down to once every $2\pi \cdot \text{base}$ positions.

    Parameters
    ----------
    n_positions : int
        Number of positions $p = 0, \dots, n_\text{positions} - 1$.
    d_model : int
        Number of features; an odd ``d_model`` ends with a lone sine column.
    base : float, default 10000.0
        Sets the slowest wavelength.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_positions, d_model)``: sines at even feature indices, cosines at odd.

    Examples
    --------
    >>> sinusoidal_positional_encoding(2, 4).round(4)
    array([[0.    , 1.    , 0.    , 1.    ],
           [0.8415, 0.5403, 0.01  , 1.    ]])
    """
    n_positions = check_size("n_positions", n_positions)
    d_model = check_size("d_model", d_model)
    base = check_number("base", base, positive=True)
    check_memory("n_positions, d_model", (n_positions, d_model))
    positions = np.arange(n_positions, dtype=np.float64)[:, None]
    rates = base ** (-np.arange(0, d_model, 2, dtype=np.float64) / d_model)
    angles = positions * rates  # (n_positions, ceil(d_model / 2))
    pe = np.empty((n_positions, d_model), dtype=np.float64)
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return pe


@dataclass
class LearnedPositionalEmbedding:
    r"""A learned table with one vector per position, added to the token embeddings (GPT-2).

    $$x_t = E[\,\text{id}_t\,] + P[\,t\,], \qquad P \in \mathbb{R}^{n_\text{positions} \times d_\text{model}}$$

    Unlike the sinusoidal encoding it is trained like any other weight, and it knows nothing
    about positions past its last row: GPT-2 cannot read more than 1024 tokens.

    Attributes
    ----------
    weight : numpy.ndarray, shape (n_positions, d_model)
        The table $P$; row $t$ is the vector of position $t$.
    """

    weight: NDArray[np.floating[Any]]

    def __post_init__(self) -> None:
        self.weight = as_float_array("weight", self.weight, ndim=2, layout="(n_positions, d_model)")

    @classmethod
    def init(
        cls,
        n_positions: int,
        d_model: int,
        rng: np.random.Generator | None = None,
        *,
        std: float = 0.02,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> LearnedPositionalEmbedding:
        """Random table drawn from $\\mathcal{N}(0, \\mathrm{std}^2)$."""
        n_positions = check_size("n_positions", n_positions, minimum=1)
        d_model = check_size("d_model", d_model, minimum=1)
        rng = as_generator("rng", rng)
        return cls(random_normal(rng, (n_positions, d_model), std, dtype, "n_positions, d_model"))

    @property
    def n_positions(self) -> int:
        """Number of positions the table covers (the longest context)."""
        return int(self.weight.shape[0])

    def __call__(self, positions: int | ArrayLike) -> NDArray[np.floating[Any]]:
        """Vectors of the first ``n`` positions, or of the given positions.

        Parameters
        ----------
        positions : int or array_like of int
            An integer ``n`` means positions ``0, ..., n - 1``; an integer array (any shape)
            gives the positions themselves, for example ``np.arange(start, start + n)``
            when the first ``start`` tokens are already in a KV cache.

        Returns
        -------
        numpy.ndarray
            Shape ``(n, d_model)``, or ``positions.shape + (d_model,)``.

        Raises
        ------
        ValueError
            If a position is at or past ``n_positions`` (the sequence is longer than the table).
        """
        if isinstance(positions, (int, np.integer)) and not isinstance(positions, bool):
            n = check_size("n", positions)
            if n > self.n_positions:
                raise ValueError(f"n must be at most n_positions = {self.n_positions} (the table's length); got {n}")
            return self.weight[:n]
        index = np.asarray(positions)
        if index.dtype.kind not in "iu":
            raise TypeError(f"positions must be an int or an array of integer positions; got dtype {index.dtype}")
        if index.size and (index.min() < 0 or index.max() >= self.n_positions):
            raise ValueError(
                f"positions must lie in [0, {self.n_positions - 1}] (n_positions = {self.n_positions}); "
                f"got values from {index.min()} to {index.max()}"
            )
        return self.weight[index]


RotaryLayout = Literal["interleaved", "half"]


def rotary_frequencies(d: int, base: float = 10000.0, scaling: RopeScaling | None = None) -> NDArray[np.float64]:
    r"""The rotation rate of each feature pair of rotary embedding: $\theta_i = \text{base}^{-2i/d}$.

    Pair $i = 0, \dots, d/2 - 1$ of a head of width $d$ turns by $p\,\theta_i$ radians at
    position $p$: pair 0 once a token, the last pair about $\text{base}$ times slower.
    With ``scaling`` (Llama 3.1, or YaRN for DeepSeek-V3), the slow rates are divided by its
    factor and the middle ones blended, as [`RopeScaling`][llmarch.RopeScaling] describes.

    Parameters
    ----------
    d : int
        Head width; must be even.
    base : float, default 10000.0
        Llama 3 uses 500000, Qwen3 1000000.
    scaling : RopeScaling, optional
        Llama 3.1's or YaRN's long-context rescaling.

    Returns
    -------
    numpy.ndarray, shape (d / 2,)
        $\theta_0 > \theta_1 > \dots$, float64.
    """
    d = check_size("d", d, minimum=2)
    if d % 2:
        raise ValueError(f"d must be even (features are rotated in pairs); got {d}")
    base = check_number("base", base, positive=True)
    check_memory("d", (d // 2,))
    theta = base ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    if scaling is None:
        return theta
    if not isinstance(scaling, RopeScaling):
        raise TypeError(f"scaling must be a RopeScaling or None; got {type(scaling).__name__}")
    if scaling.kind == "yarn":
        return _yarn_frequencies(theta, d, base, scaling)
    wavelength = 2 * np.pi / theta
    context, low, high = scaling.original_n_positions, scaling.low_freq_factor, scaling.high_freq_factor
    smooth = (context / wavelength - low) / (high - low)
    blended = (1 - smooth) * theta / scaling.factor + smooth * theta
    return np.where(
        wavelength < context / high, theta, np.where(wavelength > context / low, theta / scaling.factor, blended)
    )


def _yarn_frequencies(theta: NDArray[np.float64], d: int, base: float, scaling: RopeScaling) -> NDArray[np.float64]:
    """YaRN's blend of $\theta_i$ and $\theta_i / \text{factor}$ (see [`RopeScaling`][llmarch.RopeScaling])."""

    def pair(rotations: float) -> float:  # the pair that turns `rotations` times over the original context
        return d * math.log(scaling.original_n_positions / (rotations * 2 * math.pi)) / (2 * math.log(base))

    low = max(math.floor(pair(scaling.beta_fast)), 0)
    high = min(math.ceil(pair(scaling.beta_slow)), d - 1)
    high = high + 0.001 if high == low else high  # a ramp of one step, as YaRN's reference code has it
    ramp = np.clip((np.arange(d // 2, dtype=np.float64) - low) / (high - low), 0.0, 1.0)
    return (1 - ramp) * theta + ramp * theta / scaling.factor


def rotary_angles(
    positions: NDArray[Any], frequencies: NDArray[np.float64], dtype: Any
) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]]]:
    """``cos`` and ``sin`` of every angle $p\\,\\theta_i$: shape ``positions.shape + (d / 2,)``, in ``dtype``."""
    angles = np.asarray(positions, dtype=np.float64)[..., None] * frequencies
    return np.cos(angles).astype(dtype, copy=False), np.sin(angles).astype(dtype, copy=False)


def apply_rotary(
    x: NDArray[np.floating[Any]],
    cos: NDArray[np.floating[Any]],
    sin: NDArray[np.floating[Any]],
    layout: RotaryLayout = "half",
) -> NDArray[np.floating[Any]]:
    """Rotate the feature pairs of ``x`` ``(..., n, d)`` by the angles whose ``cos``, ``sin`` are ``(..., n, d/2)``.

    The kernel behind [`rotary_embedding`][llmarch.rotary_embedding], for inputs already
    checked; ``layout`` says which features form pair $i$.
    """
    half = x.shape[-1] // 2
    if layout == "half":
        x1, x2 = x[..., :half], x[..., half:]
        return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)
    even, odd = x[..., 0::2], x[..., 1::2]
    return np.stack([even * cos - odd * sin, even * sin + odd * cos], axis=-1).reshape(x.shape)


def rotary_embedding(
    x: ArrayLike,
    positions: ArrayLike | None = None,
    base: float = 10000.0,
    *,
    layout: RotaryLayout = "interleaved",
    scaling: RopeScaling | None = None,
) -> NDArray[np.floating[Any]]:
    r"""Rotary positional embedding, RoPE (Su et al. 2021, *RoFormer*).

    Instead of adding a position vector, RoPE rotates each pair of features of a query or
    key by an angle proportional to its position $p$. Pair $i$ turns at the rate
    $\theta_i = \text{base}^{-2i/d}$ ([`rotary_frequencies`][llmarch.rotary_frequencies]):

    $$\begin{pmatrix} x'_{a} \\ x'_{b} \end{pmatrix} =
    \begin{pmatrix} \cos p\theta_i & -\sin p\theta_i \\ \sin p\theta_i & \cos p\theta_i \end{pmatrix}
    \begin{pmatrix} x_{a} \\ x_{b} \end{pmatrix}$$

    Rotations compose by subtracting angles, so the score of a rotated query at position
    $m$ with a rotated key at position $n$ depends only on the offset $m - n$:
    $\langle R_m q, R_n k \rangle = \langle q, R_{n-m} k \rangle$. Apply it to $q$ and $k$
    (never to $v$) just before the dot products.

    Two layouts say which features $(a, b)$ form pair $i$:

    - ``"interleaved"``: $(x_{2i}, x_{2i+1})$, the block-diagonal matrix of the paper
      (eq. 15) and of Meta's original Llama code; it matches the sin/cos pairs of the
      sinusoidal encoding.
    - ``"half"`` ("rotate half"): $(x_i, x_{i + d/2})$, as GPT-NeoX and every Hugging Face
      Llama, Mistral and Qwen model compute it, because it needs no strided indexing.

    The two differ only by a fixed permutation of the features, so dot products and the
    relative-position property are the same, but weights trained with one layout need the
    columns of $W^Q$ and $W^K$ permuted to be used with the other (Hugging Face's Llama
    conversion script does exactly that).

    Parameters
    ----------
    x : array_like, shape (..., n, d)
        Queries or keys (per head); ``d`` must be even.
    positions : array_like, optional
        Position of each row, shape ``(n,)`` or broadcastable to ``(..., n)``; default
        ``0, ..., n - 1``. Pass ``np.arange(start, start + n)`` for new tokens after a
        KV cache of ``start`` tokens.
    base : float, default 10000.0
        Sets the slowest rotation, as in the sinusoidal encoding.
    layout : {"interleaved", "half"}, default "interleaved"
        Which features are paired (see above).
    scaling : RopeScaling, optional
        Llama 3.1's rescaled frequencies.

    Returns
    -------
    numpy.ndarray
        Same shape as ``x`` (broadcast with ``positions``) and the same float dtype; every
        pair keeps its length.
    """
    x = as_float_array("x", x, min_ndim=2, layout="(..., n, d)")
    n, d = x.shape[-2:]
    if d % 2 or d == 0:
        raise ValueError(f"x: last dimension d must be even and >= 2 (features rotate in pairs); got shape {x.shape}")
    base = check_number("base", base, positive=True)
    if layout not in ("interleaved", "half"):
        raise ValueError(f"layout must be 'interleaved' or 'half'; got {layout!r}")
    if positions is None:
        pos = np.arange(n, dtype=np.float64)
    else:
        pos = as_float_array("positions", positions, min_ndim=1, layout="(..., n)")
        if pos.shape[-1] != n:
            raise ValueError(f"positions: last dimension must be n = {n} (one per row of x); got shape {pos.shape}")
    try:
        shape = (*np.broadcast_shapes(x.shape[:-1], pos.shape), d)
    except ValueError:
        raise ValueError(f"positions of shape {pos.shape} must broadcast to x's (..., n) = {x.shape[:-1]}") from None
    cos, sin = rotary_angles(pos, rotary_frequencies(d, base, scaling), x.dtype)
    return apply_rotary(np.broadcast_to(x, shape), cos, sin, layout)
