"""Token embedding: text -> ids -> vectors, drawn as barcodes in embedding.svg."""

import numpy as np

from llmarch import CharTokenizer, TokenEmbedding
from llmarch.plotting import matrix_heatmap, save_figure

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)

text = "to be or not to be"
tokenizer = CharTokenizer.from_text(text)
print(tokenizer.vocab_size, repr("".join(tokenizer.chars)))
#> 7 ' benort'

ids = tokenizer.encode("to be")
print(ids)
#> [6 4 0 1 2]
print(tokenizer.decode(ids))
#> to be

embedding = TokenEmbedding.init(tokenizer.vocab_size, d_model=16, rng=rng, std=1.0)
vectors = embedding(ids)
print(vectors.shape)  # one 16-number vector per character
#> (5, 16)

# An embedding lookup is a one-hot vector times the table, without the multiply.
one_hot = np.eye(tokenizer.vocab_size)[ids]
print(np.allclose(one_hot @ embedding.weight, vectors))
#> True

# Same token, same vector, wherever it appears.
print(np.array_equal(embedding(tokenizer.encode("o")), vectors[[1]]))
#> True

fig = matrix_heatmap(
    vectors,
    title="Each token's embedding, drawn like a barcode",
    xlabel="feature (16 numbers per token)",
    yticklabels=[repr(c) for c in "to be"],
    cmap="Greys",
    colorbar_label=None,
    figsize=(6, 2.4),
)
save_figure(fig, "embedding.svg")
