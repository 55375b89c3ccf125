"""Learned positional embedding and rotary positional embedding (RoPE)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmarch import LearnedPositionalEmbedding, rotary_embedding

# -- learned --------------------------------------------------------------------------------


def test_learned_first_n_positions() -> None:
    pe = LearnedPositionalEmbedding.init(8, 4, np.random.default_rng(0))
    assert pe.n_positions == 8
    np.testing.assert_array_equal(pe(3), pe.weight[:3])
    assert pe(0).shape == (0, 4)
    assert pe(np.int64(8)).shape == (8, 4)


def test_learned_given_positions() -> None:
    pe = LearnedPositionalEmbedding.init(8, 4, np.random.default_rng(0))
    np.testing.assert_array_equal(pe(np.arange(5, 7)), pe.weight[5:7])
    assert pe(np.array([[0, 1], [2, 3]])).shape == (2, 2, 4)


@pytest.mark.parametrize(
    ("positions", "error", "match"),
    [
        (9, ValueError, "n must be at most n_positions = 8"),
        (np.arange(7, 10), ValueError, r"positions must lie in \[0, 7\].*from 7 to 9"),
        ([-1], ValueError, "positions must lie"),
        ([0.5], TypeError, "integer positions"),
        (-1, ValueError, "n must be an integer >= 0"),
        (True, TypeError, "integer positions"),
    ],
)
def test_learned_rejects_bad_positions(positions: object, error: type[Exception], match: str) -> None:
    pe = LearnedPositionalEmbedding.init(8, 4, np.random.default_rng(0))
    with pytest.raises(error, match=match):
        pe(positions)  # type: ignore[arg-type]


def test_learned_rejects_bad_table() -> None:
    with pytest.raises(ValueError, match=r"\(n_positions, d_model\)"):
        LearnedPositionalEmbedding(np.zeros(4))


# -- rotary ---------------------------------------------------------------------------------


def test_rotary_position_zero_is_identity_and_shape_is_kept() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 8))
    out = rotary_embedding(x)
    assert out.shape == x.shape
    np.testing.assert_array_equal(out[..., 0, :], x[..., 0, :])


def test_rotary_rotates_interleaved_pairs() -> None:
    # d = 4: pair 0 = features (0, 1) turns by p radians, pair 1 = features (2, 3) by p / 100.
    x = np.array([[1.0, 0.0, 1.0, 0.0]])
    p = 2.0
    out = rotary_embedding(x, positions=[p])
    expected = [np.cos(p), np.sin(p), np.cos(p / 100), np.sin(p / 100)]
    np.testing.assert_allclose(out[0], expected)


def test_rotary_keeps_pair_lengths() -> None:
    x = np.random.default_rng(1).standard_normal((6, 10))
    out = rotary_embedding(x)
    pair_norms = np.hypot(x[:, 0::2], x[:, 1::2])
    np.testing.assert_allclose(np.hypot(out[:, 0::2], out[:, 1::2]), pair_norms)


@given(
    m=st.integers(0, 500),
    n=st.integers(0, 500),
    shift=st.integers(-200, 200),
    seed=st.integers(0, 2**32 - 1),
)
def test_rotary_scores_depend_only_on_relative_position(m: int, n: int, shift: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal((2, 1, 16))

    def score(i: int, j: int) -> float:
        return float(rotary_embedding(q, [i])[0] @ rotary_embedding(k, [j])[0])

    shifted = (m + shift, n + shift) if min(m, n) + shift >= 0 else (m - shift, n - shift)
    assert score(m, n) == pytest.approx(score(*shifted), abs=1e-9)


def test_rotary_relative_property_over_a_sequence() -> None:
    # Scores of rotated q and k along a sequence equal the scores at any common offset.
    rng = np.random.default_rng(2)
    q, k = rng.standard_normal((2, 7, 8))
    scores = rotary_embedding(q) @ rotary_embedding(k).T
    offset = np.arange(100, 107)
    shifted = rotary_embedding(q, offset) @ rotary_embedding(k, offset).T
    np.testing.assert_allclose(scores, shifted, atol=1e-10)
    assert not np.allclose(scores, q @ k.T)  # it does change the scores


def test_rotary_positions_broadcast_and_dtype() -> None:
    x = np.ones((2, 3, 4), dtype=np.float32)
    out = rotary_embedding(x, positions=np.array([[0, 1, 2], [3, 4, 5]]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[1, 0], rotary_embedding(np.ones((1, 4)), [3])[0], rtol=1e-6)


@pytest.mark.parametrize(
    ("x", "kwargs", "match"),
    [
        (np.ones((3, 5)), {}, "d must be even"),
        (np.ones(4), {}, r"at least 2 dimension\(s\)"),
        (np.ones((3, 4)), {"positions": [0, 1]}, "positions: last dimension must be n = 3"),
        (np.ones((2, 3, 4)), {"positions": np.zeros((3, 3))}, "must broadcast"),
        (np.ones((3, 4)), {"base": 0.0}, "base must be a positive number"),
    ],
)
def test_rotary_rejects_bad_input(x: np.ndarray, kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        rotary_embedding(x, **kwargs)  # type: ignore[arg-type]
