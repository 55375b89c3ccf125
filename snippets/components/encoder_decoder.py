"""A tiny encoder-decoder transformer: who sees whom (attention_patterns.svg)."""

import numpy as np

from llmarch import CharTokenizer, Transformer, TransformerConfig, causal_mask
from llmarch.diagrams import encoder_decoder_diagram
from llmarch.plotting import heatmaps, save_figure

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)

tokenizer = CharTokenizer.from_text("abcdefghijklmnopqrstuvwxyz ")
config = TransformerConfig.tiny(vocab_size=tokenizer.vocab_size)
model = Transformer.init(config, rng, std=0.2)  # random weights, not trained
print(config.d_model, config.n_heads, config.n_layers, config.norm)
#> 32 4 2 post

src = tokenizer.encode("the cat sat")  # what the encoder reads
tgt = tokenizer.encode("le chat")  # what the decoder has written so far
memory = model.encode(src)
logits = model(src, tgt)
print(memory.shape, logits.shape)  # (n_src, d_model), (n_tgt, vocab)
#> (11, 32) (7, 27)

# The decoder is causal: changing its last token leaves earlier rows alone.
changed = tgt.copy()
changed[-1] = tokenizer.encode("z")[0]
print(np.allclose(model(src, changed)[:-1], logits[:-1]))
#> True

# Cross-attention lets every target position read the whole source.
other = tokenizer.encode("the cat ran")
print((np.abs(model(other, tgt) - logits).max(axis=-1) > 1e-9).all())
#> True

# The three attentions of the first layers, head 0.
x_src = model.embed(src)
x_tgt = model.embed(tgt)
enc = model.encoder[0].self_attn.attend(x_src)[1][0]
dec = model.decoder[0].self_attn.attend(x_tgt, mask=causal_mask(len(tgt)))[1][0]
cross = model.decoder[0].cross_attn.attend(x_tgt, context=memory)[1][0]



def labels(ids):  # a space would be an empty tick label: show it as ␣
    return [char if char != " " else "␣" for char in tokenizer.decode(ids)]


fig = heatmaps(  # one colour scale for all three
    {
        "encoder self-attention": enc,
        "decoder masked self-attention": dec,
        "decoder cross-attention": cross,
    },
    {
        "encoder self-attention": (labels(src), labels(src)),
        "decoder masked self-attention": (labels(tgt), labels(tgt)),
        "decoder cross-attention": (labels(tgt), labels(src)),
    },
    panel_size=2.4,
)
save_figure(fig, "attention_patterns.svg")

# The whole model, drawn from the object: its layers, their parts and sizes.
save_figure(encoder_decoder_diagram(model), "encoder_decoder.svg")
