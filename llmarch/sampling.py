r"""Choosing the next token from a row of logits: greedy, temperature, top-k."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from llmarch._validate import as_float_array, as_generator, check_size
from llmarch.attention import softmax

__all__ = ["sample_next_token"]


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
        Scores of every candidate next token; $-\infty$ marks a token that may not be
        chosen. NaN and $+\infty$ are errors.
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
    z = as_float_array("logits", logits, ndim=1, layout="(vocab_size,)", allow_neg_inf=True).astype(np.float64)
    temperature = check_temperature(temperature)
    top_k = None if top_k is None else check_size("top_k", top_k, minimum=1)
    rng = as_generator("rng", rng)
    if z.size == 0:
        raise ValueError("logits must hold at least one score; got an empty array")
    if np.isneginf(z).all():
        raise ValueError("logits: every score is -inf, so no token may be chosen")
    return _sample(z, temperature, top_k, rng)


def _sample(z: np.ndarray, temperature: float, top_k: int | None, rng: np.random.Generator) -> int:
    """[`sample_next_token`][llmarch.sample_next_token] for checked arguments."""
    if temperature == 0.0:
        return int(np.argmax(z))
    candidates = np.arange(z.size)
    if top_k is not None and top_k < z.size:
        candidates = np.sort(np.argpartition(z, -top_k)[-top_k:])  # sorted, so the draw is reproducible
    probs = softmax(z[candidates] / temperature)
    return int(rng.choice(candidates, p=probs))


def check_temperature(temperature: Any) -> float:
    """``temperature`` as a float >= 0, or a clear error."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)):
        raise TypeError(f"temperature must be a number >= 0; got {type(temperature).__name__} {temperature!r}")
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be a finite number >= 0 (0 = greedy); got {temperature!r}")
    return float(temperature)
