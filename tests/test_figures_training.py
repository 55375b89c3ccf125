"""The figure helpers of the training pages: curves with their own x, and the attention explorer's SVG."""

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from llmarch.plotting import AttentionExplorer, attention_explorer, save_figure, xy_chart


def causal_weights(rng, layers, heads, n):
    scores = rng.standard_normal((layers, heads, n, n))
    scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    return w / w.sum(-1, keepdims=True)


def test_xy_chart_draws_each_curve_over_its_own_x_and_the_lines():
    fig = xy_chart({"a": ([1, 2, 3], [3, 2, 1]), "b": ([0, 10], [1, 1])}, hlines={"chance": 0.5}, logy=True)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 3
    assert list(lines[1].get_xdata()) == [0, 10]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a", "b", "chance"]
    empty = xy_chart({}, hlines={"chance": 0.5})  # runs not yet recorded: the frame and the line
    assert len(empty.axes[0].get_lines()) == 1


def test_xy_chart_errors_name_the_curve():
    with pytest.raises(ValueError, match="series must hold at least one curve"):
        xy_chart({})
    with pytest.raises(TypeError, match=r"series\['a'\] must be a pair \(x, y\)"):
        xy_chart({"a": [1, 2]})
    with pytest.raises(ValueError, match=r"series\['a'\]: y must have the shape of x \(3,\); got \(2,\)"):
        xy_chart({"a": ([1, 2, 3], [1, 2])})


def test_legends_and_colour_bars_follow_the_dark_scheme(tmp_path):
    """A legend or colour bar made outside the guide's style would be white or black in both schemes."""
    from llmarch.plotting import heatmaps, line_chart

    save_figure(line_chart([1, 2], {"a": [1, 2]}), tmp_path / "line.svg")
    save_figure(heatmaps({"m": np.eye(3)}, title="t"), tmp_path / "heat.svg")
    for name in ("line.svg", "heat.svg"):
        svg = (tmp_path / name).read_text()
        assert "#ffffff" not in svg and "#000000" not in svg, name


def test_attention_explorer_keeps_every_weight_in_its_svg(tmp_path):
    rng = np.random.default_rng(0)
    texts = [list("abc d"), list("xy")]
    weights = [causal_weights(rng, 2, 3, 5), causal_weights(rng, 2, 3, 2)]
    figure = attention_explorer(texts, weights, title="random", shown=(1, 2))
    path = save_figure(figure, tmp_path / "explorer.svg")
    root = ET.fromstring(path.read_text())  # well-formed XML, so the page's DOMParser reads it too
    meta = root.find(f".//{{http://www.w3.org/2000/svg}}metadata[@id='{AttentionExplorer.DATA_ID}']")
    data = json.loads(meta.text)
    assert (data["layers"], data["heads"], data["scale"]) == (2, 3, 100)
    assert [t["tokens"] for t in data["texts"]] == texts
    rows = data["texts"][0]["weights"][1][2]
    assert [len(r) for r in rows] == [1, 2, 3, 4, 5]  # each row up to its query
    np.testing.assert_allclose(np.array(rows[4]) / 100, weights[0][1, 2, 4], atol=0.005)


def test_attention_explorer_checks_its_input():
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match="one text each"):
        attention_explorer([list("ab")], [])
    with pytest.raises(ValueError, match=r"weights\[0\] must have shape \('layers', 'heads', 3, 3\)"):
        attention_explorer([list("abc")], [causal_weights(rng, 1, 1, 2)])
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape \(1, 1, 2, 2\)"):
        attention_explorer([list("ab"), list("cd")], [causal_weights(rng, 1, 1, 2), causal_weights(rng, 2, 1, 2)])
    with pytest.raises(ValueError, match=r"weights\[0\] must be causal"):
        attention_explorer([list("ab")], [np.full((1, 1, 2, 2), 0.5)])
    with pytest.raises(ValueError, match=r"shown must be \(layer, head\)"):
        attention_explorer([list("ab")], [causal_weights(rng, 1, 1, 2)], shown=(1, 0))
