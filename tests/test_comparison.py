"""The comparison page's evidence: Jacobians, counted costs, the baselines, the published model sizes."""

import ast
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from llmarch import (
    LSTM,
    RNN,
    Conv1D,
    GPTConfig,
    MultiHeadAttention,
    SlidingWindowAttention,
    count_parameters,
    scaled_dot_product_attention,
)
from llmarch.benchmarks import load_benchmarks
from llmarch.complexity import dependence, growth_order, max_path_length, multiply_adds, sequential_steps
from llmarch.gradients import finite_difference_jacobians, gradient_norms, input_jacobians
from llmarch.plotting import line_chart
from llmarch.sizing import GPT2_TABLE, GPT3_TABLE, PublishedSize
from llmarch.sliding_window import sliding_window_attention

ROOT = Path(__file__).resolve().parents[1]


def outputs(layer, x):
    out = layer(x)
    return out[0] if isinstance(out, tuple) else out


def band(n, window):
    i = np.arange(n)
    return (i[None, :] <= i[:, None]) & (i[None, :] > i[:, None] - window)


# ---------------------------------------------------------------- gradients


def attention_with_biases(d, heads, rng):
    mha = MultiHeadAttention.init(d, heads, rng, std=0.4)
    for name in ("b_q", "b_k", "b_v", "b_o"):
        setattr(mha, name, rng.standard_normal(d) * 0.3)
    return mha


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: RNN.init(4, 5, rng),
        lambda rng: LSTM.init(4, 5, rng, forget_bias=0.0),
        lambda rng: LSTM.init(4, 5, rng, forget_bias=3.0),
        lambda rng: attention_with_biases(4, 2, rng),
        lambda rng: attention_with_biases(4, 1, rng),
    ],
    ids=["rnn", "lstm", "lstm-forget-3", "attention-2-heads", "attention-1-head"],
)
def test_exact_jacobians_match_finite_differences(make):
    rng = np.random.default_rng(0)
    layer = make(rng)
    x = rng.standard_normal((6, 4))
    exact = input_jacobians(layer, x)
    nudged = finite_difference_jacobians(lambda z: outputs(layer, z), x, chunk=7)
    assert exact.shape == nudged.shape
    np.testing.assert_allclose(exact, nudged, rtol=1e-6, atol=1e-9)


def test_float32_layers_are_differentiated_in_float64():
    rnn = RNN.init(3, 3, np.random.default_rng(1), dtype=np.float32)
    assert input_jacobians(rnn, np.ones((4, 3), dtype=np.float32)).dtype == np.float64


def test_gradient_norms_index_distance_back():
    rng = np.random.default_rng(2)
    rnn = RNN.init(3, 3, rng)
    x = rng.standard_normal((5, 3))
    jacobians = input_jacobians(rnn, x)
    norms = gradient_norms(rnn, x)
    assert norms.shape == (5,)
    np.testing.assert_allclose(norms[0], np.linalg.norm(jacobians[-1], 2))
    np.testing.assert_allclose(norms[4], np.linalg.norm(jacobians[0], 2))


def test_rnn_gradient_vanishes_and_attention_does_not():
    rng = np.random.default_rng(3)
    d, n = 16, 80
    x = rng.standard_normal((n, d))
    rnn = gradient_norms(RNN.init(d, d, rng), x)
    lstm = gradient_norms(LSTM.init(d, d, rng, forget_bias=3.0), x)
    attention = gradient_norms(MultiHeadAttention.init(d, 2, rng, std=1 / np.sqrt(d)), x)
    assert rnn[-1] < 1e-15 * rnn[1]
    assert lstm[-1] > 1e6 * rnn[-1]
    assert attention[1:].min() > 0.01 * attention[1:].max()


def test_gradient_inputs_are_checked():
    rnn = RNN.init(3, 3)
    with pytest.raises(TypeError, match="layer must be an RNN, LSTM or MultiHeadAttention"):
        input_jacobians(Conv1D.init(2, 3, 3), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"x must have shape \(n, d_in\) with n >= 1 and d_in = 3"):
        input_jacobians(rnn, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="x must have 2 dimension"):
        gradient_norms(rnn, np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match="eps must be a positive number"):
        finite_difference_jacobians(lambda z: z, np.zeros((2, 2)), eps=0.0)
    with pytest.raises(TypeError, match="f must be callable"):
        finite_difference_jacobians(None, np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"f\(x\) must have 3 dimension"):
        finite_difference_jacobians(lambda z: z[..., 0], np.zeros((2, 2)))


# ---------------------------------------------------------------- the baselines


def test_conv1d_matches_a_loop():
    rng = np.random.default_rng(4)
    conv = Conv1D.init(3, 4, 2, rng)
    x = rng.standard_normal((2, 7, 4))
    expected = np.tile(conv.b, (2, 7, 1))
    for t in range(7):
        for m in range(3):
            if t - 2 + m >= 0:
                expected[:, t] += x[:, t - 2 + m] @ conv.w[m]
    np.testing.assert_allclose(conv(x), expected)


