"""Figures for the guide, drawn with matplotlib, that read in a light and in a dark page.

Each helper takes the numbers a snippet computed and returns an ordinary matplotlib figure,
so a snippet shows the computation and one call that draws it. `save_figure` writes any
figure (or a diagram from `llmarch.diagrams`) so that the same figure gives the same bytes on
every run (fixed SVG ids, no timestamp), into a file that appears only once it is complete.

Light and dark: an SVG saved here has a transparent background, and its text, axes and line
colours are CSS variables with a light and a dark value, chosen by the ``prefers-color-scheme``
media query inside the file. In an ``<img>``, browsers answer that query from the page's
``color-scheme``, so the figure follows the site's light/dark switch. Colour maps (viridis and
the like) are the same in both schemes: they are drawn on their own opaque cells.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import ArrayLike

from llmarch._validate import as_float_array

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "AttentionExplorer",
    "attention_explorer",
    "attention_heads",
    "attention_heatmap",
    "bar_chart",
    "category_grid",
    "heatmaps",
    "line_chart",
    "matrix_heatmap",
    "online_softmax_chart",
    "save_figure",
    "xy_chart",
]

# ---------------------------------------------------------------- one palette, two schemes
# Each role has a light and a dark value; both meet WCAG contrast on their page background
# (white, and Material's slate, about #1e2129): 4.5:1 for text, 3:1 for lines and shapes.
THEME: dict[str, tuple[str, str]] = {
    "fg": ("#1f2328", "#e3e6ec"),  # text, axes, ticks
    "muted": ("#59636e", "#a9b1bc"),  # secondary text, grid, arrows
    "bg": ("#fefefe", "#1e2129"),  # behind legends (not pure white: white stays white in both)
    "c0": ("#1764ab", "#6cb2ee"),  # series colours, told apart by dash and marker too
    "c1": ("#c4520a", "#f39a5b"),
    "c2": ("#19794f", "#4fcf94"),
    "c3": ("#8a3fa8", "#cf9ee6"),
    "c4": ("#866400", "#e2c152"),
    "c5": ("#b0305f", "#f28bb1"),
}
SERIES = ("c0", "c1", "c2", "c3", "c4", "c5")

# matplotlib draws with the light values; `save_figure` turns each into var(--role) in an SVG
# (so no other colour may equal one of them), and a PNG keeps them, on white.
_STAND_INS = {role: light for role, (light, _) in THEME.items()}


def theme_css(selector: str = "svg") -> str:
    """The CSS that gives every role of `THEME` its light value, and its dark value in a dark page."""
    light = ";".join(f"--{role}:{light}" for role, (light, _) in THEME.items())
    dark = ";".join(f"--{role}:{dark}" for role, (_, dark) in THEME.items())
    return f"{selector}{{{light}}}@media (prefers-color-scheme: dark){{{selector}{{{dark}}}}}"


def colour(role: str) -> str:
    """The colour to give a matplotlib artist for ``role`` (a key of `THEME`): it follows the page's scheme."""
    if role not in _STAND_INS:
        raise ValueError(f"role must be one of {sorted(_STAND_INS)}; got {role!r}")
    return _STAND_INS[role]


def _style() -> dict[str, Any]:
    from cycler import cycler

    fg, muted = _STAND_INS["fg"], _STAND_INS["muted"]
    return {
        "figure.facecolor": "none",
        "axes.facecolor": "none",
        "savefig.facecolor": "none",
        "savefig.transparent": True,
        "font.size": 10,
        "text.color": fg,
        "axes.labelcolor": fg,
        "axes.edgecolor": fg,
        "axes.titlesize": 11,
        "xtick.color": fg,
        "ytick.color": fg,
        "grid.color": muted,
        "grid.alpha": 0.35,
        "legend.facecolor": _STAND_INS["bg"],
        "legend.edgecolor": muted,
        "legend.framealpha": 0.85,
        "axes.prop_cycle": cycler(color=[_STAND_INS[s] for s in SERIES]),
        "svg.hashsalt": "llmarch",  # the same ids in every run
        "svg.fonttype": "path",  # text as shapes: the same picture whatever fonts a reader has
    }


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # draw to files; the guide never opens a window
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a dependency; only a broken install lacks it
        raise ImportError("llmarch.plotting needs matplotlib: pip install matplotlib") from None
    return plt


