"""The loss: how surprised the model is by each next character, averaged."""

import numpy as np

from llmarch import Decoder
from llmarch.trained import load
from llmarch.training import cross_entropy

trained = load("shakespeare-gpt")
model, tokenizer = trained.model, trained.tokenizer
untrained = Decoder.init(model.config, np.random.default_rng(0))  # same shape

text = "But soft, what light through yonder window breaks?"
ids = tokenizer.encode(text)
tokens, targets = ids[:-1], ids[1:]  # every position predicts the next character

for name, m in (("untrained", untrained), ("trained", model)):
    loss, _ = cross_entropy(m.logits(tokens), targets)
    print(f"{name:9} loss {loss:.3f} nats per character")
    #> untrained loss 4.454 nats per character
    #> trained   loss 1.862 nats per character
print(f"a uniform guess over {tokenizer.vocab_size} characters: "
      f"ln {tokenizer.vocab_size} = {np.log(tokenizer.vocab_size):.3f}")
#> a uniform guess over 76 characters: ln 76 = 4.331

# The probability the trained model gave to each right answer, and its surprise -ln p.
logits = model.logits(tokens)
p = np.exp(logits - logits.max(-1, keepdims=True))
p = p[np.arange(len(targets)), targets] / p.sum(-1)
for context in ("But ", "But soft, what li", "But soft, what light through yon"):
    t = len(context) - 1  # the position that has read the context
    print(f"after {context!r:35} {text[t + 1]!r}: p = {p[t]:.2f}, "
          f"-ln p = {-np.log(p[t]):.2f}")
    #> after 'But '                              's': p = 0.08, -ln p = 2.53
    #> after 'But soft, what li'                 'g': p = 0.12, -ln p = 2.10
    #> after 'But soft, what light through yon'  'd': p = 0.07, -ln p = 2.71
