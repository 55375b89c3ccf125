"""The trained GPT's attention over three texts, every layer and head."""

import numpy as np

from llmarch import causal_mask
from llmarch.plotting import attention_explorer, save_figure
from llmarch.trained import load

trained = load("shakespeare-gpt")
model, tokenizer = trained.model, trained.tokenizer
texts = ["To be, or not to be, that is the question:",
         "Romeo.\nBut soft, what light through yonder window breaks?",
         "the king and the queen; the king and the queen"]

weights = []
for text in texts:
    ids = tokenizer.encode(text)
    x = model.wte.weight[ids] + model.wpe.weight[:len(ids)]
    layers = []
    for block in model.blocks:  # each block as in GPT.logits, keeping its weights
        out, w = block.attn.attend(block.ln_1(x), mask=causal_mask(len(ids)))
        h = x + out
        x = h + block.mlp(block.ln_2(h))
        layers.append(w)
    weights.append(np.stack(layers))  # (layers, heads, n, n)
    print(f"{len(ids):2} characters, weights {weights[-1].shape}")
    #> 42 characters, weights (4, 4, 42, 42)
    #> 57 characters, weights (4, 4, 57, 57)
    #> 46 characters, weights (4, 4, 46, 46)

figure = attention_explorer([list(t) for t in texts], weights,
                            title="shakespeare-gpt (trained): attention")
save_figure(figure, "attention.explorer.svg")  # the page explores it
