"""Pictures of the architecture, drawn from the model objects themselves, as SVG.

Each function takes what the code built (a `GPT`, a `Transformer`, a block, a
`MultiHeadAttention`, the arrays of one attention, the shapes a `KVCache` went through) and
returns a `Diagram`: its boxes carry the attribute names (``wte``, ``ln_1``, ``attn``,
``mlp``, ...) and the sizes read from that object, so a picture cannot drift from the code.
Save one with `llmarch.plotting.save_figure` like any figure.

Hand-written SVG rather than matplotlib (one comment's worth of why): these are boxes, arrows
and short labels whose placement is the whole point, which a plotting library's axes and
layout engines only get in the way of; as SVG elements they stay a few kilobytes, keep their
text as text (searchable, sharp at any zoom), and take their colours from CSS variables, so one
file reads on the light and on the dark page (see `llmarch.plotting`). The drawing needs
nothing beyond the standard library.

Architecture diagrams (a block, a GPT, the encoder-decoder) read from the bottom up, as in
Vaswani et al. (2017); computations (one attention, the heads, the cache) read from the top down.
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from llmarch.plotting import theme_css

__all__ = [
    "Diagram",
    "attention_diagram",
    "block_diagram",
    "encoder_decoder_diagram",
    "gpt_diagram",
    "kv_cache_diagram",
    "multi_head_diagram",
]

# Box colours per kind of part, light and dark: (fill, stroke) in each scheme. Text on a fill
# is the theme's foreground, which reads on both the light and the dark fill.
_KINDS: dict[str, tuple[str, str, str, str]] = {
    "attn": ("#fde3cb", "#b85a12", "#5b3314", "#f0a35e"),
    "mlp": ("#d8e8f8", "#1f68ad", "#1b3a5a", "#7fb6ee"),
    "norm": ("#fbefb7", "#8f6c00", "#4a3f0f", "#e3c54f"),
    "embed": ("#f5d9e8", "#a3356f", "#4f2740", "#ea8cc0"),
    "out": ("#d5efdd", "#1e7d46", "#1a452b", "#6fd49a"),
    "data": ("#eceff3", "#7b8590", "#2b3038", "#8b949e"),
    "group": ("none", "#8b949e", "none", "#7b8590"),
}
_ACCENT = ("#d84315", "#ff8a65")  # the part a page is about

_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, "DejaVu Sans", sans-serif'
_MONO = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace'


def _css() -> str:
    light = ";".join(f"--{k}-fill:{v[0]};--{k}-line:{v[1]}" for k, v in _KINDS.items())
    dark = ";".join(f"--{k}-fill:{v[2]};--{k}-line:{v[3]}" for k, v in _KINDS.items())
    boxes = "".join(f".{k}{{fill:var(--{k}-fill);stroke:var(--{k}-line)}}" for k in _KINDS)
    return (
        theme_css()
        + f"svg{{{light};--accent:{_ACCENT[0]}}}"
        + f"@media (prefers-color-scheme: dark){{svg{{{dark};--accent:{_ACCENT[1]}}}}}"
        + f"text{{font-family:{_FONT};font-size:13px;fill:var(--fg)}}"
        + f".code{{font-family:{_MONO};font-size:11.5px}}"
        + ".small{font-size:11.5px}.tiny{font-size:10.5px}.muted{fill:var(--muted)}"
        + ".title{font-size:14px;font-weight:600}"
        + "rect,circle{stroke-width:1.4}"
        + boxes
        + ".wire{fill:none;stroke:var(--muted);stroke-width:1.6}.head{fill:var(--muted)}"
        + ".plus{fill:var(--bg);stroke:var(--muted)}.plus-bar{stroke:var(--muted);stroke-width:1.6}"
        + ".hl{stroke:var(--accent);stroke-width:3}.dim{opacity:.5}"
        + ".cell{fill:var(--bg);stroke:var(--muted);stroke-width:.6}"
    )


_RICH = re.compile(r"([_^])\{([^}]*)\}")


def _rich(text: str) -> str:
    """Text with ``x_{sub}`` and ``x^{sup}`` as shifted, smaller tspans; everything else escaped."""
    out, at = [], 0
    for m in _RICH.finditer(text):
        out.append(html.escape(text[at : m.start()]))
        shift = "sub" if m[1] == "_" else "super"
        out.append(f'<tspan baseline-shift="{shift}" font-size="75%">{html.escape(m[2])}</tspan>')
        at = m.end()
    out.append(html.escape(text[at:]))
    return "".join(out)


def _plain(text: str) -> str:
    """``x_{sub}`` as ``x_sub``, for the text alternative."""
    return _RICH.sub(lambda m: ("_" if m[1] == "_" else "^") + m[2], text)


@dataclass
class Diagram:
    """An SVG picture: ``to_svg()`` gives the file; ``description`` says in words what it shows.

    Attributes
    ----------
    width, height : float
        The picture's size in CSS pixels.
    title : str
        A short name (the SVG's ``<title>``).
    description : str
        What the picture shows, for readers who cannot see it (the SVG's ``<desc>``; a page
        gives the same in its image's alt text).
    """

    width: float
    height: float
    title: str
    description: str
    parts: list[str] = field(default_factory=list, repr=False)
    top: float = field(default=float("inf"), repr=False)  # the highest y drawn so far

    def _used(self, *ys: float) -> None:
        self.top = min(self.top, *ys)

    def heading(self, text: str, margin: float = 12) -> None:
        """Move what is drawn so far up to just below a title line, and crop the picture there."""
        shift = 34 - self.top
        self.parts = [f'<g transform="translate(0 {shift:g})">', *self.parts, "</g>"]
        self.height += shift
        self.top = 34
        self.text(self.width / 2, 16, text, "title")

    # ------------------------------------------------------------ drawing
    def box(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        kind: str,
        label: str,
        detail: str = "",
        *,
        code: str = "",
        state: str = "",
    ) -> tuple[float, float, float, float]:
        """A rounded box of ``kind`` with a label and, below it, the code name and a detail line."""
        self._used(y)
        rect_class = f"{kind} hl" if state == "hl" else kind
        self.parts.append('<g class="dim">' if state == "dim" else "<g>")
        self.parts.append(f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="6" class="{rect_class}"/>')
        lines = [(label, "" if w >= 150 else "small")] + ([(detail, "small")] if detail or code else [])
        step = 15
        top = y + h / 2 - (len(lines) - 1) * step / 2
        for i, (text, cls) in enumerate(lines):
            ty = top + i * step
            if i == 1 and code:
                sep = " · " if text else ""
                self.parts.append(
                    f'<text x="{x + w / 2:g}" y="{ty:g}" text-anchor="middle" dominant-baseline="central" '
                    f'class="small"><tspan class="code">{html.escape(code)}</tspan>{sep}{_rich(text)}</text>'
                )
            else:
                self.text(x + w / 2, ty, text, cls)
        self.parts.append("</g>")
        return (x, y, w, h)

    def text(self, x: float, y: float, text: str, cls: str = "", anchor: str = "middle", rotate: float = 0) -> None:
        self._used(y - 8)
        transform = f' transform="rotate({rotate:g} {x:g} {y:g})"' if rotate else ""
        klass = f' class="{cls}"' if cls else ""
        self.parts.append(
            f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}" dominant-baseline="central"{klass}{transform}>'
            f"{_rich(text)}</text>"
        )

    def wire(self, *points: tuple[float, float], arrow: bool = True, dashed: bool = False) -> None:
        """A line through ``points``; with an arrowhead at the last one."""
        self._used(*(y for _, y in points))
        d = " ".join(f"{'M' if i == 0 else 'L'}{x:g},{y:g}" for i, (x, y) in enumerate(points))
        end = ' marker-end="url(#arrow)"' if arrow else ""
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        self.parts.append(f'<path d="{d}" class="wire"{end}{dash}/>')

    def plus(self, x: float, y: float, r: float = 9) -> None:
        """The residual addition: a circled plus."""
        self.parts.append(f'<circle cx="{x:g}" cy="{y:g}" r="{r:g}" class="plus"/>')
        self.parts.append(
            f'<path d="M{x - r + 4:g},{y:g} H{x + r - 4:g} M{x:g},{y - r + 4:g} V{y + r - 4:g}" class="plus-bar"/>'
        )

    def group(self, x: float, y: float, w: float, h: float, label: str) -> None:
        """A dashed frame around a repeated stack, its label at the top right."""
        self._used(y)
        self.parts.append(
            f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="10" class="group" stroke-dasharray="6 4"/>'
        )
        self.text(x + w - 8, y + 12, label, "small muted", anchor="end")

    def cells(
        self,
        x: float,
        y: float,
        values: np.ndarray,
        *,
        cell: tuple[float, float] = (38, 24),
        role: str = "c0",
        scale: float | None = None,
        rows: Sequence[str] = (),
        columns: Sequence[str] = (),
        fmt: str = ".2f",
    ) -> tuple[float, float]:
        """A matrix as a grid of cells, each shaded by its size and labelled with its value."""
        cw, ch = cell
        finite = values[np.isfinite(values)]
        top = scale if scale is not None else (float(np.abs(finite).max()) if finite.size else 1.0) or 1.0
        for (i, j), value in np.ndenumerate(values):
            cx, cy = x + j * cw, y + i * ch
            self.parts.append(f'<rect x="{cx:g}" y="{cy:g}" width="{cw:g}" height="{ch:g}" class="cell"/>')
            if np.isfinite(value) and value != 0:
                shade = 0.12 + 0.38 * min(1.0, abs(value) / top)
                fill = f"var(--{role if value > 0 else 'c1'})"
                self.parts.append(
                    f'<rect x="{cx + 0.6:g}" y="{cy + 0.6:g}" width="{cw - 1.2:g}" height="{ch - 1.2:g}" '
                    f'style="fill:{fill}" fill-opacity="{shade:.2f}"/>'
                )
            label = "−∞" if value == -np.inf else format(value, fmt).replace("-", "−")
            self.text(cx + cw / 2, cy + ch / 2, label, "small")
        for i, name in enumerate(rows):
            self.text(x - 6, y + i * ch + ch / 2, name, "small muted", anchor="end")
        for j, name in enumerate(columns):
            self.text(x + j * cw + cw / 2, y - 9, name, "small muted")
        return (x + values.shape[1] * cw, y + values.shape[0] * ch)

    # ------------------------------------------------------------ output
    def to_svg(self) -> str:
        """The picture as a standalone SVG file (text, with its title and description inside)."""
        w, h = f"{self.width:g}", f"{self.height:g}"
        return "\n".join(
            [
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
                'role="img" aria-labelledby="title desc">',
                f'<title id="title">{html.escape(self.title)}</title>',
                f'<desc id="desc">{html.escape(self.description)}</desc>',
                f"<style>{_css()}</style>",
                '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                'orient="auto-start-reverse"><path d="M0,1 L10,5 L0,9 z" class="head"/></marker></defs>',
                *self.parts,
                "</svg>",
                "",
            ]
        )


# ---------------------------------------------------------------- reading the model objects
def _fields(obj: Any) -> list[tuple[str, Any]]:
    """An object's parts in the order its dataclass declares them (the order the code names them)."""
    if dataclasses.is_dataclass(obj):
        return [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
    return list(vars(obj).items())


def _is_norm(obj: Any) -> bool:
    return "Norm" in type(obj).__name__


def _is_attention(obj: Any) -> bool:
    return hasattr(obj, "n_heads") and hasattr(obj, "w_q")


def _sublayers(block: Any) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """The block's sublayers (attention and feed-forward, in order) and its norms (in order)."""
    parts = [(name, value) for name, value in _fields(block) if not isinstance(value, (str, int, float, type(None)))]
    norms = [(name, value) for name, value in parts if _is_norm(value)]
    layers = [(name, value) for name, value in parts if not _is_norm(value)]
    return layers, norms


def _placement(block: Any) -> str:
    """``"pre"`` or ``"post"``: where the block's norms go (GPT's blocks are pre-LN)."""
    norm = getattr(block, "norm", "pre")
    return norm if norm in ("pre", "post") else "pre"


_ACTIVATIONS = {"relu": "ReLU", "gelu": "GELU", "gelu_tanh": "GELU (tanh)", "silu": "SiLU"}


def _describe(name: str, layer: Any, causal: bool) -> tuple[str, str, str]:
    """(kind, label, detail) of a sublayer, from its type and sizes."""
    if _is_attention(layer):
        heads, d_head = int(layer.n_heads), int(layer.d_head)
        kv = getattr(layer, "n_kv_heads", None)
        detail = f"{heads} heads × {d_head}" + (f", {kv} KV heads" if kv and kv != heads else "")
        if "cross" in name:
            label = "Cross-attention"
        else:
            label = "Masked self-attention" if causal else "Self-attention"
        return "attn", label, detail
    weight = getattr(layer, "w1", None)
    activation = _ACTIVATIONS.get(str(getattr(layer, "activation", "")), str(getattr(layer, "activation", "")))
    if weight is not None and np.ndim(weight) == 2:
        d_model, d_ff = np.shape(weight)
        detail = f"{d_model} → {d_ff} → {d_model}" + (f", {activation}" if activation else "")
    else:
        detail = activation
    return "mlp", "Feed-forward", detail


def _state(names: Iterable[str], highlight: Collection[str]) -> str:
    if not highlight:
        return ""
    return "hl" if any(n in highlight for n in names) else "dim"


def _marked_note(marked: Collection[str]) -> str:
    return f" Marked: {', '.join(sorted(marked))}; the other parts are faded." if marked else ""


def _as_set(highlight: str | Collection[str] | None) -> set[str]:
    if highlight is None:
        return set()
    return {highlight} if isinstance(highlight, str) else set(highlight)


def _draw_block(
    d: Diagram,
    block: Any,
    *,
    x: float,
    bottom: float,
    width: float,
    causal: bool,
    highlight: Collection[str] = (),
    compact: bool = False,
) -> tuple[float, float, dict[str, tuple[float, float, float, float]]]:
    """Draw one block from ``bottom`` upwards, in ``width``; return its top y, the stream's x, and each part's box.

    Pre-LN: the residual stream runs straight up the left; each sublayer branches off it through
    its norm and is added back. Post-LN: the norms sit on the stream itself, after each addition.
    ``compact`` (a block inside a whole model) draws smaller boxes, and drops the size line
    when the column is too narrow for it.
    """
    layers, norms = _sublayers(block)
    pre = _placement(block) == "pre"
    norm_w = 96 if compact else 110
    stream = x + (30 if pre else norm_w / 2 + 4)  # the residual stream's x
    col_x = x + (62 if pre else norm_w + 20)  # the column of sublayer boxes
    col_w = width - (col_x - x)
    mid = col_x + col_w / 2
    sub_h, norm_h = (38, 28) if compact else (46, 30)
    detailed = not compact or col_w >= 200
    boxes: dict[str, tuple[float, float, float, float]] = {}
    y = bottom
    for index, (name, layer) in enumerate(layers):
        norm_name, norm = norms[index] if index < len(norms) else ("", None)
        kind, label, detail = _describe(name, layer, causal)
        branch = y - 10
        d.wire((stream, y), (stream, branch), arrow=False)
        if pre and norm is not None:
            norm_top = branch - 18 - norm_h
            d.wire((stream, branch), (mid, branch), (mid, norm_top))
            nx = col_x + (col_w - norm_w) / 2
            boxes[norm_name] = _norm_box(d, nx, norm_top, norm_w, norm_h, norm_name, norm, highlight, named=not compact)
            if compact:  # its name beside it, where the column has room
                d.text(nx + norm_w + 6, norm_top + norm_h / 2, norm_name, "code muted", anchor="start")
            sub_top = norm_top - 14 - sub_h
            d.wire((mid, norm_top), (mid, sub_top + sub_h))
        else:
            sub_top = branch - 30 - sub_h
            d.wire((stream, branch), (mid, branch), (mid, sub_top + sub_h))
        boxes[name] = d.box(
            col_x,
            sub_top,
            col_w,
            sub_h,
            kind,
            label,
            detail if detailed else "",
            code=name,
            state=_state([name], highlight),
        )
        add_y = sub_top - 16
        d.wire((mid, sub_top), (mid, add_y), (stream + 10, add_y))
        d.wire((stream, branch), (stream, add_y + 10))
        d.plus(stream, add_y)
        y = add_y - 9
        if not pre and norm is not None:
            norm_top = y - 14 - norm_h
            d.wire((stream, y), (stream, norm_top + norm_h))
            boxes[norm_name] = _norm_box(d, stream - norm_w / 2, norm_top, norm_w, norm_h, norm_name, norm, highlight)
            y = norm_top
    return y, stream, boxes


def _norm_box(
    d: Diagram,
    x: float,
    top: float,
    w: float,
    h: float,
    name: str,
    norm: Any,
    highlight: Collection[str],
    *,
    named: bool = True,
) -> tuple[float, float, float, float]:
    """A norm's box, labelled with its class and (``named``) its attribute name."""
    return d.box(x, top, w, h, "norm", type(norm).__name__, code=name if named else "", state=_state([name], highlight))


def _sizes(block: Any, causal: bool) -> str:
    """One line with the sizes of a block's sublayers, for a picture whose boxes have no room for them."""
    layers, _ = _sublayers(block)
    seen: dict[str, str] = {}
    for name, layer in layers:
        kind, _, detail = _describe(name, layer, causal)
        seen.setdefault("attention" if kind == "attn" else "feed-forward", detail)
    return "; ".join(f"{what}: {_plain(detail)}" for what, detail in seen.items())


# ---------------------------------------------------------------- one block
def block_diagram(block: Any, *, highlight: str | Collection[str] | None = None, title: str | None = None) -> Diagram:
    """One transformer block as the code builds it: its sublayers, norms and residual additions.

    Parameters
    ----------
    block : GPTBlock, EncoderLayer or DecoderLayer
        The block to draw; its attribute names, sizes and norm placement (``norm="pre"`` or
        ``"post"``; a GPT block is pre-LN) are read from it.
    highlight : str or collection of str, optional
        Attribute names (``"attn"``, ``"mlp"``, ``"ln_1"``, ...) to mark; the other parts fade.
    title : str, optional
        Shown above the block; by default "Pre-LN block" or "Post-LN block" and its class name.

    Returns
    -------
    Diagram
        About 360 pixels wide, read from the bottom up.
    """
    marked = _as_set(highlight)
    layers, norms = _sublayers(block)
    if not layers:
        raise ValueError(f"block must have attention or feed-forward sublayers; {type(block).__name__} has none")
    known = {name for name, _ in layers + norms}
    if marked - known:
        raise ValueError(f"highlight must name parts of the block ({', '.join(sorted(known))}); got {sorted(marked)}")
    pre = _placement(block) == "pre"
    causal = "Encoder" not in type(block).__name__
    group_h = 150 if pre else 158
    width, height = 360.0, 80 + group_h * len(layers) + 50
    title = title or f"{'Pre' if pre else 'Post'}-LN block ({type(block).__name__})"
    parts = []
    for name, layer in layers:
        _, label, detail = _describe(name, layer, causal)
        parts.append(f"{label.lower()} ({name}, {_plain(detail)})")
    order = (
        "each sublayer reads a layer-normed copy of the stream and adds its output back"
        if pre
        else "each sublayer's output is added to the stream, which is then layer-normed"
    )
    d = Diagram(width, height, title, "")
    d.description = (
        f"{title}, read from the bottom up: the input x enters the residual stream, then "
        + ", then ".join(parts)
        + f"; {order}. Output y has the input's shape."
        + _marked_note(marked)
    )
    bottom = height - 36
    d.text(40 if pre else 69, height - 18, "x  (n × d_{model})", anchor="start" if pre else "middle")
    top, stream, boxes = _draw_block(
        d, block, x=10, bottom=bottom - 8, width=width - 20, causal=causal, highlight=marked
    )
    d.wire((stream, top), (stream, top - 18))
    d.text(stream + 10, top - 26, "y  (n × d_{model})", anchor="start")
    d.text(stream - 9, bottom - 16, "residual stream", "tiny muted", rotate=-90, anchor="start")
    if "cross_attn" in boxes:
        bx, by, bw, _ = boxes["cross_attn"]
        d.text(bx + bw - 4, by - 8, "K, V from the encoder", "small muted", anchor="end")
    d.heading(title)
    return d


# ---------------------------------------------------------------- the whole GPT
def gpt_diagram(model: Any, *, highlight: str | Collection[str] | None = None) -> Diagram:
    """A decoder-only model from token ids to logits, as the code builds it.

    Parameters
    ----------
    model : GPT
        Read from it: ``wte`` and ``wpe`` (their table sizes), ``blocks`` (how many, and the
        first one's parts), ``ln_f``, and ``lm_head`` if the model has an untied output layer.
    highlight : str or collection of str, optional
        Part names to mark (``"wte"``, ``"wpe"``, ``"ln_f"``, ``"lm_head"``, or a block's
        ``"attn"``, ``"mlp"``, ``"ln_1"``, ...); the other parts fade.

    Returns
    -------
    Diagram
        About 380 pixels wide, read from the bottom up.
    """
    marked = _as_set(highlight)
    vocab, d_model = np.shape(model.wte.weight)
    positions = np.shape(model.wpe.weight)[0] if getattr(model, "wpe", None) is not None else None
    blocks = list(model.blocks)
    if not blocks:
        raise ValueError("model must have at least one block in model.blocks; got none")
    block = blocks[0]
    layers, norms = _sublayers(block)
    lm_head = getattr(model, "lm_head", None)
    known = {"wte", "wpe", "ln_f", "lm_head", *(n for n, _ in layers + norms)}
    if marked - known:
        raise ValueError(f"highlight must name parts of the model ({', '.join(sorted(known))}); got {sorted(marked)}")
    name = type(model).__name__
    width = 390.0
    block_h = 128 * len(layers) + 20
    height = 70 + 60 + 40 + block_h + 30 + 44 + 60 + 60
    d = Diagram(width, height, f"A whole {name}, from tokens to logits", "")

    y = height - 20
    cx = width / 2
    emb_w = 168
    left, right = 16, width - 16 - emb_w
    d.text(left + emb_w / 2, y, "token ids  (n)")
    if positions is not None:
        d.text(right + emb_w / 2, y, "positions 0 … n−1")
    y -= 14
    emb_top = y - 16 - 46
    d.wire((left + emb_w / 2, y), (left + emb_w / 2, emb_top + 46))
    d.box(
        left,
        emb_top,
        emb_w,
        46,
        "embed",
        "Token embedding",
        f"{vocab} × {d_model}",
        code="wte",
        state=_state(["wte"], marked),
    )
    if positions is not None:
        d.wire((right + emb_w / 2, y), (right + emb_w / 2, emb_top + 46))
        d.box(
            right,
            emb_top,
            emb_w,
            46,
            "embed",
            "Position embedding",
            f"{positions} × {d_model}",
            code="wpe",
            state=_state(["wpe"], marked),
        )
        add_y = emb_top - 26
        d.wire((left + emb_w / 2, emb_top), (left + emb_w / 2, add_y), (cx - 10, add_y))
        d.wire((right + emb_w / 2, emb_top), (right + emb_w / 2, add_y), (cx + 10, add_y))
        d.plus(cx, add_y)
        y = add_y - 9
    else:
        y = emb_top
    # The stack: the first block drawn in full, framed, with how many there are.
    frame_bottom = y - 24
    d.wire((cx, y), (cx, frame_bottom - 8), arrow=False)
    bx = 40
    top, stream, _ = _draw_block(
        d, block, x=bx, bottom=frame_bottom - 8, width=width - 2 * bx, causal=True, highlight=marked, compact=True
    )
    frame_top = top - 22
    d.group(
        bx - 14,
        frame_top,
        width - 2 * bx + 28,
        frame_bottom - frame_top,
        f"blocks: {len(blocks)} × {type(block).__name__}",
    )
    d.wire((cx, frame_bottom - 8), (stream, frame_bottom - 8), arrow=False)
    d.wire((stream, top), (stream, frame_top - 12), (cx, frame_top - 12), arrow=False)
    y = frame_top - 12
    head_w = 220
    if getattr(model, "ln_f", None) is not None:
        ln_top = y - 16 - 30
        d.wire((cx, y), (cx, ln_top + 30))
        _norm_box(d, cx - 70, ln_top, 140, 30, "ln_f", model.ln_f, marked)
        y = ln_top
    out_top = y - 16 - 46
    d.wire((cx, y), (cx, out_top + 46))
    if lm_head is not None and getattr(lm_head, "weight", lm_head) is not model.wte.weight:
        d.box(
            cx - head_w / 2,
            out_top,
            head_w,
            46,
            "out",
            "Output layer",
            f"{d_model} × {vocab}",
            code="lm_head",
            state=_state(["lm_head"], marked),
        )
        tied = "an output layer of its own (lm_head)"
    else:
        d.box(
            cx - head_w / 2,
            out_top,
            head_w,
            46,
            "out",
            "Output layer: wte^{⊤} (tied)",
            f"{d_model} × {vocab}",
            state=_state(["lm_head", "wte"], marked) if marked & {"lm_head"} else _state([], marked),
        )
        tied = "the token embedding, transposed (tied weights)"
    d.wire((cx, out_top), (cx, out_top - 18))
    d.text(cx, out_top - 28, f"logits  (n × {vocab}): a score for every token of the vocabulary", "small")
    d.heading(f"{name}: {len(blocks)} blocks, d_model = {d_model}, vocabulary {vocab}")
    parts = ", then ".join(_describe(n, layer, True)[1].lower() for n, layer in layers)
    d.description = (
        f"A {name} read from the bottom up: token ids look up the token embedding wte ({vocab} × {d_model})"
        + (
            f" and positions look up the position embedding wpe ({positions} × {d_model}); the two are added"
            if positions
            else ""
        )
        + f"; {len(blocks)} blocks follow, each {_placement(block)}-LN with {parts},"
        + " each added back to the residual stream;"
        + (" a final layer norm ln_f;" if getattr(model, "ln_f", None) is not None else "")
        + f" the output layer is {tied}, giving logits of shape n × {vocab}."
        + _marked_note(marked)
    )
    return d


# ---------------------------------------------------------------- the encoder-decoder
def encoder_decoder_diagram(model: Any, *, highlight: str | Collection[str] | None = None) -> Diagram:
    """The encoder-decoder transformer: two stacks, and the cross-attention that joins them.

    Parameters
    ----------
    model : Transformer
        Read from it: the shared embedding's size, ``encoder`` and ``decoder`` (how many
        layers, and the first layer of each drawn in full, post-LN or pre-LN as built).
    highlight : str or collection of str, optional
        Part names to mark (``"cross_attn"``, ``"self_attn"``, ...); the other parts fade.

    Returns
    -------
    Diagram
        About 600 pixels wide, read from the bottom up.
    """
    marked = _as_set(highlight)
    embedding = getattr(model, "wte", None) or model.embedding
    vocab, d_model = np.shape(embedding.weight)
    encoder, decoder = list(model.encoder), list(model.decoder)
    if not encoder or not decoder:
        raise ValueError("model must have at least one encoder and one decoder layer")
    enc_layers, _ = _sublayers(encoder[0])
    dec_layers, _ = _sublayers(decoder[0])
    col_w, gap, pad = 290.0, 40.0, 10.0
    width = pad * 2 + col_w * 2 + gap
    sub_h = 128 if _placement(decoder[0]) == "pre" else 136
    stack_h = sub_h * len(dec_layers) + 24
    height = 60 + 50 + 60 + stack_h + 40 + 60 + 50
    d = Diagram(width, height, "The encoder-decoder transformer", "")
    tops = {}
    boxes_of = {}
    for side, stack, x0 in (("encoder", encoder, pad), ("decoder", decoder, pad + col_w + gap)):
        cx = x0 + col_w / 2
        y = height - 40
        d.text(cx, y, "source ids" if side == "encoder" else "target ids (shifted right)")
        y -= 12
        emb_top = y - 14 - 44
        d.wire((cx, y), (cx, emb_top + 44))
        d.box(
            x0 + 20,
            emb_top,
            col_w - 40,
            44,
            "embed",
            "Embedding + positions",
            f"shared, {vocab} × {d_model}",
            state=_state(["embedding", "wte"], marked),
        )
        frame_bottom = emb_top - 22
        d.wire((cx, emb_top), (cx, frame_bottom - 8), arrow=False)
        bx = x0 + 22
        top, stream, boxes = _draw_block(
            d,
            stack[0],
            x=bx,
            bottom=frame_bottom - 8,
            width=col_w - 44,
            causal=side == "decoder",
            highlight=marked,
            compact=True,
        )
        d.wire((cx, frame_bottom - 8), (stream, frame_bottom - 8), arrow=False)
        frame_top = top - 22
        d.group(
            x0 + 6, frame_top, col_w - 12, frame_bottom - frame_top, f"{side}: {len(stack)} × {type(stack[0]).__name__}"
        )
        d.wire((stream, top), (stream, frame_top - 12), (cx, frame_top - 12), arrow=False)
        tops[side] = frame_top - 12
        boxes_of[side] = boxes
    d.text(width / 2, height - 12, "every layer: " + _sizes(decoder[0], True), "small muted")
    # The encoder's output, the memory, feeds every decoder layer's cross-attention.
    ecx = pad + col_w / 2
    mem_y = tops["encoder"] - 30
    bx, by, _, bh = boxes_of["decoder"]["cross_attn"]
    route_x = pad + col_w + gap / 2
    d.wire((ecx, tops["encoder"]), (ecx, mem_y), (route_x, mem_y), (route_x, by + bh / 2), (bx, by + bh / 2))
    d.text(ecx - 8, mem_y + 12, "memory  (n_{src} × d_{model})", "small", anchor="end")
    d.text(route_x - 4, by + bh / 2 - 10, "K, V", "small muted", anchor="end")
    dcx = pad + col_w + gap + col_w / 2
    y = tops["decoder"]
    out_top = y - 14 - 44
    d.wire((dcx, y), (dcx, out_top + 44))
    d.box(dcx - 110, out_top, 220, 44, "out", "Output layer: E^{⊤} (tied)", f"{d_model} × {vocab}")
    d.wire((dcx, out_top), (dcx, out_top - 16))
    d.text(dcx, out_top - 26, f"logits  (n_{{tgt}} × {vocab})", "small")
    d.heading(f"Transformer: {len(encoder)} + {len(decoder)} layers, d_model = {d_model}")
    enc = ", then ".join(_describe(n, layer, False)[1].lower() for n, layer in enc_layers)
    dec = ", then ".join(_describe(n, layer, True)[1].lower() for n, layer in dec_layers)
    d.description = (
        f"The encoder-decoder transformer read from the bottom up. Left, the encoder: source ids are embedded "
        f"(a table of {vocab} × {d_model} shared with the decoder, plus positions) and pass {len(encoder)} "
        f"{_placement(encoder[0])}-LN layers of {enc}; its output is the memory. Right, the decoder: the target so "
        f"far is embedded the same way and passes {len(decoder)} layers of {dec}; the cross-attention takes its "
        f"queries from the decoder and its keys and values from the memory. An output layer, the embedding "
        f"transposed, gives logits over {vocab} tokens."
    )
    return d


# ---------------------------------------------------------------- one attention, number by number
def attention_diagram(
    q: ArrayLike,
    k: ArrayLike,
    v: ArrayLike,
    *,
    mask: ArrayLike | None = None,
    tokens: Sequence[str] | None = None,
) -> Diagram:
    """Scaled dot-product attention on small matrices, every intermediate drawn with its numbers.

    Q and K give the scores $S = QK^\\top / \\sqrt{d_k}$ (the mask, if any, sets hidden
    scores to $-\\infty$), the softmax of each row gives the weights $A$, and $AV$ is the
    output. The weights are those of `llmarch.scaled_dot_product_attention`.

    Parameters
    ----------
    q, k, v : array_like, shapes (n_q, d_k), (n_k, d_k), (n_k, d_v)
        One attention's queries, keys and values (small: each matrix is drawn cell by cell).
    mask : array_like of bool, shape (n_q, n_k), optional
        True where a query may attend.
    tokens : sequence of str, optional
        Labels for the rows (queries) and, when ``n_q == n_k``, the keys.

    Returns
    -------
    Diagram
        Read from the top down.
    """
    from llmarch.attention import scaled_dot_product_attention

    output, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    q_, k_, v_ = (np.asarray(a, dtype=float) for a in (q, k, v))
    if q_.ndim != 2 or k_.ndim != 2 or v_.ndim != 2:
        raise ValueError(f"q, k and v must be 2-D (one head, no batch); got shapes {q_.shape}, {k_.shape}, {v_.shape}")
    n_q, d_k = q_.shape
    n_k, d_v = v_.shape
    if max(n_q, n_k, d_k, d_v) > 8:
        raise ValueError(
            f"attention_diagram draws every number: at most 8 rows and columns; got {q_.shape}, {v_.shape}"
        )
    scores = q_ @ k_.T / np.sqrt(d_k)
    allowed = None if mask is None else np.broadcast_to(np.asarray(mask, dtype=bool), (n_q, n_k))
    shown = scores if allowed is None else np.where(allowed, scores, -np.inf)
    rows = list(tokens) if tokens is not None else [str(i) for i in range(n_q)]
    keys = rows if tokens is not None and n_k == n_q else [str(j) for j in range(n_k)]
    if len(rows) != n_q:
        raise ValueError(f"tokens must give one label per query ({n_q}); got {len(rows)}")
    cw, ch = 40.0, 24.0
    label_w = 8 + 7 * max(len(r) for r in rows)
    x0 = 12 + label_w
    gap = 46.0
    left_w = max(d_k, n_k) * cw
    width = x0 + left_w + gap + max(n_k, d_v) * cw + 24
    if allowed is not None:
        width = max(width, x0 + 2 * n_k * cw + gap + 24)
    width = max(width, x0 + n_k * cw + 300)  # room for the step notes beside the arrows
    height = 40 + (n_q * ch + 64) * 2 + (d_k * ch + 64) + n_q * ch + 36
    d = Diagram(width, height, "Scaled dot-product attention, number by number", "")
    y = 30.0
    # Row 1: Q and K^T
    d.text(x0, y, f"Q  ({n_q} × {d_k}): queries", "small", anchor="start")
    kx = x0 + max(d_k * cw, 90) + gap
    d.text(kx, y, f"K^{{⊤}}  ({d_k} × {n_k}): keys", "small", anchor="start")
    y += 28
    d.cells(x0, y, q_, rows=rows)
    d.cells(kx, y, k_.T, columns=keys)
    y += max(n_q, d_k) * ch + 14
    d.wire((x0 + d_k * cw / 2, y), (x0 + d_k * cw / 2, y + 24))
    d.text(
        x0 + d_k * cw / 2 + 10, y + 12, f"S = QK^{{⊤}} / √d_{{k}}, with d_{{k}} = {d_k}", "small muted", anchor="start"
    )
    y += 40
    # Row 2: the scores (and the mask)
    d.text(
        x0,
        y,
        f"S  ({n_q} × {n_k}): scores" + (", hidden ones −∞" if allowed is not None else ""),
        "small",
        anchor="start",
    )
    y += 18
    d.cells(x0, y, shown, rows=rows)
    if allowed is not None:
        mx = x0 + n_k * cw + gap
        d.text(mx, y - 18, "mask: True = may attend", "small", anchor="start")
        d.cells(mx, y, allowed.astype(float), role="c2", scale=1.0, fmt=".0f")
    y += n_q * ch + 14
    d.wire((x0 + n_k * cw / 2, y), (x0 + n_k * cw / 2, y + 24))
    d.text(
        x0 + n_k * cw / 2 + 10,
        y + 12,
        "A = softmax of each row of S: each row sums to 1",
        "small muted",
        anchor="start",
    )
    y += 40
    # Row 3: the weights, and V
    d.text(x0, y, f"A  ({n_q} × {n_k}): weights", "small", anchor="start")
    vx = x0 + n_k * cw + gap
    d.text(vx, y, f"V  ({n_k} × {d_v}): values", "small", anchor="start")
    y += 18
    d.cells(x0, y, weights, role="c2", scale=1.0, rows=rows)
    d.cells(vx, y, v_, rows=[])
    d.text(vx - gap / 2, y + n_q * ch / 2, "×", "title")
    y += max(n_q, n_k) * ch + 14
    d.wire((x0 + n_k * cw / 2, y), (x0 + n_k * cw / 2, y + 24))
    d.text(x0 + n_k * cw / 2 + 10, y + 12, "output = A V", "small muted", anchor="start")
    y += 40
    d.text(x0, y, f"output  ({n_q} × {d_v}): a blend of the values per query", "small", anchor="start")
    y += 18
    d.cells(x0, y, np.asarray(output, dtype=float), rows=rows)
    d.height = y + n_q * ch + 14
    masked = (
        ""
        if allowed is None
        else f", the mask hides {int((~allowed).sum())} of the {n_q * n_k} scores (set to minus infinity),"
    )
    d.description = (
        f"Attention on {n_q} queries ({', '.join(rows)}) and {n_k} keys, read from the top down: the {n_q} × {d_k} "
        f"matrix Q times the transposed keys, divided by the square root of {d_k}, gives a {n_q} × {n_k} table of "
        f"scores{masked} the softmax of each row gives weights that sum to 1, and the weights times the {n_k} × {d_v} "
        f"values give a {n_q} × {d_v} output. Every cell shows its number."
    )
    return d


# ---------------------------------------------------------------- the heads, split and joined
def multi_head_diagram(mha: Any, n_tokens: int | None = None) -> Diagram:
    """How multi-head attention splits Q, K and V into heads, attends per head, and joins the results.

    Parameters
    ----------
    mha : MultiHeadAttention
        Read from it: ``d_model``, ``n_heads``, ``d_head`` (and ``n_kv_heads`` where it has one).
    n_tokens : int, optional
        The sequence length to print in the shapes; ``n`` if not given.

    Returns
    -------
    Diagram
        Read from the top down; one colour per head.
    """
    d_model, heads, d_head = int(mha.d_model), int(mha.n_heads), int(mha.d_head)
    n = "n" if n_tokens is None else str(int(n_tokens))
    shown = min(heads, 8)
    bar_w = 300.0
    head_w = bar_w / shown
    x0 = 70.0
    width = x0 + bar_w + 90
    height = 460.0
    d = Diagram(width, height, "Multi-head attention: split, attend, concatenate", "")
    d.text(width / 2, 16, f"{heads} heads of d_{{head}} = {d_head}, d_{{model}} = {d_model}", "title")
    y = 40.0
    d.box(x0, y, bar_w, 26, "data", f"X  ({n} × {d_model})")
    y += 26
    d.wire((x0 + bar_w / 2, y), (x0 + bar_w / 2, y + 22))
    d.text(
        x0 + bar_w / 2 + 8,
        y + 11,
        f"× W^{{Q}}, W^{{K}}, W^{{V}}  ({d_model} × {d_model} each)",
        "small muted",
        anchor="start",
    )
    y += 30
    segment = []
    for row, name in enumerate(("Q", "K", "V")):
        ry = y + row * 24
        d.text(x0 - 10, ry + 10, f"{name}", anchor="end")
        for h in range(shown):
            role = f"c{h % 6}"
            d.parts.append(
                f'<rect x="{x0 + h * head_w:g}" y="{ry:g}" width="{head_w - 2:g}" height="20" rx="3" '
                f'style="fill:var(--{role});stroke:var(--{role})" fill-opacity="0.35"/>'
            )
        segment.append(ry)
    d.text(
        x0 + bar_w,
        y + 3 * 24 + 8,
        f"each {n} × {d_model}, cut into {heads} slices of {d_head}",
        "small muted",
        anchor="end",
    )
    y += 3 * 24 + 20
    for h in range(shown):
        cx = x0 + h * head_w + head_w / 2 - 1
        d.wire((cx, y), (cx, y + 26))
    y += 30
    for h in range(shown):
        role = f"c{h % 6}"
        hx = x0 + h * head_w
        d.parts.append(
            f'<rect x="{hx:g}" y="{y:g}" width="{head_w - 6:g}" height="54" rx="6" '
            f'style="fill:var(--bg);stroke:var(--{role})" stroke-width="2"/>'
        )
        d.text(hx + (head_w - 6) / 2, y + 18, f"head {h}", "small")
        d.text(hx + (head_w - 6) / 2, y + 36, "attention", "small muted")
    more = f" (first {shown} drawn)" if shown < heads else ""
    d.text(
        x0 + bar_w,
        y + 70,
        f"softmax(Q_{{i}}K_{{i}}^{{⊤}}/√{d_head}) V_{{i}}: {n} × {d_head} each{more}",
        "small muted",
        anchor="end",
    )
    y += 80
    for h in range(shown):
        cx = x0 + h * head_w + head_w / 2 - 1
        d.wire((cx, y), (cx, y + 24))
    y += 28
    for h in range(shown):
        role = f"c{h % 6}"
        d.parts.append(
            f'<rect x="{x0 + h * head_w:g}" y="{y:g}" width="{head_w:g}" height="22" '
            f'style="fill:var(--{role});stroke:var(--{role})" fill-opacity="0.35"/>'
        )
    d.text(x0 - 10, y + 11, "concat", "small", anchor="end")
    y += 22
    d.text(x0 + bar_w, y + 12, f"{n} × {heads * d_head}", "small muted", anchor="end")
    d.wire((x0 + bar_w / 2, y), (x0 + bar_w / 2, y + 30))
    d.text(x0 + bar_w / 2 + 8, y + 18, f"× W^{{O}}  ({heads * d_head} × {d_model})", "small muted", anchor="start")
    y += 34
    d.box(x0, y, bar_w, 26, "data", f"output  ({n} × {d_model})")
    d.height = y + 40
    d.description = (
        f"Multi-head attention read from the top down: the input X ({n} × {d_model}) is multiplied by three "
        f"{d_model} × {d_model} matrices into Q, K and V; each is cut into {heads} slices of {d_head} columns, one "
        f"per head; each head attends on its own slices, giving {n} × {d_head}; the heads' outputs are "
        f"concatenated back to {n} × {heads * d_head} and multiplied by W^O into the output, {n} × {d_model}."
    )
    return d


# ---------------------------------------------------------------- the KV cache
def kv_cache_diagram(shapes: Sequence[Sequence[int]], *, n_layers: int | None = None) -> Diagram:
    """What a KV cache holds as a model generates: one row per forward pass, one cell per token.

    Parameters
    ----------
    shapes : sequence of tuple of int
        The shape of one layer's cached keys, ``(n_heads, tokens, d_head)``, after each call
        of the model: the first after the prompt, then one per generated token (what
        ``KVCache.keys.shape`` reported).
    n_layers : int, optional
        How many layers keep such a cache, to say so in the picture.

    Returns
    -------
    Diagram
        Read from the top down.
    """
    rows = [tuple(int(s) for s in shape) for shape in shapes]
    if not rows or any(len(r) < 2 for r in rows):
        raise ValueError(f"shapes must give at least one key shape (n_heads, tokens, d_head); got {shapes!r}")
    lengths = [r[-2] for r in rows]
    if any(b <= a for a, b in itertools.pairwise(lengths)):
        raise ValueError(f"shapes must grow by at least one token per call; got token counts {lengths}")
    cw, ch = min(18.0, 300.0 / lengths[-1]), 22.0
    x0, label_w = 96.0, 120.0
    width = x0 + lengths[-1] * cw + label_w + 16
    height = 80 + len(rows) * (ch + 16) + 60
    d = Diagram(width, height, "The KV cache during generation", "")
    d.text(10, 16, "What the KV cache holds, pass by pass", "title", anchor="start")
    y = 44.0
    if n_layers:
        d.text(
            10,
            36,
            f"(each of the {n_layers} layers keeps one: shapes are one layer's keys)",
            "small muted",
            anchor="start",
        )
        y += 12
    d.text(x0, y, "token position →", "small muted", anchor="start")
    y += 14
    before = 0
    for index, (shape, length) in enumerate(zip(rows, lengths, strict=True)):
        label = "prompt" if index == 0 else f"step {index}"
        d.text(x0 - 10, y + ch / 2, label, anchor="end")
        for t in range(length):
            kind = "attn" if t >= before else "data"
            d.parts.append(
                f'<rect x="{x0 + t * cw:g}" y="{y:g}" width="{cw - 2:g}" height="{ch:g}" rx="2" class="{kind}"/>'
            )
        d.text(x0 + lengths[-1] * cw + 10, y + ch / 2, f"K, V: {shape}", "small code", anchor="start")
        before = length
        y += ch + 16
    d.parts.append(f'<rect x="{x0:g}" y="{y:g}" width="14" height="14" rx="2" class="attn"/>')
    d.text(x0 + 20, y + 7, "computed in this pass (query, key, value)", "small", anchor="start")
    y += 22
    d.parts.append(f'<rect x="{x0:g}" y="{y:g}" width="14" height="14" rx="2" class="data"/>')
    d.text(x0 + 20, y + 7, "read from the cache, never recomputed", "small", anchor="start")
    d.height = y + 26
    d.description = (
        f"One row per forward pass, read from the top down: the prompt's {lengths[0]} tokens are computed at once and "
        f"their keys and values stored; each of the {len(rows) - 1} steps after it computes the query, key and "
        f"value of one new token only, appends them, and attends over all cached keys. The cached keys grow from shape "
        f"{rows[0]} to {rows[-1]} (heads, tokens, head width)."
    )
    return d
