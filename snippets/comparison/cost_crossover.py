"""Multiply-adds per layer as the sequence grows: where self-attention is the cheaper layer."""

import numpy as np

from llmarch import LSTM, RNN, MultiHeadAttention
from llmarch.complexity import multiply_adds
from llmarch.plotting import line_chart, save_figure

rng = np.random.default_rng(0)


def count(layer, part, lengths):
    """Multiply-adds of `layer` at each length: part is "mixing" (relating positions) or "total"."""
    return np.array([multiply_adds(layer, int(n))[part] for n in lengths])


for d in (64, 256, 1024):
    attention, rnn, lstm = MultiHeadAttention.init(d, 8, rng), RNN.init(d, d, rng), LSTM.init(d, d, rng)
    lengths = np.arange(1, 8 * d)
    attention_nn = count(attention, "mixing", lengths)  # the n x n work: 2 n^2 d
    attention_all = count(attention, "total", lengths)  # plus the four d x d projections: 4 n d^2
    rnn_all, lstm_all = count(rnn, "total", lengths), count(lstm, "total", lengths)
    # Table 1 sets attention's n x n work beside the whole recurrent layer.
    print(f"d = {d:>4}: Table 1's count: cheaper than an RNN while n < {lengths[attention_nn >= rnn_all][0]}")
    #> d =   64: Table 1's count: cheaper than an RNN while n < 64
    #> d =  256: Table 1's count: cheaper than an RNN while n < 256
    #> d = 1024: Table 1's count: cheaper than an RNN while n < 1024
    print(
        f"          every product: cheaper than an LSTM while n < {lengths[attention_all >= lstm_all][0]},"
        f" than an RNN at {np.sum(attention_all < rnn_all)} lengths"
    )
    #>           every product: cheaper than an LSTM while n < 128, than an RNN at 0 lengths
    #>           every product: cheaper than an LSTM while n < 512, than an RNN at 0 lengths
    #>           every product: cheaper than an LSTM while n < 2048, than an RNN at 0 lengths

d = 512
attention, rnn, lstm = MultiHeadAttention.init(d, 8, rng), RNN.init(d, d, rng), LSTM.init(d, d, rng)
lengths = 2 ** np.arange(4, 14)
costs = {
    "self-attention, all products": [multiply_adds(attention, int(n))["total"] for n in lengths],
    "self-attention, n×n part only (Table 1)": [multiply_adds(attention, int(n))["mixing"] for n in lengths],
    "LSTM": [multiply_adds(lstm, int(n))["total"] for n in lengths],
    "RNN": [multiply_adds(rnn, int(n))["total"] for n in lengths],
}
fig = line_chart(
    lengths,
    costs,
    title=f"Multiply-adds of one layer, d = {d}",
    xlabel="sequence length n (tokens)",
    ylabel="multiply-adds (log scale)",
    logx=True,
    logy=True,
)
fig.axes[0].axvline(d, color="grey", linewidth=1)
fig.axes[0].annotate(" n = d", (d, costs["RNN"][0]), color="grey")
save_figure(fig, "comparison_cost_crossover.svg")
