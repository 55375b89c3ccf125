"""Token embedding and the character tokenizer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmarch import CharTokenizer, TokenEmbedding


def test_from_text_builds_a_sorted_vocabulary() -> None:
    tok = CharTokenizer.from_text("hello world")
    assert tok.chars == (" ", "d", "e", "h", "l", "o", "r", "w")
    assert tok.vocab_size == 8
    np.testing.assert_array_equal(tok.encode("hello"), [3, 2, 4, 4, 5])
    assert tok.encode("hello").dtype == np.int64
    assert tok.decode([7, 5, 6, 4, 1]) == "world"


@given(st.text(min_size=1, max_size=50))
def test_decode_inverts_encode(text: str) -> None:
    tok = CharTokenizer.from_text(text)
    assert tok.decode(tok.encode(text)) == text


def test_empty_strings() -> None:
    tok = CharTokenizer.from_text("ab")
    assert tok.encode("").shape == (0,)
    assert tok.decode(np.array([], dtype=np.int64)) == ""
    assert tok.decode([]) == ""


def test_unknown_character_is_named() -> None:
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"'z' at position 2"):
        tok.encode("abz")


@pytest.mark.parametrize(
    ("ids", "error", "match"),
    [
        ([0, 3], ValueError, r"ids must lie in \[0, 2\]"),
        ([-1], ValueError, "ids must lie"),
        ([0.5], TypeError, "integer"),
    ],
)
def test_decode_rejects_bad_ids(ids: list[float], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        CharTokenizer.from_text("abc").decode(ids)


def test_tokenizer_rejects_bad_construction() -> None:
    with pytest.raises(TypeError, match="text must be a str"):
        CharTokenizer.from_text(["a"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one character"):
        CharTokenizer.from_text("")
    with pytest.raises(ValueError, match="distinct"):
        CharTokenizer(("a", "a"))
    with pytest.raises(TypeError, match="text must be a str"):
        CharTokenizer.from_text("a").encode(3)  # type: ignore[arg-type]


def test_embedding_looks_up_rows() -> None:
    emb = TokenEmbedding.init(10, 4, np.random.default_rng(0))
    assert (emb.vocab_size, emb.d_model) == (10, 4)
    ids = np.array([[1, 2, 3], [3, 2, 1]])
    out = emb(ids)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out[0, 2], emb.weight[3])
    np.testing.assert_array_equal(out[1, 0], out[0, 2])
    assert emb(5).shape == (4,)


def test_embedding_init_is_seeded_and_typed() -> None:
    a = TokenEmbedding.init(5, 3, np.random.default_rng(1), dtype=np.float32)
    b = TokenEmbedding.init(5, 3, np.random.default_rng(1), dtype=np.float32)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert a.weight.dtype == np.float32
    assert abs(float(TokenEmbedding.init(200, 50, np.random.default_rng(0)).weight.std()) - 0.02) < 0.002


@pytest.mark.parametrize(
    ("ids", "error", "match"),
    [
        ([0, 10], ValueError, r"ids must lie in \[0, 9\].*got 10"),
        ([-1], ValueError, "got -1"),
        ([1.0, 2.0], TypeError, "integer token ids; got dtype float64"),
        (["a"], TypeError, "integer token ids"),
        ([True], TypeError, "integer token ids"),
    ],
)
def test_embedding_rejects_bad_ids(ids: list[object], error: type[Exception], match: str) -> None:
    emb = TokenEmbedding.init(10, 4, np.random.default_rng(0))
    with pytest.raises(error, match=match):
        emb(ids)


def test_embedding_rejects_bad_tables() -> None:
    with pytest.raises(ValueError, match=r"weight must have 2 dimension\(s\) \(vocab_size, d_model\)"):
        TokenEmbedding(np.zeros(3))
    with pytest.raises(ValueError, match="at least one row"):
        TokenEmbedding(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="vocab_size must be an integer >= 1"):
        TokenEmbedding.init(0, 3)