def test_conv1d_checks_its_input():
    with pytest.raises(ValueError, match="b must have shape"):
        Conv1D(np.zeros((2, 3, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="x: last dimension must be d_in = 3"):
        Conv1D.init(2, 3, 4)(np.zeros((5, 4)))
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator, an int seed or None; got str"):
        Conv1D.init(2, 3, 4, "seed")  # type: ignore[arg-type]


def test_conv1d_and_sliding_window_compute_in_the_dtype_of_their_weights():
    rng = np.random.default_rng(6)
    conv = Conv1D.init(2, 3, 4, rng, dtype=np.float32)
    assert conv.b.dtype == np.float32
    assert conv(np.ones((5, 3))).dtype == np.float32
    window = SlidingWindowAttention(MultiHeadAttention.init(4, 2, rng, dtype=np.float32), window=2)
    assert window(np.ones((5, 4))).dtype == np.float32


@pytest.mark.parametrize("window", [1, 3, 9, 20])
def test_sliding_window_equals_banded_attention(window):
    rng = np.random.default_rng(5)
    q, k, v = rng.standard_normal((3, 2, 9, 4))
    expected, _ = scaled_dot_product_attention(q, k, v, mask=band(9, window))
    np.testing.assert_allclose(sliding_window_attention(q, k, v, window), expected, atol=1e-12)


def test_sliding_window_layer_equals_masked_multi_head_attention():
    rng = np.random.default_rng(6)
    mha = attention_with_biases(8, 2, rng)
    x = rng.standard_normal((3, 10, 8))
    np.testing.assert_allclose(SlidingWindowAttention(mha, 4)(x), mha(x, mask=band(10, 4)), atol=1e-12)


def test_sliding_window_checks_its_input():
    q = np.zeros((5, 4))
    with pytest.raises(ValueError, match="window must be an integer >= 1"):
        sliding_window_attention(q, q, q, 0)
    with pytest.raises(ValueError, match="k must have the shape of q"):
        sliding_window_attention(q, np.zeros((6, 4)), q, 2)
    with pytest.raises(TypeError, match="attention must be a MultiHeadAttention"):
        SlidingWindowAttention(RNN.init(2, 2), 2)


# ---------------------------------------------------------------- counted costs


def test_multiply_adds_by_hand():
    rng = np.random.default_rng(7)
    assert multiply_adds(RNN.init(3, 5, rng), 7) == {"projections": 7 * 3 * 5, "mixing": 7 * 25, "total": 280}
    lstm = multiply_adds(LSTM.init(3, 5, rng), 7)
    assert lstm == {"projections": 4 * 7 * 15, "mixing": 4 * 7 * 25, "total": 4 * 280}
    mha = MultiHeadAttention.init(8, 2, rng)
    assert multiply_adds(mha, 10) == {"projections": 4 * 10 * 64, "mixing": 2 * 100 * 8, "total": 2560 + 1600}
    window = multiply_adds(SlidingWindowAttention(mha, 3), 10)
    assert window["mixing"] == 2 * 10 * 3 * 8
    assert multiply_adds(Conv1D.init(3, 4, 5, rng), 10) == {"projections": 0, "mixing": 600, "total": 600}


def test_attention_count_agrees_with_the_shapes_it_multiplies():
    # Scores (h, n, n) from (h, n, d_head) x (h, d_head, n), then (h, n, n) x (h, n, d_head).
    n, d, h = 6, 12, 3
    scores = h * n * n * (d // h)
    assert multiply_adds(MultiHeadAttention.init(d, h), n)["mixing"] == 2 * scores


def test_crossover_is_at_n_equals_d():
    for d in (32, 96):
        attention, rnn = MultiHeadAttention.init(d, 4), RNN.init(d, d)
        cheaper = [multiply_adds(attention, n)["mixing"] < multiply_adds(rnn, n)["total"] for n in range(1, 3 * d)]
        assert cheaper.index(False) + 1 == d


def test_sequential_steps_are_counted_by_running():
    rng = np.random.default_rng(8)
    assert sequential_steps(RNN.init(2, 3, rng), 17) == 17
    assert sequential_steps(LSTM.init(2, 3, rng), 5) == 5
    for layer in (MultiHeadAttention.init(4, 2, rng), Conv1D.init(3, 4, 4, rng)):
        assert sequential_steps(layer, 100) == 1


def test_counting_steps_leaves_the_layer_alone():
    rnn = RNN.init(2, 3)
    sequential_steps(rnn, 4)
    assert "step" not in vars(rnn)


@pytest.mark.parametrize("n", [1, 2, 7, 16, 33])
def test_path_lengths(n):
    rng = np.random.default_rng(9)
    mha = MultiHeadAttention.init(4, 2, rng, std=0.5)
    assert max_path_length(mha, n) == 1
    assert max_path_length(RNN.init(4, 4, rng), n) == max(1, n - 1)
    assert max_path_length(Conv1D.init(3, 4, 4, rng), n) == max(1, math.ceil((n - 1) / 2))
    assert max_path_length(SlidingWindowAttention(mha, 5), n) == max(1, math.ceil((n - 1) / 4))


def test_dependence_is_measured_not_assumed():
    rng = np.random.default_rng(10)
    np.testing.assert_array_equal(dependence(Conv1D.init(2, 3, 3, rng), 4), band(4, 2))
    np.testing.assert_array_equal(dependence(MultiHeadAttention.init(4, 2, rng), 3), np.ones((3, 3), bool))


def test_growth_order():
    assert growth_order(lambda n, d: 2 * n * n * d, n=8, d=8) == "n²·d"
    assert growth_order(lambda k, n, d: k * n * d * d, k=3, n=8, d=8) == "k·n·d²"
    assert growth_order(lambda n: 7, n=8) == "1"
    assert growth_order(lambda n: 1 / n, n=8) == "n⁻¹"
    with pytest.raises(ValueError, match="cost is not a power of n"):
        growth_order(lambda n: n + 100, n=8)
    with pytest.raises(ValueError, match="at least one size"):
        growth_order(lambda: 1)


def test_cost_functions_check_the_layer():
    with pytest.raises(TypeError, match="layer must be one of RNN, LSTM"):
        multiply_adds("rnn", 3)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        sequential_steps(RNN.init(2, 2), 0)


# ---------------------------------------------------------------- published sizes

# What Hugging Face transformers reports for GPT2LMHeadModel.from_pretrained(name).num_parameters().
HUGGING_FACE_GPT2 = {
    "gpt2": 124_439_808,
    "gpt2-medium": 354_823_168,
    "gpt2-large": 774_030_080,
    "gpt2-xl": 1_557_611_200,
}


def test_gpt2_counts_match_hugging_face_exactly():
    for row in GPT2_TABLE:
        assert count_parameters(GPTConfig.preset(row.name)) == HUGGING_FACE_GPT2[row.name]
        assert count_parameters(row.config()) == HUGGING_FACE_GPT2[row.name]


def test_every_gpt3_row_is_within_two_percent():
    assert len(GPT3_TABLE) == 8
    for row in GPT3_TABLE:
        assert row.n_ctx == 2048 and row.vocab_size == 50257
        assert abs(count_parameters(row.config()) / row.published_parameters - 1) < 0.02, row.name


def test_the_inconsistent_gpt3_rows_are_found_from_the_table():
    assert [row.name for row in GPT3_TABLE if not row.heads_consistent] == ["GPT-3 XL", "GPT-3 13B"]
    assert all(row.heads_consistent for row in GPT2_TABLE)


def test_published_size_parsing_and_overrides():
    row = PublishedSize("x", "1.3B", 2, 10, 3, 4, 16)
    assert row.published_parameters == 1_300_000_000
    assert row.config().n_heads == 1  # 3 heads do not divide 10; the count does not depend on heads
    assert row.config(d_model=12).d_model == 12
    with pytest.raises(ValueError, match="n_params must end in K, M or B"):
        _ = PublishedSize("x", "13", 2, 10, 2, 5, 16).published_parameters


# ---------------------------------------------------------------- the summary page


def test_summary_lists_the_names_each_page_imports():
    """Each row of docs/summary.md names exactly what the page's snippets import from llmarch."""
    summary = (ROOT / "docs" / "summary.md").read_text()
    rows = re.findall(r"^\| \[[^\]]+\]\(([^)#]+\.md)\) \|.*\| (.*) \|$", summary, re.MULTILINE)
    assert rows, "no page rows found in docs/summary.md"
    for page, api in rows:
        listed = set(re.findall(r"`([A-Za-z_0-9]+)`", api))
        source = (ROOT / "docs" / page).read_text()
        imported = set()
        for include in re.findall(r'--8<-- "([^"]+)"', source):
            tree = ast.parse((ROOT / "snippets" / include).read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "llmarch":
                    imported |= {alias.name for alias in node.names}
        imported.discard("save_figure")  # on every page with a figure
        assert listed == imported, f"{page}: summary lists {sorted(listed)}, snippets import {sorted(imported)}"


# ---------------------------------------------------------------- the figure helper and the benchmark case


def test_line_chart_draws_one_curve_per_series():
    fig = line_chart([1, 2, 4], {"a": [1, 2, 3], "b": [3, 2, 1]}, logx=True, logy=True)
    assert len(fig.axes[0].get_lines()) == 2
    with pytest.raises(ValueError, match=r"series\['a'\] must have the shape of x"):
        line_chart([1, 2, 4], {"a": [1, 2]})
    with pytest.raises(ValueError, match="series must hold at least one curve"):
        line_chart([1, 2], {})


def test_the_wall_time_case_runs_and_its_results_are_shipped():
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "recurrent_vs_attention", "--quick", "--no-write"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    case = load_benchmarks()["recurrent_vs_attention"]
    for column in ("n", "RNN ms", "LSTM ms", "attn ms"):  # what snippets/comparison/wall_time.py reads
        assert len(case.column(column)) == len(case.rows) >= 3
    assert case.environment["cpu"] and case.environment["date"]
