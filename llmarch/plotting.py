"""Figures for the guide, drawn with matplotlib (install ``llmarch[plot]``).

The helpers return ordinary matplotlib figures; :func:`save_figure` writes them so that the
same figure gives the same bytes on every run (fixed SVG ids, no timestamp).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from llmarch._validate import as_float_array

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["attention_heatmap", "save_figure"]


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # draw to files; the guide never opens a window
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the install
        raise ImportError("llmarch.plotting needs matplotlib: pip install 'llmarch[plot]'") from None
    return plt


def attention_heatmap(
    weights: ArrayLike,
    queries: Sequence[str],
    keys: Sequence[str] | None = None,
    *,
    title: str = "",
) -> Figure:
    """Draw attention weights as a heatmap: one row per query, one column per key.

    Parameters
    ----------
    weights : array_like, shape ``(n_q, n_k)``
        Rows are the queries' attention distributions (each sums to 1).
    queries : sequence of str, length ``n_q``
        Row labels (the tokens that ask).
    keys : sequence of str, length ``n_k``, optional
        Column labels (the tokens that answer); defaults to ``queries``.
    title : str
        Figure title.
    """
    w = as_float_array("weights", weights, ndim=2, layout="(n_q, n_k)")
    keys = list(queries) if keys is None else list(keys)
    if w.shape != (len(queries), len(keys)):
        raise ValueError(
            f"weights must have shape (len(queries), len(keys)) = {(len(queries), len(keys))}; got {w.shape}"
        )
    plt = _pyplot()
    size = 1.6 + 0.5 * max(w.shape)
    fig, ax = plt.subplots(figsize=(size + 1.2, size), facecolor="white", layout="constrained")
    image = ax.imshow(w, cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_xticks(np.arange(len(keys)), labels=keys, rotation=45, ha="right")
    ax.set_yticks(np.arange(len(queries)), labels=queries)
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query (attending)")
    for (i, j), value in np.ndenumerate(w):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8, color="black" if value > 0.6 else "white")
    fig.colorbar(image, ax=ax, label="attention weight")
    if title:
        ax.set_title(title)
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save ``fig`` (format from the suffix: ``.svg`` or ``.png``) reproducibly and close it."""
    plt = _pyplot()
    path = Path(path)
    with plt.rc_context({"svg.hashsalt": "llmarch", "svg.fonttype": "path"}):
        metadata = {"Date": None} if path.suffix == ".svg" else {}
        fig.savefig(path, metadata=metadata, dpi=110)
    plt.close(fig)
    return path