def _figure(*args: Any, **kwargs: Any) -> tuple[Figure, Any]:
    """``plt.subplots`` in the guide's style (transparent, themed colours, constrained layout)."""
    plt = _pyplot()
    with plt.rc_context(_style()):
        return plt.subplots(*args, layout="constrained", **kwargs)


def _styled() -> Any:
    """The guide's style in force: for what is added after `_figure` (legends, colour bars, a figure title).

    Each of those takes its colours from the settings in force when it is made; made outside
    this, a legend gets matplotlib's white box and a colour bar black ticks, unreadable in a dark page.
    """
    return _pyplot().rc_context(_style())


def _legend(owner: Any, *args: Any, **kwargs: Any) -> Any:
    """``owner.legend`` (axes or figure) in the guide's style: a themed box, not matplotlib's white one."""
    with _styled():
        return owner.legend(*args, **kwargs)


def _cell_text_colour(rgba: Sequence[float]) -> str:
    """Black or white, whichever reads better on a cell of colour ``rgba``."""
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3])
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.18 else "white"


def _annotate(ax: Any, image: Any, values: np.ndarray, fmt: str, fontsize: float) -> None:
    for (i, j), value in np.ndenumerate(values):
        colour_ = _cell_text_colour(image.cmap(image.norm(value)))
        ax.text(j, i, format(value, fmt), ha="center", va="center", fontsize=fontsize, color=colour_)


# ---------------------------------------------------------------- heatmaps
def attention_heatmap(
    weights: ArrayLike,
    queries: Sequence[str],
    keys: Sequence[str] | None = None,
    *,
    title: str = "",
) -> Figure:
    """Draw attention weights as a heatmap: one row per query, one column per key, each cell labelled.

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
    # Cells large enough for their two-decimal label to stay legible on a phone.
    cell = 0.4
    width = cell * w.shape[1] + 1.9
    fig, ax = _figure(figsize=(width, cell * w.shape[0] + 1.6))
    image = ax.imshow(w, cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_xticks(np.arange(len(keys)), labels=keys, rotation=45, ha="right")
    ax.set_yticks(np.arange(len(queries)), labels=queries)
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query (attending)")
    _annotate(ax, image, w, ".2f", 7.5)
    with _styled():
        fig.colorbar(image, ax=ax, label="attention weight", shrink=0.8)
    if title:
        ax.set_title(title)
    return fig


def matrix_heatmap(
    matrix: ArrayLike,
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    colorbar_label: str | None = "",
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    xticklabels: Sequence[str] | None = None,
    yticklabels: Sequence[str] | None = None,
    figsize: tuple[float, float] = (6.0, 4.0),
) -> Figure:
    """Draw any 2-D array as a heatmap (rows top to bottom), with a colour bar.

    Parameters
    ----------
    matrix : array_like, shape (rows, columns)
        The values; booleans are drawn as 0 and 1.
    title, xlabel, ylabel : str
        Text for the figure.
    colorbar_label : str or None
        The colour bar's label; ``None`` draws no colour bar.
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
    fig, ax = _figure(figsize=figsize)
    image = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    if xticklabels is not None:
        ax.set_xticks(np.arange(m.shape[1]), labels=list(xticklabels), rotation=45, ha="right")
    if yticklabels is not None:
        ax.set_yticks(np.arange(m.shape[0]), labels=list(yticklabels))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if colorbar_label is not None:
        with _styled():
            fig.colorbar(image, ax=ax, label=colorbar_label)
    return fig


