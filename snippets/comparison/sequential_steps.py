"""Count the steps each layer must take one after another, as the sequence grows."""

import numpy as np

from llmarch import LSTM, RNN, MultiHeadAttention
from llmarch.complexity import sequential_steps
from llmarch.plotting import line_chart, save_figure

rng = np.random.default_rng(0)
d = 16
rnn = RNN.init(d, d, rng)
lstm = LSTM.init(d, d, rng)
attention = MultiHeadAttention.init(d, 4, rng)

# All three read a batch of 2 sequences of 10 vectors; one output per position.
x = rng.standard_normal((2, 10, d))
outputs, h_last = rnn(x)
print("RNN:      ", outputs.shape, "final state", h_last.shape)
#> RNN:       (2, 10, 16) final state (2, 16)
print("LSTM:     ", lstm(x)[0].shape)
#> LSTM:      (2, 10, 16)
print("attention:", attention(x).shape)
#> attention: (2, 10, 16)

# A recurrent layer's forward pass calls `step` once per position, and each call
# waits for the previous state. Attention computes all positions with the same few
# matrix products.
lengths = 2 ** np.arange(3, 11)
steps = {
    "RNN": [sequential_steps(rnn, int(n)) for n in lengths],
    "LSTM": [sequential_steps(lstm, int(n)) for n in lengths],
    "self-attention": [sequential_steps(attention, int(n)) for n in lengths],
}
print("n:             ", lengths.tolist())
#> n:              [8, 16, 32, 64, 128, 256, 512, 1024]
for name, counts in steps.items():
    print(f"{name + ':':<15}", counts)
    #> RNN:            [8, 16, 32, 64, 128, 256, 512, 1024]
    #> LSTM:           [8, 16, 32, 64, 128, 256, 512, 1024]
    #> self-attention: [1, 1, 1, 1, 1, 1, 1, 1]

fig = line_chart(
    lengths,
    steps,
    title="Steps that must run one after another",
    xlabel="sequence length n (tokens)",
    ylabel="sequential steps per layer",
    logx=True,
    logy=True,
)
save_figure(fig, "comparison_sequential_steps.svg")
