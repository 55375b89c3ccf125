"""Multiply-adds per layer as the sequence grows: where is self-attention cheaper?"""

import numpy as np

from llmarch import LSTM, RNN, MultiHeadAttention
from llmarch.complexity import multiply_adds
from llmarch.plotting import line_chart, save_figure

rng = np.random.default_rng(0)


def count(layer, part, lengths):
    """Multiply-adds at each length; part: "mixing" (across positions) or "total"."""
    return np.array([multiply_adds(layer, int(n))[part] for n in lengths])


def three_layers(d):
    return MultiHeadAttention.init(d, 8, rng), RNN.init(d, d, rng), LSTM.init(d, d, rng)


for d in (64, 256, 1024):
    attention, rnn, lstm = three_layers(d)
    lengths = np.arange(1, 8 * d)
    attention_nn = count(attention, "mixing", lengths)  # the n x n work: 2 n^2 d
    attention_all = count(attention, "total", lengths)  # + 4 projections: 4 n d^2
    rnn_all, lstm_all = count(rnn, "total", lengths), count(lstm, "total", lengths)
    # Table 1 sets attention's n x n work beside the whole recurrent layer.
    table1 = lengths[attention_nn >= rnn_all][0]
    print(f"d = {d:>4}: Table 1's count: cheaper than an RNN while n < {table1}")
    #> d =   64: Table 1's count: cheaper than an RNN while n < 64
    #> d =  256: Table 1's count: cheaper than an RNN while n < 256
    #> d = 1024: Table 1's count: cheaper than an RNN while n < 1024
    vs_lstm = lengths[attention_all >= lstm_all][0]
    vs_rnn = np.sum(attention_all < rnn_all)
    print(f"          every product: cheaper than an LSTM while n < {vs_lstm},")
    #>           every product: cheaper than an LSTM while n < 128,
    #>           every product: cheaper than an LSTM while n < 512,
    #>           every product: cheaper than an LSTM while n < 2048,
    print(f"          cheaper than an RNN at {vs_rnn} lengths")
    #>           cheaper than an RNN at 0 lengths
    #>           cheaper than an RNN at 0 lengths
    #>           cheaper than an RNN at 0 lengths

d = 512
attention, rnn, lstm = three_layers(d)
lengths = 2 ** np.arange(4, 14)
costs = {
    "self-attention, all products": count(attention, "total", lengths),
    "self-attention, n×n part only (Table 1)": count(attention, "mixing", lengths),
    "LSTM": count(lstm, "total", lengths),
    "RNN": count(rnn, "total", lengths),
}
fig = line_chart(
    lengths,
    costs,
    title=f"Multiply-adds of one layer, d = {d}",
    xlabel="sequence length n (tokens)",
    ylabel="multiply-adds (log scale)",
    logx=True,
    logy=True,
    vlines={"n = d": d},
)
save_figure(fig, "comparison_cost_crossover.svg")
