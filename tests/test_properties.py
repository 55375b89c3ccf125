"""Properties that must hold for every input, checked with hypothesis."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llmarch import causal_mask, scaled_dot_product_attention, softmax

finite = st.floats(-50, 50, allow_nan=False, width=64)
settings.register_profile("llmarch", deadline=None, max_examples=60)
settings.load_profile("llmarch")


@st.composite
def qkv(draw, max_n=6, max_d=5):
    n_q = draw(st.integers(1, max_n))
    n_k = draw(st.integers(1, max_n))
    d_k = draw(st.integers(1, max_d))
    d_v = draw(st.integers(1, max_d))
    q = draw(arrays(np.float64, (n_q, d_k), elements=finite))
    k = draw(arrays(np.float64, (n_k, d_k), elements=finite))
    v = draw(arrays(np.float64, (n_k, d_v), elements=finite))
    return q, k, v


@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 8)), elements=st.floats(-1e4, 1e4)))
def test_softmax_rows_sum_to_one(x):
    out = softmax(x)
    assert np.all(out >= 0)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0)


@given(qkv())
def test_output_is_a_convex_combination_of_values(args):
    q, k, v = args
    out, weights = scaled_dot_product_attention(q, k, v)
    assert np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
    # Every output coordinate lies between the smallest and largest value in that column.
    tol = 1e-9 * (1 + np.abs(v).max())
    assert np.all(out >= v.min(axis=0) - tol) and np.all(out <= v.max(axis=0) + tol)


@given(qkv(), st.randoms(use_true_random=False))
def test_permuting_keys_and_values_together_changes_nothing(args, random):
    q, k, v = args
    order = list(range(k.shape[0]))
    random.shuffle(order)
    out, _ = scaled_dot_product_attention(q, k, v)
    out_perm, _ = scaled_dot_product_attention(q, k[order], v[order])
    np.testing.assert_allclose(out_perm, out, atol=1e-9 * (1 + np.abs(v).max()))


@given(qkv(), st.randoms(use_true_random=False))
def test_permuting_queries_permutes_the_output(args, random):
    q, k, v = args
    order = list(range(q.shape[0]))
    random.shuffle(order)
    out, _ = scaled_dot_product_attention(q, k, v)
    out_perm, _ = scaled_dot_product_attention(q[order], k, v)
    np.testing.assert_allclose(out_perm, out[order], atol=1e-9 * (1 + np.abs(v).max()))


@given(st.data())
def test_causal_outputs_ignore_the_future(data):
    n = data.draw(st.integers(1, 7), label="n")
    d = data.draw(st.integers(1, 4), label="d")
    t = data.draw(st.integers(0, n - 1), label="t")
    x = data.draw(arrays(np.float64, (3, n, d), elements=finite), label="x")
    future = data.draw(arrays(np.float64, (3, n - t - 1, d), elements=finite), label="future")
    changed = x.copy()
    changed[:, t + 1 :] = future  # rewrite everything after position t
    out, _ = scaled_dot_product_attention(x[0], x[1], x[2], mask=causal_mask(n))
    out_changed, _ = scaled_dot_product_attention(changed[0], changed[1], changed[2], mask=causal_mask(n))
    np.testing.assert_array_equal(out_changed[: t + 1], out[: t + 1])
