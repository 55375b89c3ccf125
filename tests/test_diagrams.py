"""The pictures of the architecture are drawn from the objects; the figures are saved reproducibly."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from llmarch import GPT, EncoderLayer, GPTConfig, MultiHeadAttention, Transformer, TransformerConfig, causal_mask
from llmarch.diagrams import (
    attention_diagram,
    block_diagram,
    encoder_decoder_diagram,
    gpt_diagram,
    kv_cache_diagram,
    multi_head_diagram,
)
from llmarch.plotting import line_chart, save_figure

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def gpt():
    config = GPTConfig(vocab_size=29, n_positions=48, d_model=24, n_layers=3, n_heads=3)
    return GPT.init(config, np.random.default_rng(0))


def texts(diagram) -> str:
    """Every text of the picture, with its sub- and superscripts, as one string."""
    root = ET.fromstring(diagram.to_svg())
    return " | ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def test_a_diagram_is_a_valid_svg_with_its_title_and_description(gpt):
    diagram = gpt_diagram(gpt)
    root = ET.fromstring(diagram.to_svg())
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == diagram.title
    assert root.find(f"{SVG}desc").text == diagram.description
    assert float(root.get("width")) == diagram.width and float(root.get("height")) == diagram.height


def test_the_gpt_picture_reads_its_sizes_and_names_from_the_model(gpt):
    words = texts(gpt_diagram(gpt))
    for expected in ("3 blocks", "vocabulary 29", "29 × 24", "48 × 24", "ln_f", "wte", "wpe", "attn", "mlp"):
        assert expected in words, expected
    assert "3 heads × 8" in words and "24 → 96 → 24" in words
    assert "(wte 29 × 24)" not in gpt_diagram(gpt).description  # the description names them in words
    assert "token embedding wte (29 × 24)" in gpt_diagram(gpt).description


def test_post_ln_and_pre_ln_blocks_are_told_apart_by_the_object():
    rng = np.random.default_rng(0)
    post = block_diagram(EncoderLayer.init(16, 2, 64, rng, norm="post"))
    pre = block_diagram(EncoderLayer.init(16, 2, 64, rng, norm="pre"))
    assert post.title.startswith("Post-LN") and "then layer-normed" in post.description
    assert pre.title.startswith("Pre-LN") and "reads a layer-normed copy" in pre.description
    assert "Self-attention" in texts(post) and "Masked" not in texts(post)  # an encoder sees everything


def test_highlight_marks_one_part_and_fades_the_rest(gpt):
    svg = block_diagram(gpt.blocks[0], highlight="mlp").to_svg()
    assert svg.count('class="mlp hl"') == 1 and svg.count('<g class="dim">') == 3
    with pytest.raises(ValueError, match=r"highlight must name parts of the block \(attn, ln_1, ln_2, mlp\)"):
        block_diagram(gpt.blocks[0], highlight="ffn")
    with pytest.raises(ValueError, match="highlight must name parts of the model"):
        gpt_diagram(gpt, highlight="embedding")


def test_the_encoder_decoder_picture_has_the_cross_attention():
    model = Transformer.init(TransformerConfig.tiny(vocab_size=11), np.random.default_rng(0))
    diagram = encoder_decoder_diagram(model)
    words = texts(diagram)
    assert "Cross-attention" in words and "cross_attn" in words and "memory" in words
    assert f"encoder: {len(model.encoder)} × EncoderLayer" in words
    assert "keys and values from the memory" in diagram.description


def test_the_attention_picture_shows_the_numbers_of_the_computation():
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    diagram = attention_diagram(q, q, q * 10, mask=causal_mask(2), tokens=["a", "b"])
    words = texts(diagram)
    assert "−∞" in words  # the masked score
    assert "0.71" in words and "10.00" in words
    assert "hides 1 of the 4 scores" in diagram.description
    with pytest.raises(ValueError, match="at most 8 rows and columns"):
        attention_diagram(np.ones((9, 2)), np.ones((9, 2)), np.ones((9, 2)))
    with pytest.raises(ValueError, match="tokens must give one label per query"):
        attention_diagram(q, q, q, tokens=["a"])


def test_the_heads_picture_reads_the_layer():
    mha = MultiHeadAttention.init(12, 3, np.random.default_rng(0))
    words = texts(multi_head_diagram(mha, n_tokens=7))
    assert "3 heads of dhead = 4, dmodel = 12" in words
    assert "head 2" in words and "7 × 12" in words


def test_the_cache_picture_needs_growing_shapes():
    diagram = kv_cache_diagram([(2, 3, 4), (2, 4, 4)], n_layers=5)
    assert "(2, 4, 4)" in texts(diagram) and "5 layers" in texts(diagram)
    with pytest.raises(ValueError, match="grow by at least one token per call"):
        kv_cache_diagram([(2, 3, 4), (2, 3, 4)])


def test_save_figure_writes_a_diagram_or_a_chart_reproducibly(tmp_path, gpt):
    path = save_figure(gpt_diagram(gpt), tmp_path / "gpt.svg")
    assert path.read_text().startswith("<svg")
    with pytest.raises(ValueError, match=r"a diagram is saved as \.svg"):
        save_figure(gpt_diagram(gpt), tmp_path / "gpt.png")
    with pytest.raises(ValueError, match=r"path must end in \.svg or \.png; got 'x.pdf'"):
        save_figure(gpt_diagram(gpt), "x.pdf")

    def chart():
        return line_chart([1, 2, 3], {"a": [1, 4, 9], "b": [3, 2, 1]}, title="t")

    first = save_figure(chart(), tmp_path / "a.svg").read_bytes()
    assert first == save_figure(chart(), tmp_path / "b.svg").read_bytes()
    svg = first.decode()
    assert "var(--fg)" in svg and "var(--c0)" in svg and "@media (prefers-color-scheme: dark)" in svg
    drawing = re.sub(r"<style>.*?</style>", "", svg, flags=re.DOTALL)
    assert not re.search(r"#1f2328|#1764ab", drawing), "a themed colour was left as a fixed one"
    png = save_figure(chart(), tmp_path / "c.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.svg", "b.svg", "c.png", "gpt.svg"]  # no temp files
