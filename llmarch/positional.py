r"""Positional encodings: telling a permutation-blind model where each token sits.

Attention treats its input as a set; without position information "dog bites man" and
"man bites dog" look the same. A positional encoding is added to (or, for rotary, applied
inside) the token embeddings so that order matters.
"""

from __future__ import annotations



import numpy as np
from numpy.typing import NDArray

from llmarch._validate import check_size

__all__ = ["sinusoidal_positional_encoding"]


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
    if not base > 0:
        raise ValueError(f"base must be a positive number; got {base!r}")
    positions = np.arange(n_positions, dtype=np.float64)[:, None]
    rates = base ** (-np.arange(0, d_model, 2, dtype=np.float64) / d_model)
    angles = positions * rates  # (n_positions, ceil(d_model / 2))
    pe = np.empty((n_positions, d_model), dtype=np.float64)
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return pe