def heatmaps(
    matrices: Mapping[str, ArrayLike],
    labels: Mapping[str, tuple[Sequence[str], Sequence[str]]] | None = None,
    *,
    title: str = "",
    xlabel: str = "key",
    ylabel: str = "query",
    colorbar_label: str | None = "attention weight",
    cmap: str = "viridis",
    vmin: float | None = 0.0,
    vmax: float | None = None,
    per_row: int = 3,
    panel_size: float = 2.5,
    label_rotation: float = 60.0,
) -> Figure:
    """Draw several matrices side by side on one colour scale, ``per_row`` panels to a row.

    Parameters
    ----------
    matrices : mapping of str to array_like, each 2-D
        Panel title -> values (booleans are drawn as 0 and 1).
    labels : mapping of str to (row labels, column labels), optional
        Tick labels per panel title; panels not named get numeric ticks.
    title : str
        Figure title.
    xlabel : str
        The x axis label.
    ylabel : str
        The y axis label (only on the first panel of each row).
    colorbar_label : str or None
        Label of the shared colour bar; ``None`` draws none.
    cmap : str
        A matplotlib colour map name.
    vmin : float or None
        The low end of the shared colour range.
    vmax : float, optional
        The high end of the shared colour range; by default the largest value of all panels.
    per_row : int
        Panels per row (2 keeps eight-by-eight heads legible on a phone).
    panel_size : float
        Width and height of one panel, in inches.
    label_rotation : float
        Angle of the column labels, in degrees (0 for labels of one character).
    """
    if not matrices:
        raise ValueError("matrices must hold at least one matrix; got none")
    values = {
        name: as_float_array(f"matrices[{name!r}]", m, ndim=2, layout="(rows, columns)") for name, m in matrices.items()
    }
    labels = dict(labels or {})
    for name, (rows, columns) in labels.items():
        if name not in values:
            raise ValueError(f"labels names {name!r}, which is not a panel of matrices ({sorted(values)})")
        if values[name].shape != (len(rows), len(columns)):
            raise ValueError(
                f"labels[{name!r}] must give {values[name].shape[0]} row and {values[name].shape[1]} column labels;"
                f" got {len(rows)} and {len(columns)}"
            )
    top = max(float(m.max()) for m in values.values()) if vmax is None else vmax
    n_cols = min(len(values), per_row)
    n_rows = -(-len(values) // n_cols)
    bar = 0.9 if colorbar_label is not None else 0.0
    fig, axes = _figure(
        n_rows, n_cols, figsize=(panel_size * n_cols + bar + 0.4, panel_size * n_rows + 0.5), squeeze=False
    )
    image = None
    for index, ax in enumerate(axes.flat):
        if index >= len(values):
            ax.set_axis_off()  # an incomplete last row leaves panels empty
            continue
        name, m = list(values.items())[index]
        image = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=top, interpolation="nearest")
        ax.set_title(name, fontsize=10)
        if name in labels:
            rows, columns = labels[name]
            ha = "right" if label_rotation else "center"
            ax.set_xticks(np.arange(len(columns)), labels=list(columns), rotation=label_rotation, ha=ha, fontsize=8.5)
            ax.set_yticks(np.arange(len(rows)), labels=list(rows), fontsize=8.5)
        ax.set_xlabel(xlabel)
        if index % n_cols == 0:
            ax.set_ylabel(ylabel)
    if colorbar_label is not None and image is not None:
        with _styled():
            fig.colorbar(image, ax=axes.ravel().tolist(), label=colorbar_label, shrink=0.8)
    if title:
        with _styled():
            fig.suptitle(title)
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
    panels = {f"head {head}": w[head] for head in range(w.shape[0])}
    labels = {name: (tokens, tokens) for name in panels}
    return heatmaps(panels, labels, title=title, vmin=0.0, vmax=1.0, per_row=2, panel_size=2.7)


