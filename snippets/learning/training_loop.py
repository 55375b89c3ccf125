"""The training loop, written out: batch, loss and gradients, clip, schedule, AdamW."""

import dataclasses

import numpy as np

from llmarch import CharTokenizer, Decoder, DecoderConfig
from llmarch.corpus import shakespeare
from llmarch.training import AdamW, BatchSampler, clip_grad_norm, learning_rate

text = shakespeare()[:50_000]  # the start of Hamlet is enough for a demonstration
tokenizer = CharTokenizer.from_text(text)
config = dataclasses.replace(
    DecoderConfig.preset("gpt2"), vocab_size=tokenizer.vocab_size,
    n_positions=32, d_model=32, n_layers=2, n_heads=4,
)
params = Decoder.init(config, np.random.default_rng(0)).to_hf_state_dict()
sampler = BatchSampler(tokenizer.encode(text), batch_size=8, block_size=32, seed=0)
optimizer = AdamW(betas=(0.9, 0.99), weight_decay=0.1)
state = optimizer.init(params)
steps, losses = 150, []

for step in range(steps):
    tokens, targets = sampler.batch(step)  # depends on (seed, step) only
    model = Decoder.from_hf_state_dict(params, config)
    loss, grads = model.loss_and_grads(tokens, targets)
    grads, norm = clip_grad_norm(grads, 1.0)
    lr = learning_rate(step, peak=1e-2, warmup=15, total=steps, minimum=1e-3)
    params, state = optimizer.update(params, grads, state, lr)
    losses.append(loss)
    if (step + 1) % 30 == 0:  # the mean of the last 30 batches: less noisy
        print(f"steps {step - 29:3} to {step:3}: mean loss {np.mean(losses[-30:]):.3f}"
              f"  (last: grad norm {norm:4.2f}, lr {lr:.4f})")
        #> steps   0 to  29: mean loss 3.480  (last: grad norm 0.45, lr 0.0098)
        #> steps  30 to  59: mean loss 3.219  (last: grad norm 0.54, lr 0.0078)
        #> steps  60 to  89: mean loss 3.072  (last: grad norm 0.68, lr 0.0048)
        #> steps  90 to 119: mean loss 2.908  (last: grad norm 0.53, lr 0.0021)
        #> steps 120 to 149: mean loss 2.896  (last: grad norm 0.47, lr 0.0010)

print(f"the first batch: loss {losses[0]:.3f}; a uniform guess: ln "
      f"{tokenizer.vocab_size} = {np.log(tokenizer.vocab_size):.3f}")
#> the first batch: loss 4.149; a uniform guess: ln 63 = 4.143
