"""One forward pass of a recurrent layer against one self-attention layer, as the sequence grows.

``recurrent_vs_attention``: wall time of ``llmarch.RNN``, ``llmarch.LSTM`` and
``llmarch.MultiHeadAttention`` (self-attention, no mask) over one sequence of n vectors,
d = 512, float32, one BLAS thread, and the rate at which each does its multiply-adds (counted by
``llmarch.complexity.multiply_adds``). The comparison page reads the table from the
results file.
"""

from __future__ import annotations

import contextlib

import numpy as np

from bench.runner import Result, case, time_side_by_side
from llmarch import LSTM, RNN, MultiHeadAttention
from llmarch.complexity import multiply_adds

D_MODEL, HEADS = 512, 8
LENGTHS = (16, 64, 256, 1024, 2048)


def one_blas_thread() -> contextlib.AbstractContextManager[object]:
    """Limit NumPy's BLAS to one thread, if threadpoolctl is installed (``make bench`` installs it).

    With two threads, each of the recurrent layers' many small products has to wait for both
    threads; on a shared machine one of them is often descheduled, and the LSTM's time then
    varies a hundredfold from run to run. One thread each keeps the comparison fair: one core.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@case("recurrent_vs_attention")
def recurrent_vs_attention(quick: bool) -> Result:
    """Forward wall time of an RNN, an LSTM and a self-attention layer as n grows."""
    rng = np.random.default_rng(0)
    d = 64 if quick else D_MODEL
    layers = {
        "RNN": RNN.init(d, d, rng, dtype=np.float32),
        "LSTM": LSTM.init(d, d, rng, dtype=np.float32),
        "attention": MultiHeadAttention.init(d, HEADS, rng, dtype=np.float32),
    }
    rows = []
    for n in (16, 64) if quick else LENGTHS:
        x = rng.standard_normal((1, n, d), dtype=np.float32)
        with one_blas_thread():
            seconds = time_side_by_side(
                {name: (lambda layer=layer, x=x: layer(x)) for name, layer in layers.items()},
                repeats=3 if quick else 5,
            )
        rate = {name: 2 * multiply_adds(layer, n)["total"] / seconds[name] / 1e9 for name, layer in layers.items()}
        rows.append(
            [
                n,
                round(seconds["RNN"] * 1e3, 3),
                round(seconds["LSTM"] * 1e3, 3),
                round(seconds["attention"] * 1e3, 3),
                round(seconds["attention"] / seconds["RNN"], 3),
                round(rate["RNN"], 2),
                round(rate["LSTM"], 2),
                round(rate["attention"], 2),
            ]
        )
    return Result(
        title=f"one forward pass over n positions, batch 1, d {d}, {HEADS} heads, float32 (NumPy, 1 CPU thread)",
        columns=[
            "n",
            "RNN ms",
            "LSTM ms",
            "attn ms",
            "attn/RNN",
            "RNN GFLOP/s",
            "LSTM GFLOP/s",
            "attn GFLOP/s",
        ],
        rows=rows,
        notes=[
            "RNN: llmarch.RNN(d, d), LSTM: llmarch.LSTM(d, d), attention: llmarch.MultiHeadAttention(d, 8) as "
            "self-attention without a mask (its four projections included); each called on one (1, n, d) "
            "float32 sequence.",
            "NumPy's BLAS is limited to one thread during the timing (threadpoolctl), so each layer runs on one "
            "core whatever else the machine is doing. Times are medians of 5 interleaved runs after one warm-up.",
            "GFLOP/s are 2 x the multiply-adds that llmarch.complexity.multiply_adds counts for the layer, divided "
            "by its time: how well each layer keeps the processor busy.",
        ],
    )