def category_grid(
    kinds: ArrayLike,
    categories: Sequence[str],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    xticklabels: Sequence[str] | None = None,
    yticklabels: Sequence[str] | None = None,
) -> Figure:
    """Draw a grid of cells, each one of a few kinds, with a legend naming each kind's colour.

    Parameters
    ----------
    kinds : array_like of int, shape (rows, columns)
        The kind of each cell: ``0 .. len(categories) - 1``.
    categories : sequence of str
        The name of each kind, for the legend.
    title, xlabel, ylabel : str
        Text for the figure.
    xticklabels, yticklabels : sequence of str, optional
        One label per column / row.
    """
    k = np.asarray(kinds)
    if k.ndim != 2 or not np.issubdtype(k.dtype, np.integer):
        raise ValueError(f"kinds must be a 2-D array of integers (rows, columns); got {k.dtype} of shape {k.shape}")
    if k.size and (k.min() < 0 or k.max() >= len(categories)):
        raise ValueError(f"kinds must lie in 0..{len(categories) - 1} (one per category); got {k.min()}..{k.max()}")
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    # Opaque colours that read on a light and on a dark page alike.
    palette = ["#9aa1ab", "#f4a261", "#2a9d8f", "#6c8ebf", "#e76f51"][: len(categories)]
    fig, ax = _figure(figsize=(0.45 * k.shape[1] + 1.6, 0.45 * k.shape[0] + 1.9))
    ax.imshow(k, cmap=ListedColormap(palette), vmin=0, vmax=len(palette) - 1)
    if xticklabels is not None:
        ax.set_xticks(np.arange(k.shape[1]), labels=list(xticklabels), rotation=90)
    if yticklabels is not None:
        ax.set_yticks(np.arange(k.shape[0]), labels=list(yticklabels))
    ax.set_xticks(np.arange(k.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(k.shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color=colour("bg"), alpha=1.0, linewidth=2)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    handles = [Patch(color=c) for c in palette]
    _legend(fig, handles, list(categories), loc="outside lower center", ncols=min(3, len(palette)), fontsize=9)
    return fig


# ---------------------------------------------------------------- charts
_LINE_STYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P")


def _draw_curves(
    ax: Any, curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, markers: bool, logx: bool, logy: bool
) -> None:
    """Plot each curve, told apart by colour, dash and marker; log axes (x in powers of 2, plain labels)."""
    for index, (label, (xs, ys)) in enumerate(curves.items()):
        ax.plot(
            xs,
            ys,
            label=label,
            linestyle=_LINE_STYLES[index % len(_LINE_STYLES)],
            marker=_MARKERS[index % len(_MARKERS)] if markers else None,
            markevery=max(1, len(xs) // 12),
            markersize=5,
            linewidth=2,
        )
    if logx:
        from matplotlib.ticker import FuncFormatter

        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # 1024, not 2^10
    if logy:
        ax.set_yscale("log")


def _label_axes(ax: Any, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, which="major")


def line_chart(
    x: ArrayLike,
    series: Mapping[str, ArrayLike],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    logx: bool = False,
    logy: bool = False,
    markers: bool = True,
    vlines: Mapping[str, float] | None = None,
    figsize: tuple[float, float] = (6.4, 4.0),
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
    markers : bool
        Mark some points of each curve (off for smooth functions).
    vlines : mapping of str to float, optional
        Label -> x: a thin vertical line, labelled at the top, at each x.
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
    curves = {}
    for label, values in series.items():
        ys = as_float_array(f"series[{label!r}]", values, ndim=1, layout="(m,)")
        if ys.shape != xs.shape:
            raise ValueError(f"series[{label!r}] must have the shape of x {xs.shape}; got {ys.shape}")
        curves[label] = ys
    fig, ax = _figure(figsize=figsize)
    _draw_curves(ax, {label: (xs, ys) for label, ys in curves.items()}, markers=markers, logx=logx, logy=logy)
    for label, at in (vlines or {}).items():
        ax.axvline(at, color=colour("muted"), linewidth=1)
        ax.annotate(f" {label}", (at, 1.0), xycoords=("data", "axes fraction"), va="top", color=colour("muted"))
    _label_axes(ax, title, xlabel, ylabel)
    _legend(ax)
    return fig


def xy_chart(
    series: Mapping[str, tuple[ArrayLike, ArrayLike]],
    *,
    hlines: Mapping[str, float] | None = None,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    logx: bool = False,
    logy: bool = False,
    markers: bool = False,
    ylim: tuple[float | None, float | None] | None = None,
    figsize: tuple[float, float] = (6.4, 4.0),
) -> Figure:
    """Draw named curves, each over its own x values, and labelled horizontal lines (baselines, chance).

    [`line_chart`][llmarch.plotting.line_chart] shares one x axis between its curves; here
    each curve brings its own (training curves against steps or seconds, where every model
    stopped at another time).

    Parameters
    ----------
    series : mapping of str to (array_like, array_like)
        Legend label -> ``(x, y)``, two arrays of one shape ``(m,)`` (``m`` may differ between curves).
        It may be empty if ``hlines`` is not: the frame and the lines of runs not yet recorded.
    hlines : mapping of str to float, optional
        Legend label -> y: a dotted horizontal line across the chart at each y.
    title, xlabel, ylabel : str
        Text for the figure.
    logx, logy : bool
        Logarithmic axes (x in powers of 2, labelled as plain numbers).
    markers : bool
        Mark some points of each curve (for curves of few points).
    ylim : (float or None, float or None), optional
        The y range (``None`` leaves that end to matplotlib).
    figsize : tuple of float
        Width and height in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One axes (``fig.axes[0]``).
    """
    if not series and not hlines:
        raise ValueError("series must hold at least one curve (or hlines a line); got neither")
    curves = {}
    for label, pair in series.items():
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"series[{label!r}] must be a pair (x, y); got {type(pair).__name__}")
        xs = as_float_array(f"series[{label!r}][0]", pair[0], ndim=1, layout="(m,)")
        ys = as_float_array(f"series[{label!r}][1]", pair[1], ndim=1, layout="(m,)", finite=False)
        if ys.shape != xs.shape:
            raise ValueError(f"series[{label!r}]: y must have the shape of x {xs.shape}; got {ys.shape}")
        curves[label] = (xs, ys)
    fig, ax = _figure(figsize=figsize)
    _draw_curves(ax, curves, markers=markers, logx=logx, logy=logy)
    for index, (label, at) in enumerate((hlines or {}).items()):
        shade = colour("muted") if index % 2 == 0 else colour("fg")
        ax.axhline(at, color=shade, linestyle=":", linewidth=1.5, label=label)
    if ylim is not None:
        ax.set_ylim(*ylim)
    _label_axes(ax, title, xlabel, ylabel)
    _legend(ax, fontsize=9)
    return fig


def bar_chart(
    categories: Sequence[str],
    series: Mapping[str, ArrayLike],
    *,
    stacked: bool = False,
    horizontal: bool = False,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    logy: bool = False,
    figsize: tuple[float, float] = (6.4, 3.8),
) -> Figure:
    """Draw one bar per category and series: side by side, or ``stacked`` into one bar per category.

    Parameters
    ----------
    categories : sequence of str, length m
        One label per group of bars.
    series : mapping of str to array_like, each shape (m,)
        Legend label -> one value per category.
    stacked : bool
        Stack the series into one bar per category instead of placing them side by side.
    horizontal : bool
        Bars run left to right, categories top to bottom.
    title, xlabel, ylabel : str
        Text for the figure (``xlabel`` is along the categories, ``ylabel`` along the values).
    logy : bool
        A logarithmic value axis.
    figsize : tuple of float
        Width and height in inches.
    """
    names = list(categories)
    if not series:
        raise ValueError("series must hold at least one series; got none")
    bars = {}
    for label, values in series.items():
        ys = as_float_array(f"series[{label!r}]", values, ndim=1, layout="(m,)")
        if ys.shape != (len(names),):
            raise ValueError(f"series[{label!r}] must hold one value per category ({len(names)}); got {ys.shape}")
        bars[label] = ys
    fig, ax = _figure(figsize=figsize)
    at = np.arange(len(names))
    width = 0.7 if stacked else 0.8 / len(bars)
    base = np.zeros(len(names))
    draw = ax.barh if horizontal else ax.bar
    for index, (label, ys) in enumerate(bars.items()):
        offset = 0.0 if stacked else (index - (len(bars) - 1) / 2) * width
        if horizontal:
            draw(at + offset, ys, height=width, left=base if stacked else None, label=label)
        else:
            draw(at + offset, ys, width=width, bottom=base if stacked else None, label=label)
        if stacked:
            base = base + ys
    category_axis, value_axis = (ax.yaxis, ax.xaxis) if horizontal else (ax.xaxis, ax.yaxis)
    category_axis.set_ticks(at, labels=names)
    if horizontal:
        ax.invert_yaxis()  # the first category on top
    if logy:
        (ax.set_xscale if horizontal else ax.set_yscale)("log")
    (ax.set_ylabel if horizontal else ax.set_xlabel)(xlabel)
    (ax.set_xlabel if horizontal else ax.set_ylabel)(ylabel)
    value_axis.grid(True, which="major")
    if title:
        ax.set_title(title)
    _legend(ax, fontsize=9)
    return fig


def online_softmax_chart(
    scores: ArrayLike,
    block_ends: Sequence[int],
    running_max: Sequence[float],
    running_sum: Sequence[float],
) -> Figure:
    """Draw one query's scores read block by block: the running maximum over them, the running sum below.

    Parameters
    ----------
    scores : array_like, shape (n,)
        The scores, in the order they are read.
    block_ends : sequence of int
        The number of scores read after each block (the last is ``n``).
    running_max, running_sum : sequence of float
        $m$ and $\\ell$ after each block.
    """
    s = as_float_array("scores", scores, ndim=1, layout="(n,)")
    ends = np.asarray(block_ends, dtype=int)
    ms = as_float_array("running_max", running_max, ndim=1, layout="(blocks,)")
    ells = as_float_array("running_sum", running_sum, ndim=1, layout="(blocks,)")
    if not (len(ends) == len(ms) == len(ells)) or len(ends) == 0 or ends[-1] != len(s):
        raise ValueError(
            "block_ends, running_max and running_sum must give one value per block, the last block ending at"
            f" len(scores) = {len(s)}; got {len(ends)}, {len(ms)} and {len(ells)} values ending at {ends[-1:]}"
        )
    starts = np.concatenate([[0], ends[:-1]])
    fig, (top, bottom) = _figure(2, 1, figsize=(6.4, 4.6), sharex=True)
    top.bar(np.arange(len(s)), s, color=colour("c0"), alpha=0.55, label="score $s_j$")
    top.hlines(ms, starts - 0.5, ends - 0.5, color=colour("c1"), linewidth=2.5, label="running max $m$ after the block")
    bottom.plot(ends - 1, ells, "o-", color=colour("c2"), label=r"running sum $\ell$ after the block")
    for edge in ends[:-1]:
        for ax in (top, bottom):
            ax.axvline(edge - 0.5, color=colour("muted"), linestyle=":")
    top.set_ylabel("score")
    _legend(top, loc="lower left", fontsize=9)
    size = int(ends[0]) if len(set(np.diff(np.concatenate([[0], ends])))) == 1 else None
    bottom.set_xlabel("key position j" + (f" (blocks of {size})" if size else ""))
    bottom.set_ylabel(r"$\ell$")
    bottom.set_ylim(bottom=0)
    _legend(bottom, loc="lower right", fontsize=9)
    return fig


# ---------------------------------------------------------------- the interactive attention figure
@dataclass(frozen=True)
class AttentionExplorer:
    """Every layer's and head's attention over a few texts: a picture, and the data for exploring it.

    Saved with [`save_figure`][llmarch.plotting.save_figure] as one SVG. Read as an image,
    it shows one head over the first text (``shown``: what a reader sees without
    JavaScript, and in the notebook). Inside, a ``<metadata>`` element holds every weight as
    JSON (``DATA_ID``). On the guide's pages, a figure whose file name ends in
    ``.explorer.svg`` is read by the page script (``docs/javascripts/attention-explorer.js``),
    which lets the reader choose the text, the layer and the head, and point at a token to
    see its row.

    Attributes
    ----------
    tokens : tuple of tuple of str
        The tokens of each text, as they should be shown.
    weights : tuple of numpy.ndarray, each shape (layers, heads, n, n)
        Attention weights of every layer and head over each text (``n`` its length).
    title : str
        What the weights are (the model, trained or not).
    shown : tuple of int
        ``(layer, head)`` of the picture.
    """

    tokens: tuple[tuple[str, ...], ...]
    weights: tuple[np.ndarray, ...]
    title: str = ""
    shown: tuple[int, int] = (0, 0)

    DATA_ID = "llmarch-attention-data"
    SCALE = 100  # weights are stored in whole hundredths: the two decimals the page shows, and half the bytes

    def data(self) -> dict[str, Any]:
        """The JSON the page reads: the texts, and each row of weights up to its query (causal) in hundredths."""
        layers, heads = self.weights[0].shape[:2]
        texts = []
        for tokens, w in zip(self.tokens, self.weights, strict=True):
            rows = np.rint(w * self.SCALE).astype(int)
            causal = [[[row[: q + 1].tolist() for q, row in enumerate(head)] for head in layer] for layer in rows]
            texts.append({"tokens": list(tokens), "weights": causal})
        return {"title": self.title, "layers": layers, "heads": heads, "scale": self.SCALE, "texts": texts}

    def to_svg(self) -> str:
        """The picture (head ``shown`` over the first text) with `data` inside, as SVG text."""
        labels = [_visible(t) for t in self.tokens[0]]
        layer, head = self.shown
        name = f"layer {layer}, head {head}"
        fig = heatmaps(
            {name: self.weights[0][layer, head]},
            {name: (labels, labels)},
            title=self.title,
            vmin=0.0,
            vmax=1.0,
            per_row=1,
            panel_size=5.0,
            label_rotation=0.0,
        )
        plt = _pyplot()
        buffer = io.StringIO()
        with plt.rc_context(_style()):
            fig.savefig(buffer, format="svg", dpi=110, metadata={"Date": None})
        plt.close(fig)
        # JSON as XML text: &, < and > (of "]]>") occur only inside its strings, where a \u escape means the same.
        payload = json.dumps(self.data(), separators=(",", ":"), ensure_ascii=True)
        for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
            payload = payload.replace(char, escape)
        element = f'<metadata id="{self.DATA_ID}" data-format="llmarch-attention/1">{payload}</metadata>'
        return re.sub(r"(<svg\b[^>]*>)", lambda m: m[1] + element, _themed(buffer.getvalue()), count=1)


def _visible(token: str) -> str:
    """A token as a label: a space as the open-box sign, a newline as the return sign."""
    return token.replace(" ", "\u2423").replace("\n", "\u21b5")


def attention_explorer(
    tokens: Sequence[Sequence[str]], weights: Sequence[ArrayLike], *, title: str = "", shown: tuple[int, int] = (0, 0)
) -> AttentionExplorer:
    """Collect the attention of a model's every layer and head over a few texts, for the interactive figure.

    Parameters
    ----------
    tokens : sequence of sequence of str
        The tokens of each text (at least one text).
    weights : sequence of array_like, each shape (layers, heads, n, n)
        One array per text: the weights of every layer and head (``n`` = that text's length;
        every text the same ``layers`` and ``heads``) of causal self-attention: each row sums
        to 1 and ends at its query (nothing above the diagonal).
    title : str
        What the weights are.
    shown : tuple of int
        ``(layer, head)`` of the still picture (default the first head of the first layer).

    Returns
    -------
    AttentionExplorer
        Save it with [`save_figure`][llmarch.plotting.save_figure] as ``.svg``.
    """
    texts = [tuple(str(t) for t in text) for text in tokens]
    if not texts or len(texts) != len(weights):
        raise ValueError(
            f"tokens and weights must give one text each, at least one; got {len(texts)} and {len(weights)}"
        )
    arrays = []
    for i, (text, w) in enumerate(zip(texts, weights, strict=True)):
        a = as_float_array(f"weights[{i}]", w, ndim=4, layout="(layers, heads, n, n)")
        if a.shape[2:] != (len(text), len(text)) or (arrays and a.shape[:2] != arrays[0].shape[:2]):
            expected = arrays[0].shape[:2] if arrays else ("layers", "heads")
            raise ValueError(
                f"weights[{i}] must have shape {(*expected, len(text), len(text))} (tokens[{i}] has {len(text)});"
                f" got {a.shape}"
            )
        if np.triu(a, k=1).any():
            raise ValueError(f"weights[{i}] must be causal (no weight above the diagonal: each row ends at its query)")
        arrays.append(a)
    layers, heads = arrays[0].shape[:2]
    if (
        not isinstance(shown, tuple)
        or len(shown) != 2
        or not all(isinstance(i, int) for i in shown)
        or not (0 <= shown[0] < layers and 0 <= shown[1] < heads)
    ):
        raise ValueError(f"shown must be (layer, head) with 0 <= layer < {layers}, 0 <= head < {heads}; got {shown!r}")
    return AttentionExplorer(tuple(texts), tuple(arrays), title, shown)


# ---------------------------------------------------------------- saving
class _Drawing(Protocol):
    """What `llmarch.diagrams` returns: a picture that writes itself as SVG."""

    def to_svg(self) -> str: ...


def _themed(svg: str) -> str:
    """matplotlib's SVG with its stand-in colours turned into CSS variables, and their values added."""
    for role, stand_in in _STAND_INS.items():
        svg = svg.replace(stand_in, f"var(--{role})")
    return re.sub(r"(<svg\b[^>]*>)", lambda m: m[1] + f"\n <style>{theme_css()}</style>", svg, count=1)


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_figure(fig: Figure | _Drawing, path: str | Path) -> Path:
    """Save a matplotlib figure (``.svg`` or ``.png``) or a diagram (``.svg``) reproducibly, and close it.

    The file appears only once it is complete. An SVG reads in a light and in a dark page
    (see the module's description).
    """
    path = Path(path)
    if path.suffix not in {".svg", ".png"}:
        raise ValueError(f"path must end in .svg or .png; got {str(path)!r}")
    if hasattr(fig, "to_svg"):
        if path.suffix != ".svg":
            raise ValueError(f"a diagram is saved as .svg; got {str(path)!r}")
        _write_atomically(path, fig.to_svg().encode())
        return path
    plt = _pyplot()
    svg = path.suffix == ".svg"
    buffer = io.StringIO() if svg else io.BytesIO()
    with plt.rc_context(_style()):
        options = {"metadata": {"Date": None}} if svg else {"facecolor": "white", "transparent": False}
        fig.savefig(buffer, format=path.suffix[1:], dpi=110, **options)
    plt.close(fig)
    value = buffer.getvalue()
    _write_atomically(path, _themed(value).encode() if isinstance(value, str) else value)
    return path
