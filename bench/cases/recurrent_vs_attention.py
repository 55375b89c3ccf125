"""One forward pass of a recurrent layer against one self-attention layer, as the sequence grows.

``recurrent_vs_attention``: wall time of ``llmarch.RNN``, ``llmarch.LSTM`` and
``llmarch.MultiHeadAttention`` (self-attention, no mask) over one sequence of n vectors,
d = 512, float32, and the rate at which each does its multiply-adds (counted by
``llmarch.complexity.multiply_adds``). The comparison page reads the table from the
results file.
"""

from __future__ import annotations

import numpy as np

from bench.runner import Result, case, time_side_by_side
from llmarch import LSTM, RNN, MultiHeadAttention
from llmarch.complexity import multiply_adds

D_MODEL, HEADS = 512, 8
LENGTHS = (16, 64, 256, 1024, 2048)


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
        title=f"one forward pass over n positions, batch 1, d {d}, {HEADS} heads, float32 (NumPy, CPU)",
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
            "Times are medians of 5 interleaved runs after one warm-up. GFLOP/s are 2 x the multiply-adds that "
            "llmarch.complexity.multiply_adds counts for the layer, divided by its time: how well each layer "
            "keeps the processor busy.",
        ],
    )
