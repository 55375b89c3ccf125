"""Figures for the guide, drawn with matplotlib (install ``llmarch[plot]``).

The helpers return ordinary matplotlib figures; `save_figure` writes them so that the
same figure gives the same bytes on every run (fixed SVG ids, no timestamp).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from llmarch._validate import as_float_array

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["attention_heads", "attention_heatmap", "line_chart", "matrix_heatmap", "save_figure"]


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
    weights : array_like, shape (n_q, n_k)
        Rows are the queries' attention distributions (each sums to 1).
    queries : sequence of str, length n_q
        Row labels (the tokens that ask).
    keys : sequence of str, length n_k, optional
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


def matrix_heatmap(
    matrix: ArrayLike,
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    colorbar_label: str = "",
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    xticklabels: Sequence[str] | None = None,
    yticklabels: Sequence[str] | None = None,
    figsize: tuple[float, float] = (7.0, 4.0),
) -> Figure:
    """Draw any 2-D array as a heatmap (rows top to bottom), with a colour bar.

    Parameters
    ----------
    matrix : array_like, shape (rows, columns)
        The values; booleans are drawn as 0 and 1.
    title, xlabel, ylabel, colorbar_label : str
        Text for the figure.
    cmap : str
        A matplotlib colour map name.
    vmin, vmax : float, optional
        Colour range; defaults to the data's range.
    xticklabels, yticklabels : sequence of str, optional
        One label per column / row; by default matplotlib's numeric ticks.
    figsize : tuple of float
        Width and height in inches.
    """
    m = as_float_array("matrix", matrix, ndim=2, layout="(rows, columns)")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=figsize, facecolor="white", layout="constrained")
    image = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    if xticklabels is not None:
        ax.set_xticks(np.arange(m.shape[1]), labels=list(xticklabels), rotation=45, ha="right")
    if yticklabels is not None:
        ax.set_yticks(np.arange(m.shape[0]), labels=list(yticklabels))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    fig.colorbar(image, ax=ax, label=colorbar_label)
    return fig


def attention_heads(weights: ArrayLike, tokens: Sequence[str], *, title: str = "") -> Figure:
    """Draw every head's attention weights, two heads to a row (so they stay legible on a phone).

    Parameters
    ----------
    weights : array_like, shape (n_heads, n, n)
        Per-head attention weights of a self-attention layer.
    tokens : sequence of str, length n
        Labels for queries (rows) and keys (columns).
    title : str
        Figure title.
    """
    w = as_float_array("weights", weights, ndim=3, layout="(n_heads, n, n)")
    if w.shape[1:] != (len(tokens), len(tokens)):
        raise ValueError(f"weights must have shape (n_heads, {len(tokens)}, {len(tokens)}); got {w.shape}")
    plt = _pyplot()
    n_heads = w.shape[0]
    n_cols = min(n_heads, 2)
    n_rows = -(-n_heads // n_cols)
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(2.9 * n_cols + 1.0, 2.9 * n_rows + 0.4),
        facecolor="white",
        layout="constrained",
        squeeze=False,
    )
    ticks = np.arange(len(tokens))
    for head, ax in enumerate(axes.flat):
        if head >= n_heads:
            ax.set_axis_off()  # an odd number of heads leaves one panel empty
            continue
        image = ax.imshow(w[head], cmap="viridis", vmin=0.0, vmax=1.0)
        ax.set_title(f"head {head}")
        ax.set_xticks(ticks, labels=tokens, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(ticks, labels=tokens if head % n_cols == 0 else [], fontsize=8)
        if head % n_cols == 0:
            ax.set_ylabel("query")
        if head >= n_heads - n_cols:
            ax.set_xlabel("key")
    fig.colorbar(image, ax=axes.ravel().tolist(), label="attention weight", shrink=0.8)
    if title:
        fig.suptitle(title)
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


_LINE_STYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P")


def line_chart(
    x: ArrayLike,
    series: Mapping[str, ArrayLike],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    logx: bool = False,
    logy: bool = False,
    figsize: tuple[float, float] = (7.0, 4.2),
) -> Figure:
    """Draw several named curves over the same x values, told apart by colour, dash and marker.

    Parameters
    ----------
    x : array_like, shape (m,)
        The shared x values.
    series : mapping of str to array_like, each shape (m,)
        Legend label -> y values; NaN leaves a gap.
    title, xlabel, ylabel : str
        Text for the figure.
    logx, logy : bool
        Logarithmic axes.
    figsize : tuple of float
        Width and height in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One axes (``fig.axes[0]``), for annotations the caller may add.
    """
    xs = as_float_array("x", x, ndim=1, layout="(m,)")
    if not series:
        raise ValueError("series must hold at least one curve; got none")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=figsize, facecolor="white", layout="constrained")
    every = max(1, len(xs) // 12)
    for index, (label, values) in enumerate(series.items()):
        ys = as_float_array(f"series[{label!r}]", values, ndim=1, layout="(m,)")
        if ys.shape != xs.shape:
            raise ValueError(f"series[{label!r}] must have the shape of x {xs.shape}; got {ys.shape}")
        ax.plot(
            xs,
            ys,
            label=label,
            linestyle=_LINE_STYLES[index % len(_LINE_STYLES)],
            marker=_MARKERS[index % len(_MARKERS)],
            markevery=every,
            markersize=5,
            linewidth=2,
        )
    if logx:
        from matplotlib.ticker import FuncFormatter

        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # 1024, not 2^10
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    return fig
