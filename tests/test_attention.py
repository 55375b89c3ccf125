"""Attention against values worked by hand, dtypes, edge cases and error messages."""

import warnings

import numpy as np
import pytest

from llmarch import MultiHeadAttention, causal_mask, scaled_dot_product_attention, softmax


def test_softmax_by_hand():
    # e^0 : e^ln3 = 1 : 3
    np.testing.assert_allclose(softmax([0.0, np.log(3.0)]), [0.25, 0.75])


def test_softmax_huge_logits_stay_finite():
    out = softmax(np.array([[1e4, 0.0], [1e4, 1e4]]))
    np.testing.assert_allclose(out, [[1.0, 0.0], [0.5, 0.5]])


def test_softmax_all_masked_row_is_zero_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = softmax(np.array([[-np.inf, -np.inf], [0.0, -np.inf]]))
    np.testing.assert_array_equal(out, [[0.0, 0.0], [1.0, 0.0]])


def test_two_by_two_attention_by_hand():
    # q.k / sqrt(2): query 0 scores [1/sqrt2, 0], query 1 scores [0, 1/sqrt2].
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    k = np.array([[1.0, 0.0], [0.0, 1.0]])
    v = np.array([[1.0, 2.0], [3.0, 4.0]])
    a = np.exp(1 / np.sqrt(2))
    p = a / (a + 1)  # weight on the matching key
    out, weights = scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(weights, [[p, 1 - p], [1 - p, p]])
    np.testing.assert_allclose(
        out, [[p * 1 + (1 - p) * 3, p * 2 + (1 - p) * 4], [(1 - p) * 1 + p * 3, (1 - p) * 2 + p * 4]]
    )


def test_causal_mask_by_hand():
    np.testing.assert_array_equal(causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    assert causal_mask(0).shape == (0, 0)
    assert causal_mask(4).dtype == np.bool_


def test_causal_first_query_sees_only_itself():
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((3, 4, 5))
    out, weights = scaled_dot_product_attention(q, k, v, mask=causal_mask(4))
    np.testing.assert_allclose(weights[0], [1, 0, 0, 0])
    np.testing.assert_allclose(out[0], v[0])
    assert np.allclose(np.triu(weights, 1), 0)


def test_fully_masked_query_gets_zero_output_no_nan():
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((3, 3, 4))
    mask = np.array([[True, True, False], [False, False, False], [True, False, True]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(weights))
    np.testing.assert_array_equal(weights[1], 0)
    np.testing.assert_array_equal(out[1], 0)


def test_logits_of_1e4_stay_finite():
    q = np.array([[100.0, 100.0]])
    k = np.array([[100.0, 100.0], [-100.0, -100.0]])  # scores +-1e4 * sqrt(2)
    out, weights = scaled_dot_product_attention(q, k, np.eye(2))
    np.testing.assert_allclose(weights, [[1.0, 0.0]])
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    rng = np.random.default_rng(2)
    q = rng.standard_normal((2, 3, 4)).astype(dtype)
    out, weights = scaled_dot_product_attention(q, q, q, mask=causal_mask(3))
    assert out.dtype == dtype and weights.dtype == dtype
    mha = MultiHeadAttention.init(4, 2, rng, dtype=np.float64)
    assert mha(q).dtype == dtype
    assert softmax(q).dtype == dtype


def test_batched_over_leading_dimensions():
    rng = np.random.default_rng(3)
    q = rng.standard_normal((2, 3, 5, 4))
    k = rng.standard_normal((2, 3, 6, 4))
    v = rng.standard_normal((2, 3, 6, 7))
    out, weights = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 5, 7) and weights.shape == (2, 3, 5, 6)
    single, _ = scaled_dot_product_attention(q[1, 2], k[1, 2], v[1, 2])
    np.testing.assert_allclose(out[1, 2], single)


def test_multi_head_equals_heads_computed_one_by_one():
    rng = np.random.default_rng(4)
    mha = MultiHeadAttention.init(8, 2, rng, std=0.5)
    x = rng.standard_normal((5, 8))
    out, weights = mha.attend(x)
    heads = []
    for h in range(2):
        cols = slice(4 * h, 4 * h + 4)
        q, k, v = (x @ w[:, cols] for w in (mha.w_q, mha.w_k, mha.w_v))
        head, w = scaled_dot_product_attention(q, k, v)
        np.testing.assert_allclose(weights[h], w)
        heads.append(head)
    np.testing.assert_allclose(out, np.concatenate(heads, axis=-1) @ mha.w_o)


def test_cross_attention_uses_context_for_keys_and_values():
    rng = np.random.default_rng(5)
    mha = MultiHeadAttention.init(6, 3, rng)
    x = rng.standard_normal((2, 4, 6))
    context = rng.standard_normal((2, 7, 6))
    out, weights = mha.attend(x, context=context)
    assert out.shape == (2, 4, 6) and weights.shape == (2, 3, 4, 7)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "words"),
    [
        ((np.ones(3), np.ones((3, 2)), np.ones((3, 2))), {}, ValueError, ["q", "at least 2", "(3,)"]),
        ((np.ones((2, 4)), np.ones((3, 5)), np.ones((3, 2))), {}, ValueError, ["k", "d_k", "4", "(3, 5)"]),
        ((np.ones((2, 4)), np.ones((3, 4)), np.ones((5, 2))), {}, ValueError, ["v", "n_k", "3", "(5, 2)"]),
        ((np.ones((2, 4)), np.ones((3, 4)), np.ones((3, 2))), {"mask": np.ones((2, 3))}, TypeError, ["mask", "bool"]),
        (
            (np.ones((2, 4)), np.ones((3, 4)), np.ones((3, 2))),
            {"mask": np.ones((3, 3), bool)},
            ValueError,
            ["mask", "(2, 3)", "(3, 3)"],
        ),
        ((np.ones((2, 2, 4)), np.ones((3, 3, 4)), np.ones((3, 3, 2))), {}, ValueError, ["batch", "(2,)", "(3,)"]),
        ((np.array([["a", "b"]]), np.ones((3, 2)), np.ones((3, 2))), {}, TypeError, ["q", "dtype"]),
    ],
)
def test_bad_input_names_the_argument(args, kwargs, error, words):
    with pytest.raises(error) as info:
        scaled_dot_product_attention(*args, **kwargs)
    for word in words:
        assert word in str(info.value)


def test_multi_head_bad_sizes():
    with pytest.raises(ValueError, match=r"d_model must be divisible by n_heads = 3; got d_model = 8"):
        MultiHeadAttention.init(8, 3)
    with pytest.raises(ValueError, match=r"d_model must be an integer >= 1; got -4"):
        MultiHeadAttention.init(-4, 2)
    with pytest.raises(TypeError, match=r"n_heads must be an integer"):
        MultiHeadAttention.init(8, 2.0)
    mha = MultiHeadAttention.init(8, 2)
    with pytest.raises(ValueError, match=r"x: last dimension must be d_model = 8; got shape \(3, 6\)"):
        mha(np.ones((3, 6)))
    with pytest.raises(ValueError, match=r"causal_mask|n must be an integer >= 0; got -1"):
        causal_mask(-1)
