r"""A causal 1-D convolution over a sequence: the third layer type of Vaswani et al.'s Table 1.

Each output position mixes only the $k$ inputs that end at it (a window of width $k$, the
kernel size), with the same weights at every position. All positions are computed at once,
like attention; but information travels at most $k - 1$ positions per layer, so linking two
tokens $n$ apart takes a stack of about $n / (k-1)$ layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, as_generator, check_memory, check_size

__all__ = ["Conv1D"]

Array = NDArray[np.floating[Any]]


@dataclass
class Conv1D:
    r"""Causal 1-D convolution with kernel size $k$ (zero padding on the left).

    $$y_t = \sum_{m=0}^{k-1} x_{t-k+1+m}\, W_m + b, \qquad x_s = 0 \text{ for } s < 1$$

    It computes in the dtype of its weights, fixed when it is made (``b`` takes the dtype of ``w``).

    Attributes
    ----------
    w : numpy.ndarray, shape (k, d_in, d_out)
        One ``(d_in, d_out)`` matrix per offset; ``w[k-1]`` applies to the current position.
    b : numpy.ndarray, shape (d_out,)
        Bias.
    """

    w: Array
    b: Array

    def __post_init__(self) -> None:
        self.w = as_float_array("w", self.w, ndim=3, layout="(k, d_in, d_out)")
        if 0 in self.w.shape:
            raise ValueError(f"w must have shape (k, d_in, d_out) with every size >= 1; got {self.w.shape}")
        self.b = as_float_array("b", self.b, ndim=1, layout="(d_out,)").astype(self.w.dtype, copy=False)
        if self.b.shape != (self.w.shape[2],):
            raise ValueError(f"b must have shape (d_out,) = ({self.w.shape[2]},); got {self.b.shape}")

    @classmethod
    def init(
        cls,
        kernel_size: int,
        d_in: int,
        d_out: int,
        rng: np.random.Generator | None = None,
        *,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> Conv1D:
        r"""Weights and bias from $\mathcal{U}(-a, a)$, $a = 1/\sqrt{k\, d_\text{in}}$ (PyTorch's default)."""
        kernel_size = check_size("kernel_size", kernel_size, minimum=1)
        d_in = check_size("d_in", d_in, minimum=1)
        d_out = check_size("d_out", d_out, minimum=1)
        rng = as_generator("rng", rng)
        check_memory("kernel_size, d_in, d_out", (kernel_size, d_in, d_out), dtype)
        bound = 1.0 / np.sqrt(kernel_size * d_in)
        return cls(
            rng.uniform(-bound, bound, size=(kernel_size, d_in, d_out)).astype(dtype),
            rng.uniform(-bound, bound, size=d_out).astype(dtype),
        )

    @property
    def kernel_size(self) -> int:
        """Window width $k$."""
        return int(self.w.shape[0])

    @property
    def d_in(self) -> int:
        """Input width."""
        return int(self.w.shape[1])

    @property
    def d_out(self) -> int:
        """Output width."""
        return int(self.w.shape[2])

    def __call__(self, x: ArrayLike) -> Array:
        """Apply to ``x`` of shape ``(..., n, d_in)``; returns ``(..., n, d_out)``, every position at once."""
        x = as_float_array("x", x, min_ndim=2, layout="(..., n, d_in)").astype(self.w.dtype, copy=False)
        if x.shape[-1] != self.d_in:
            raise ValueError(f"x: last dimension must be d_in = {self.d_in}; got shape {x.shape}")
        if x.shape[-2] == 0:
            raise ValueError(f"x must hold at least one position (..., n, d_in); got shape {x.shape}")
        padding = [(0, 0)] * (x.ndim - 2) + [(self.kernel_size - 1, 0), (0, 0)]
        windows = sliding_window_view(np.pad(x, padding), self.kernel_size, axis=-2)  # (..., n, d_in, k)
        return np.einsum("...nck,kco->...no", windows, self.w) + self.b
