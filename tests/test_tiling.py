"""Tiled attention equals plain attention, skips what it should, and never holds n x n scores."""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmarch import causal_mask, scaled_dot_product_attention, tiled_attention

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}


def random_qkv(
    rng: np.random.Generator,
    batch: tuple[int, ...],
    n_q: int,
    n_k: int,
    d_k: int = 8,
    d_v: int = 8,
    dtype: type[np.floating] = np.float32,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q = rng.standard_normal((*batch, n_q, d_k)).astype(dtype)
    k = rng.standard_normal((*batch, n_k, d_k)).astype(dtype)
    v = rng.standard_normal((*batch, n_k, d_v)).astype(dtype)
    return q, k, v


def plain(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool = False, mask: np.ndarray | None = None):
    """The reference: plain attention with the causal mask spelled out."""
    if causal:
        below_diagonal = np.tri(q.shape[-2], k.shape[-2], dtype=bool)
        mask = below_diagonal if mask is None else mask & below_diagonal
    return scaled_dot_product_attention(q, k, v, mask=mask)[0]


@settings(max_examples=200, deadline=None)
@given(
    batch=st.lists(st.integers(1, 3), max_size=2).map(tuple),
    n_q=st.integers(1, 40),
    n_k=st.integers(1, 40),
    d_k=st.integers(1, 9),
    d_v=st.integers(1, 9),
    block_size=st.integers(1, 48),
    key_block_size=st.integers(1, 48),
    causal=st.booleans(),
    masked=st.sampled_from([None, "keys", "full"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_tiled_equals_plain_on_random_shapes(
    batch, n_q, n_k, d_k, d_v, block_size, key_block_size, causal, masked, dtype, seed
):
    rng = np.random.default_rng(seed)
    q, k, v = random_qkv(rng, batch, n_q, n_k, d_k, d_v, dtype)
    mask = None
    if masked == "keys":  # one mask row shared by every query: some queries may see no key at all
        mask = rng.random((*batch, 1, n_k)) < 0.6
    elif masked == "full":
        mask = rng.random((*batch, n_q, n_k)) < 0.4
    out = tiled_attention(q, k, v, causal=causal, block_size=block_size, key_block_size=key_block_size, mask=mask)
    expected = plain(q, k, v, causal, mask)
    assert out.dtype == dtype
    assert out.shape == expected.shape == (*batch, n_q, d_v)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, expected, rtol=0, atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("n", "block_size", "key_block_size"),
    [(256, 128, 128), (300, 128, 512), (1100, 128, 512), (130, 64, 64), (1, 128, 512), (100, 999, 999), (257, 16, 48)],
    ids=["square", "ragged", "ragged-keys", "ragged-one-extra", "single-token", "block-larger-than-n", "small-blocks"],
)
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_tiled_equals_plain_at_model_sizes(n, block_size, key_block_size, causal, dtype):
    rng = np.random.default_rng(n + block_size)
    q, k, v = random_qkv(rng, (1, 2), n, n, d_k=64, d_v=64, dtype=dtype)
    out = tiled_attention(q, k, v, causal=causal, block_size=block_size, key_block_size=key_block_size)
    np.testing.assert_allclose(out, plain(q, k, v, causal), rtol=0, atol=TOLERANCE[dtype])


def test_causal_flag_is_the_causal_mask():
    rng = np.random.default_rng(1)
    q, k, v = random_qkv(rng, (4,), 50, 50)
    np.testing.assert_allclose(
        tiled_attention(q, k, v, causal=True, block_size=16),
        tiled_attention(q, k, v, block_size=16, mask=causal_mask(50)),
        rtol=0,
        atol=1e-6,
    )


def test_fully_masked_rows_give_zeros_not_nan():
    rng = np.random.default_rng(2)
    q, k, v = random_qkv(rng, (2,), 20, 30)
    mask = rng.random((2, 20, 30)) < 0.5
    mask[0, 3] = False  # one query sees nothing
    mask[1, :, :] = False  # a whole sequence sees nothing
    out = tiled_attention(q, k, v, block_size=8, mask=mask)
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out[0, 3], 0.0)
    np.testing.assert_array_equal(out[1], 0.0)
    np.testing.assert_allclose(out, plain(q, k, v, mask=mask), rtol=0, atol=1e-5)


def test_no_keys_gives_zeros_and_no_queries_gives_empty():
    rng = np.random.default_rng(3)
    q, k, v = random_qkv(rng, (2,), 5, 0, d_v=3)
    np.testing.assert_array_equal(tiled_attention(q, k, v), np.zeros((2, 5, 3), np.float32))
    q, k, v = random_qkv(rng, (2,), 0, 7, d_v=3)
    assert tiled_attention(q, k, v, causal=True).shape == (2, 0, 3)


def test_leading_dimensions_broadcast():
    rng = np.random.default_rng(4)
    q = rng.standard_normal((3, 4, 10, 8))
    k = rng.standard_normal((4, 12, 8))  # shared across the first axis
    v = rng.standard_normal((1, 1, 12, 5))
    out = tiled_attention(q, k, v, block_size=4)
    assert out.shape == (3, 4, 10, 5)
    np.testing.assert_allclose(out, plain(q, k, v), rtol=0, atol=1e-12)


def test_dtypes_follow_plain_attention():
    rng = np.random.default_rng(5)
    q, k, v = random_qkv(rng, (), 6, 6)
    assert tiled_attention(q, k, v).dtype == np.float32
    assert tiled_attention(q, k.astype(np.float64), v).dtype == np.float64
    integers = np.arange(24).reshape(6, 4) % 3
    assert tiled_attention(integers, integers, integers).dtype == np.float64


def test_causal_skips_the_blocks_above_the_diagonal():
    # NaN in the values of the last key block: a version that computed those tiles and then
    # masked them would multiply weight 0 by NaN and spread NaN into every earlier query block.
    # (The mask keeps the last query block off them too: NaN a query attends to is an error.)
    rng = np.random.default_rng(6)
    n, block = 96, 32
    q, k, v = random_qkv(rng, (2,), n, n)
    poisoned = v.copy()
    poisoned[:, 2 * block :] = np.nan
    mask = np.ones((n, n), dtype=bool)
    mask[2 * block :, 2 * block :] = False
    out = tiled_attention(q, k, poisoned, causal=True, block_size=block, key_block_size=block, mask=mask)
    np.testing.assert_allclose(out[:, : 2 * block], plain(q, k, v, causal=True)[:, : 2 * block], rtol=0, atol=1e-5)


def test_a_tile_the_mask_hides_entirely_is_skipped():
    rng = np.random.default_rng(7)
    q, k, v = random_qkv(rng, (), 40, 40)
    mask = np.ones((40, 40), dtype=bool)
    mask[:20, 20:] = False  # the top-right tile, for block_size 20
    mask[20:, 20:] = False  # and the bottom-right: NaN a query attends to is an error
    poisoned = v.copy()
    poisoned[20:] = np.nan
    out = tiled_attention(q, k, poisoned, block_size=20, key_block_size=20, mask=mask)
    np.testing.assert_allclose(out[:20], plain(q, k, v, mask=mask)[:20], rtol=0, atol=1e-5)


def peak_bytes(run: Callable[[], object]) -> int:
    """Peak memory NumPy allocated (it reports to tracemalloc) while ``run`` ran."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_grows_like_n_times_block_not_n_squared():
    rng = np.random.default_rng(8)
    block, key_block, d = 64, 256, 16
    peaks = {}
    for n in (1024, 4096):
        q, k, v = random_qkv(rng, (), n, n, d, d, np.float64)
        peaks[n] = peak_bytes(
            lambda q=q, k=k, v=v: tiled_attention(q, k, v, causal=True, block_size=block, key_block_size=key_block)
        )
        # The scaled queries, the output and a few tile-sized arrays; nothing of size n^2.
        assert peaks[n] < 8 * (4 * n * d + 4 * block * key_block), peaks[n]
    assert peaks[4096] < 8 * 4096 * 4096 / 50  # a fiftieth of one n x n float64 matrix
    assert peaks[4096] < 4.5 * peaks[1024]  # 4x the length, about 4x the memory (not 16x)

    q, k, v = random_qkv(rng, (), 1024, 1024, d, d, np.float64)
    assert peak_bytes(lambda: plain(q, k, v, causal=True)) > 8 * 1024 * 1024  # the check can tell


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"causal": 1}, TypeError, "causal must be a bool"),
        ({"block_size": 0}, ValueError, "block_size must be an integer >= 1"),
        ({"block_size": 2.5}, TypeError, "block_size must be an integer"),
        ({"key_block_size": 0}, ValueError, "key_block_size must be an integer >= 1"),
        ({"mask": np.ones((4, 5), dtype=int)}, TypeError, "mask must be a boolean array"),
        ({"mask": np.ones((3, 4), dtype=bool)}, ValueError, "mask must broadcast"),
    ],
)
def test_bad_options_are_named(kwargs, error, match):
    q, k, v = random_qkv(np.random.default_rng(9), (), 4, 5)
    with pytest.raises(error, match=match):
        tiled_attention(q, k, v, **kwargs)


@pytest.mark.parametrize(
    ("shapes", "error", "match"),
    [
        (((4,), (5, 8), (5, 8)), ValueError, "q must have at least 2 dimension"),
        (((4, 8), (5, 7), (5, 8)), ValueError, "k: last dimension d_k"),
        (((4, 8), (5, 8), (6, 8)), ValueError, r"v: dimension -2 \(n_k\)"),
        (((2, 4, 8), (3, 5, 8), (3, 5, 8)), ValueError, "leading .batch. dimensions must broadcast"),
    ],
)
def test_bad_shapes_are_named(shapes, error, match):
    q, k, v = (np.ones(shape) for shape in shapes)
    with pytest.raises(error, match=match):
        tiled_attention(q, k, v)


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match="q must be a real numeric array"):
        tiled_attention(np.ones((2, 2), dtype=complex), np.ones((2, 2)), np.ones((2, 2)))


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_workers_give_the_same_output(causal):
    rng = np.random.default_rng(10)
    q, k, v = random_qkv(rng, (2, 3), 300, 300, 16, 16)
    mask = rng.random((2, 1, 300, 300)) < 0.7
    kwargs = {"causal": causal, "block_size": 64, "key_block_size": 96, "mask": mask}
    one = tiled_attention(q, k, v, **kwargs)
    np.testing.assert_array_equal(tiled_attention(q, k, v, **kwargs, workers=3), one)


def test_workers_must_be_a_positive_integer():
    q, k, v = random_qkv(np.random.default_rng(11), (), 4, 5)
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        tiled_attention(q, k, v, workers=0)
    with pytest.raises(TypeError, match="workers must be an integer"):
        tiled_attention(q, k, v, workers=2.0)


def test_workers_without_threadpoolctl_say_what_to_install(monkeypatch):
    import llmarch.tiling

    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # as if it were not installed
    monkeypatch.setattr(llmarch.tiling, "_controller", None)
    q, k, v = random_qkv(np.random.default_rng(12), (), 300, 300)
    with pytest.raises(ImportError, match=r"pip install 'llmarch\[fast\]'"):
        tiled_attention(q, k, v, block_size=64, workers=2)
    assert tiled_attention(q, k, v, block_size=64).shape == (300, 8)  # one worker needs nothing more
