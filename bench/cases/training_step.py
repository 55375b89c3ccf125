"""One training step of ``shakespeare-gpt`` (forward, backward, AdamW) in llmarch against torch, side by side."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.runner import Result, Target, case, time_side_by_side
from llmarch.experiments import shakespeare_data, shakespeare_gpt, windows
from llmarch.training import AdamW, clip_grad_norm, cross_entropy, learning_rate

STEPS = 200  # training steps each side takes (plus 2 warm-up steps), the timed ones interleaved
RATIO_LIMIT = 2.0  # the target: llmarch's step at most twice torch's
LOSS_LIMIT = 0.05  # both models' validation loss after the same steps on the same batches
VAL_WINDOWS = 64


def reference_model(state: dict[str, np.ndarray], config: Any) -> Any:
    """Hugging Face's GPT2LMHeadModel of ``config`` with llmarch's initial weights, dropout off."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    hf_config = AutoConfig.for_model(
        **config.to_hf_config(), resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=None, eos_token_id=None
    )
    model = AutoModelForCausalLM.from_config(hf_config)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()}, strict=True)
    return model.train()


@case("training_step", needs=("torch", "transformers", "threadpoolctl"))
def training_step(quick: bool) -> Result:
    """One training step of shakespeare-gpt (forward, backward, AdamW): llmarch's NumPy code against torch."""
    import torch
    from threadpoolctl import threadpool_limits

    from llmarch import Decoder

    experiment = shakespeare_gpt()
    hyper = experiment.hyper
    steps = 10 if quick else STEPS
    params = experiment.init(np.random.default_rng(hyper.seed))
    config = experiment.model(params).config
    optimizer = AdamW(betas=hyper.betas, weight_decay=hyper.weight_decay)
    ours: dict[str, Any] = {"params": params, "adam": optimizer.init(params), "step": 0}

    torch.manual_seed(0)
    torch.set_num_threads(1)
    reference = reference_model(Decoder.from_hf_state_dict(params, config).to_hf_state_dict(prefix=True), config)
    matrices = [p for p in reference.parameters() if p.dim() >= 2]
    others = [p for p in reference.parameters() if p.dim() < 2]
    torch_optimizer = torch.optim.AdamW(
        [{"params": matrices, "weight_decay": hyper.weight_decay}, {"params": others, "weight_decay": 0.0}],
        lr=hyper.lr,
        betas=hyper.betas,
        eps=optimizer.eps,
    )
    theirs: dict[str, Any] = {"step": 0}

    def lr(step: int) -> float:
        return learning_rate(step, peak=hyper.lr, warmup=hyper.warmup, total=hyper.steps, minimum=hyper.min_lr)

    def llmarch_step() -> float:
        tokens, targets = experiment.batch(ours["step"])
        loss, grads = experiment.model(ours["params"]).loss_and_grads(tokens, targets)
        grads, _ = clip_grad_norm(grads, hyper.grad_clip)
        ours["params"], ours["adam"] = optimizer.update(ours["params"], grads, ours["adam"], lr(ours["step"]))
        ours["step"] += 1
        return loss

    def torch_step() -> float:
        tokens, targets = experiment.batch(theirs["step"])
        for group in torch_optimizer.param_groups:
            group["lr"] = lr(theirs["step"])
        logits = reference(torch.from_numpy(tokens)).logits
        flat = logits.reshape(-1, logits.shape[-1])
        loss = torch.nn.functional.cross_entropy(flat, torch.from_numpy(targets).ravel())
        torch_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(reference.parameters(), hyper.grad_clip)
        torch_optimizer.step()
        theirs["step"] += 1
        return loss.item()

    last: dict[str, object] = {}
    with threadpool_limits(limits=1, user_api="blas"):
        seconds = time_side_by_side(
            {"llmarch": llmarch_step, "torch": torch_step}, repeats=steps, warmup=2, outputs=last
        )
        _, _, val, _ = shakespeare_data()
        val_tokens, val_targets = (a[:VAL_WINDOWS] for a in windows(val, config.n_positions))
        with torch.no_grad():
            reference.eval()
            torch_logits = reference(torch.from_numpy(val_tokens)).logits.numpy()
        val_loss = {
            "llmarch": cross_entropy(experiment.model(ours["params"]).logits(val_tokens), val_targets)[0],
            "torch": cross_entropy(torch_logits, val_targets)[0],
        }
    tokens_per_step = hyper.batch_size * config.n_positions
    ratio = seconds["llmarch"] / seconds["torch"]
    rows = [
        [who, round(seconds[who] * 1e3, 1), round(tokens_per_step / seconds[who]), round(float(last[who]), 4),
         round(val_loss[who], 4)]
        for who in ("llmarch", "torch")
    ]  # fmt: skip
    gap = abs(val_loss["llmarch"] - val_loss["torch"])
    return Result(
        title=(
            f"One training step of shakespeare-gpt ({hyper.batch_size} x {config.n_positions} tokens, "
            f"{sum(p.size for p in params.values()):,} weights, float32, 1 thread each)"
        ),
        columns=["who", "ms/step", "tokens/s", f"loss at step {steps + 2}", f"val loss ({VAL_WINDOWS} windows)"],
        rows=rows,
        targets=[
            Target("step time ratio (llmarch / torch)", RATIO_LIMIT, round(ratio, 2)),
            Target(f"validation loss gap after {steps + 2} steps", LOSS_LIMIT, round(gap, 4)),
        ],
        notes=[
            "The same initial weights (llmarch's GPT-2 init, loaded into transformers' GPT2LMHeadModel with "
            "dropout off), the same batches (the experiment's BatchSampler), the same schedule, clipping and "
            "AdamW settings; torch.optim.AdamW decays the matrices only, as llmarch does. A step is the batch, "
            "forward, backward, clipping and the update. Each side takes the same steps, one after the other "
            "in alternating order; ms/step is the median. ratio = llmarch's time / torch's (below 1: llmarch "
            "is faster). The moonshot is 1.5.",
        ],
        extra={"ratio": round(ratio, 3), "moonshot (<= 1.5) met": ratio <= 1.5},
    )
