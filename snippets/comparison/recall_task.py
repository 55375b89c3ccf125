"""Key-value recall: the task, and the three models trained on it."""

import numpy as np

from llmarch.recall import KeyValueRecall
from llmarch.trained import load, provenance

# A short sequence to read: pairs (key, value), then the query Q and a key.
small = KeyValueRecall(n_keys=10, n_values=5, length=14)
tokens, answers, distances = small.sample(np.random.default_rng(0), 1)


def name(token):
    if token == small.query:
        return "Q"
    return f"k{token}" if token < small.n_keys else f"v{token - small.n_keys}"


print(" ".join(name(t) for t in tokens[0]), "->", name(answers[0]))
#> k4 v2 k6 v3 k2 v4 k7 v3 k3 v3 k5 v2 Q k7 -> v3
print(f"the answer is {distances[0]} positions before the last token")
#> the answer is 6 positions before the last token

kinds = ("rnn", "lstm", "transformer")
task = load("lookup-rnn").task  # the task as trained, the same for all three
print(f"trained: {task.pairs} pairs per sequence ({task.length} tokens), "
      f"{task.n_keys} keys, {task.n_values} values: chance is 1/{task.n_values}")
#> trained: 127 pairs per sequence (256 tokens), 128 keys, 16 values: chance is 1/16
rows = []
for name in ("lookup", "marker"):  # each task's three models: weights and budget
    for kind in kinds:
        r = provenance(f"{name}-{kind}")
        h, weights = r["hyperparameters"], r["weights"]["parameters"]
        rows.append(f"{name}-{kind:12} {weights:6,} weights, {r['steps']} batches "
                    f"of {h['batch_size']}, peak learning rate {h['lr']:g}")
print("\n".join(rows))
#> lookup-rnn          43,953 weights, 2000 batches of 32, peak learning rate 0.003
#> lookup-lstm         38,897 weights, 2000 batches of 32, peak learning rate 0.003
#> lookup-transformer  44,064 weights, 2000 batches of 32, peak learning rate 0.003
#> marker-rnn          22,218 weights, 2000 batches of 32, peak learning rate 0.003
#> marker-lstm         25,802 weights, 2000 batches of 32, peak learning rate 0.003
#> marker-transformer  37,584 weights, 2000 batches of 32, peak learning rate 0.003
