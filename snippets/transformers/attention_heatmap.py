"""Draw who attends to whom in a sentence: a heatmap in attention_heatmap.svg."""

import numpy as np

from llmarch import scaled_dot_product_attention
from llmarch.plotting import attention_heatmap, save_figure

np.set_printoptions(precision=2, suppress=True)

tokens = ["the", "cat", "sat", "on", "the", "mat", "because", "it", "was", "tired"]
# Hand-made features, so the picture has meaning:
# [animal, place, verb, pronoun, state, filler]
features = {
    "the": [0, 0, 0, 0, 0, 1],
    "cat": [1, 0, 0, 0, 0, 0],
    "sat": [0, 0, 1, 0, 0, 0],
    "on": [0, 1, 0, 0, 0, 1],
    "mat": [0, 1, 0, 0, 0, 0],
    "because": [0, 0, 0, 0, 0, 1],
    "it": [0, 0, 0, 1, 0, 0],
    "was": [0, 0, 1, 0, 0, 0],
    "tired": [0, 0, 0, 0, 1, 0],
}
X = np.array([features[t] for t in tokens], dtype=float)

# What each kind of word looks for (row: its feature, column: the feature
# it seeks).
# A trained model learns such matrices; these are set by hand to show the idea.
W_q = 6.0 * np.array(
    [
        [0, 0, 1, 0, 0, 0],  # an animal looks for what it does
        [0, 0, 1, 0, 0, 0],  # a place looks for the verb that happens there
        [1, 0.6, 0, 0, 0, 0],  # a verb looks for its subject, then a place
        [1, 0, 0, 0, 0, 0],  # a pronoun looks for the animal it stands for
        [1, 0, 0, 0.5, 0, 0],  # a state looks for whom it describes
        [0, 0, 0, 0, 0, 0],  # filler words look nowhere in particular
    ]
)
W_k = np.eye(6)

_, weights = scaled_dot_product_attention(X @ W_q, X @ W_k, X)
print(tokens[7], "attends most to", tokens[int(weights[7].argmax())])
#> it attends most to cat
print(weights[7])
#> [0.05 0.56 0.05 0.05 0.05 0.05 0.05 0.05 0.05 0.05]

fig = attention_heatmap(weights, tokens, title="Who attends to whom")
save_figure(fig, "attention_heatmap.svg")
