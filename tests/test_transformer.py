"""Residual blocks, encoder and decoder layers, and the encoder-decoder Transformer."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pytest

from llmarch import (
    DecoderLayer,
    EncoderLayer,
    LayerNorm,
    Transformer,
    TransformerConfig,
    causal_mask,
    padding_mask,
    post_ln_residual,
    pre_ln_residual,
    sinusoidal_positional_encoding,
)

D, H, FF = 16, 4, 32


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


# -- residual blocks ------------------------------------------------------------------------


def test_pre_and_post_ln_residual_formulas() -> None:
    x = np.random.default_rng(1).standard_normal((3, 4))
    norm = LayerNorm(np.full(4, 2.0), np.full(4, 0.5))

    def sublayer(h: np.ndarray) -> np.ndarray:
        return 3 * h + 1

    np.testing.assert_allclose(pre_ln_residual(x, sublayer, norm), x + sublayer(norm(x)))
    np.testing.assert_allclose(post_ln_residual(x, sublayer, norm), norm(x + sublayer(x)))
    # post-LN output is normalised; pre-LN keeps the residual stream un-normalised.
    np.testing.assert_allclose(post_ln_residual(x, sublayer, LayerNorm.init(4)).mean(axis=-1), 0, atol=1e-12)
    assert not np.allclose(pre_ln_residual(x, sublayer, LayerNorm.init(4)).mean(axis=-1), 0)


def test_residual_rejects_non_numeric() -> None:
    with pytest.raises(TypeError, match="x must be a real numeric array"):
        pre_ln_residual(np.array(["a"]), lambda h: h, lambda h: h)


# -- encoder layer --------------------------------------------------------------------------


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_encoder_layer_matches_its_formula(norm: str) -> None:
    layer = EncoderLayer.init(D, H, FF, rng(), norm=norm, std=0.3)  # type: ignore[arg-type]
    x = np.random.default_rng(2).standard_normal((5, D))
    if norm == "post":
        h = layer.ln_1(x + layer.self_attn(x))
        expected = layer.ln_2(h + layer.mlp(h))
    else:
        h = x + layer.self_attn(layer.ln_1(x))
        expected = h + layer.mlp(layer.ln_2(h))
    np.testing.assert_allclose(layer(x), expected, atol=1e-12)


def test_encoder_layer_ignores_padding() -> None:
    layer = EncoderLayer.init(D, H, FF, rng(), std=0.3)
    x = np.random.default_rng(3).standard_normal((2, 6, D))
    lengths = np.array([6, 4])
    mask = padding_mask(lengths, 6)
    out = layer(x, mask=mask)
    assert out.shape == (2, 6, D)
    changed = x.copy()
    changed[1, 4:] = 99.0  # new padding content
    out2 = layer(changed, mask=mask)
    np.testing.assert_allclose(out2[1, :4], out[1, :4], atol=1e-12)
    np.testing.assert_allclose(out2[0], out[0])
    # Without the mask the padding leaks in.
    assert not np.allclose(layer(changed)[1, :4], layer(x)[1, :4])


def test_encoder_layer_is_not_causal() -> None:
    layer = EncoderLayer.init(D, H, FF, rng(), std=0.3)
    x = np.random.default_rng(4).standard_normal((5, D))
    changed = x.copy()
    changed[-1] += 1.0
    assert not np.allclose(layer(changed)[0], layer(x)[0])


# -- decoder layer --------------------------------------------------------------------------


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_decoder_layer_matches_its_formula(norm: str) -> None:
    layer = DecoderLayer.init(D, H, FF, rng(), norm=norm, std=0.3)  # type: ignore[arg-type]
    g = np.random.default_rng(5)
    x, memory = g.standard_normal((4, D)), g.standard_normal((6, D))
    causal = causal_mask(4)
    if norm == "post":
        h1 = layer.ln_1(x + layer.self_attn(x, mask=causal))
        h2 = layer.ln_2(h1 + layer.cross_attn(h1, memory))
        expected = layer.ln_3(h2 + layer.mlp(h2))
    else:
        h1 = x + layer.self_attn(layer.ln_1(x), mask=causal)
        h2 = h1 + layer.cross_attn(layer.ln_2(h1), memory)
        expected = h2 + layer.mlp(layer.ln_3(h2))
    np.testing.assert_allclose(layer(x, memory), expected, atol=1e-12)


def test_decoder_layer_is_causal() -> None:
    layer = DecoderLayer.init(D, H, FF, rng(), std=0.3)
    g = np.random.default_rng(6)
    x, memory = g.standard_normal((5, D)), g.standard_normal((3, D))
    out = layer(x, memory)
    changed = x.copy()
    changed[3:] = 7.0
    out2 = layer(changed, memory)
    np.testing.assert_allclose(out2[:3], out[:3], atol=1e-12)
    assert not np.allclose(out2[3:], out[3:])


def test_decoder_layer_combines_padding_and_causal_masks() -> None:
    layer = DecoderLayer.init(D, H, FF, rng(), std=0.3)
    g = np.random.default_rng(7)
    x, memory = g.standard_normal((2, 5, D)), g.standard_normal((2, 3, D))
    pad = padding_mask([5, 3], 5)  # (2, 1, 5)
    out = layer(x, memory, self_mask=pad)
    # The same layer with the combined mask given to the attention by hand (a head axis added).
    combined = causal_mask(5) & pad  # (2, 5, 5): query i sees key j <= i that is not padding
    h1 = layer.ln_1(x + layer.self_attn(x, mask=combined[:, None]))
    h2 = layer.ln_2(h1 + layer.cross_attn(h1, memory))
    np.testing.assert_allclose(out, layer.ln_3(h2 + layer.mlp(h2)), atol=1e-12)
    # A padded query now sees only the real tokens, so it differs from the causal-only output.
    assert not np.allclose(out[1, 4], layer(x, memory)[1, 4])
    np.testing.assert_allclose(out[1, :3], layer(x, memory)[1, :3], atol=1e-12)


def test_decoder_layer_ignores_padded_memory() -> None:
    layer = DecoderLayer.init(D, H, FF, rng(), std=0.3)
    g = np.random.default_rng(8)
    x, memory = g.standard_normal((2, 4, D)), g.standard_normal((2, 6, D))
    memory_mask = padding_mask([6, 2], 6)
    out = layer(x, memory, memory_mask=memory_mask)
    changed = memory.copy()
    changed[1, 2:] = -50.0
    np.testing.assert_allclose(layer(x, changed, memory_mask=memory_mask), out, atol=1e-12)


def test_layers_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"norm must be 'pre'.*or 'post'.*got 'middle'"):
        EncoderLayer.init(D, H, FF, norm="middle")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="norm must be"):
        DecoderLayer.init(D, H, FF, norm="both")  # type: ignore[arg-type]
    layer = DecoderLayer.init(D, H, FF, rng())
    x = np.zeros((3, D))
    with pytest.raises(TypeError, match="self_mask must be a boolean array"):
        layer(x, x, self_mask=np.ones((3, 3)))
    with pytest.raises(TypeError, match="memory_mask must be a boolean array"):
        layer(x, x, memory_mask=np.ones((3, 3)))
    with pytest.raises(TypeError, match="mask must be a boolean array"):
        EncoderLayer.init(D, H, FF, rng())(x, mask=np.ones((3, 3), dtype=int))
    with pytest.raises(ValueError, match="x: last dimension must be d_model = 16"):
        EncoderLayer.init(D, H, FF, rng())(np.zeros((3, 8)))


# -- the encoder-decoder --------------------------------------------------------------------


def test_base_configuration_is_the_papers() -> None:
    c = TransformerConfig.base()
    assert (c.d_model, c.n_heads, c.d_ff, c.n_layers, c.norm, c.activation) == (512, 8, 2048, 6, "post", "relu")
    assert TransformerConfig() == c
    assert TransformerConfig.base(vocab_size=100).vocab_size == 100
    tiny = TransformerConfig.tiny(20)
    assert (tiny.vocab_size, tiny.d_model, tiny.n_layers) == (20, 32, 2)


def test_base_model_parameter_count() -> None:
    # Shared 37,000-token embedding (also the output layer), 6 + 6 layers: about 63 million,
    # the "65M" of Vaswani et al., Table 3.
    c = TransformerConfig.base()
    d, ff = c.d_model, c.d_ff
    attention, ffn, norm = 4 * d * d + 4 * d, 2 * d * ff + ff + d, 2 * d
    expected = (
        c.vocab_size * d + c.n_layers * (attention + ffn + 2 * norm) + c.n_layers * (2 * attention + ffn + 3 * norm)
    )
    assert expected == 63_082_496
    small = TransformerConfig.base(vocab_size=50, n_layers=1)
    model = Transformer.init(small, rng())
    arrays = [model.wte.weight]
    for layer in [*model.encoder, *model.decoder]:
        for part in (getattr(layer, f.name) for f in fields(layer) if f.name != "norm"):
            arrays += [getattr(part, f.name) for f in fields(part) if isinstance(getattr(part, f.name), np.ndarray)]
    d = small.d_model
    assert sum(a.size for a in arrays) == 50 * d + (attention + ffn + 2 * norm) + (2 * attention + ffn + 3 * norm)


def test_transformer_forward_shapes_and_norms() -> None:
    src = np.array([[1, 2, 3, 0], [4, 5, 0, 0]])
    tgt = np.array([[1, 2, 3], [6, 7, 0]])
    for norm in ("post", "pre"):
        model = Transformer.init(TransformerConfig.tiny(11, norm=norm), rng())
        logits = model(src, tgt, src_mask=padding_mask([3, 2], 4), tgt_mask=padding_mask([3, 2], 3))
        assert logits.shape == (2, 3, 11)
        assert np.isfinite(logits).all()
        assert len(model.encoder) == len(model.decoder) == 2
        assert (model.encoder_norm is None) == (norm == "post")
        assert model(src[0], tgt[0]).shape == (3, 11)  # unbatched


def test_transformer_embedding_is_scaled_and_positioned() -> None:
    model = Transformer.init(TransformerConfig.tiny(11), rng())
    ids = np.array([3, 1, 4])
    expected = model.wte.weight[ids] * math.sqrt(32) + sinusoidal_positional_encoding(3, 32)
    np.testing.assert_allclose(model.embed(ids), expected)


def test_transformer_output_layer_is_tied_and_causal() -> None:
    model = Transformer.init(TransformerConfig.tiny(11), rng(), std=0.3)
    src, tgt = np.array([1, 2, 3]), np.array([4, 5, 6, 7])
    memory = model.encode(src)
    np.testing.assert_allclose(model(src, tgt), model.decode(tgt, memory) @ model.wte.weight.T)
    changed = tgt.copy()
    changed[2:] = 9
    np.testing.assert_allclose(model(src, changed)[:2], model(src, tgt)[:2], atol=1e-12)
    other_src = np.array([1, 2, 8])
    assert not np.allclose(model(other_src, tgt)[0], model(src, tgt)[0])  # every target row sees the source


def test_transformer_padding_in_source_is_ignored() -> None:
    model = Transformer.init(TransformerConfig.tiny(11), rng(), std=0.3)
    src = np.array([[1, 2, 0, 0]])
    tgt = np.array([[3, 4]])
    mask = padding_mask([2], 4)
    a = model(src, tgt, src_mask=mask)
    b = model(np.array([[1, 2, 9, 10]]), tgt, src_mask=mask)
    np.testing.assert_allclose(a, b, atol=1e-12)
    np.testing.assert_allclose(a, model(src[:, :2], tgt), atol=1e-12)


def test_transformer_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="d_model must be divisible by n_heads = 3"):
        TransformerConfig(d_model=8, n_heads=3)
    with pytest.raises(ValueError, match="norm must be"):
        TransformerConfig(norm="mid")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="activation must be one of"):
        TransformerConfig(activation="tanh")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="n_layers must be an integer"):
        TransformerConfig(n_layers=2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="config must be a TransformerConfig"):
        Transformer.init({"d_model": 8})  # type: ignore[arg-type]
    expected = r"rng must be a numpy\.random\.Generator, an int seed or None; got RandomState"
    with pytest.raises(TypeError, match=expected):
        Transformer.init(TransformerConfig.tiny(11), rng=np.random.RandomState(0))  # type: ignore[arg-type]
    model = Transformer.init(TransformerConfig.tiny(11), rng())
    with pytest.raises(ValueError, match=r"src must lie in \[0, 10\]"):
        model(np.array([1, 11]), np.array([1]))
    with pytest.raises(ValueError, match="src must have shape"):
        model.encode(3)
    with pytest.raises(ValueError, match=r"memory: last dimension must be d_model = 32; got shape \(3, 8\)"):
        model.decode(np.array([1]), np.zeros((3, 8)))
