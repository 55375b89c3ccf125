"""The trained GPT writes: greedy, with a temperature, and with top-k, side by side."""

import textwrap

import numpy as np

from llmarch.trained import load

trained = load("shakespeare-gpt")  # trained by `llmarch train shakespeare-gpt`
model, tokenizer = trained.model, trained.tokenizer
context = model.config.n_positions  # it reads at most 64 characters


def write(prompt, n_chars, temperature=0.0, top_k=None, seed=0):
    """Add one character at a time; the model sees only the last 63 before it."""
    rng = np.random.default_rng(seed)
    ids = list(tokenizer.encode(prompt))
    for _ in range(n_chars):
        window = ids[-(context - 1):]
        ids.append(model.generate(window, 1, temperature, top_k, rng)[-1])
    return tokenizer.decode(ids)


prompt = "Romeo.\n"  # how the plays name a speaker
for name, settings in [("greedy", {}),
                       ("temperature 0.8", {"temperature": 0.8}),
                       ("temperature 1.0, top-k 5", {"temperature": 1.0, "top_k": 5})]:
    text = write(prompt, 150, **settings)
    lines = [textwrap.fill(line, 72) for line in text.splitlines()]
    print(f"--- {name}\n" + "\n".join(lines))
    #> --- greedy
    #> Romeo.
    #>
    #> [Exeunt.]
    #>
    #> [Enter Capulet.]
    #>
    #> [Enter Cassio.]
    #>
    #> [Enter Cassio.]
    #>
    #> [Enter Cassio.]
    #>
    #> [Enter Cassio.]
    #>
    #> [Enter Cassio.]
    #>
    #> [Enter Cassio.]
    #>
    #> [Enter Cassio.]
    #>
    #> [
    #> --- temperature 0.8
    #> Romeo.
    #>
    #> GLAONDERO.
    #> Well, and son,--Slek refets of her of thing it a darge
    #> What, where, sir.
    #>
    #> Romeo.
    #> Withing extermomen talle the will dear.
    #>
    #> Gor.
    #> I stant thi
    #> --- temperature 1.0, top-k 5
    #> Romeo.
    #>
    #> CAETO.
    #> Ing think, hand shut, that here she stancites
    #> I prach and hore, hose to thee too straty;
    #> With to soubse tand.
    #>
    #> CASTIIIUR.
    #> This stiseres it thi
