"""The named training experiments of ``llmarch train NAME``.

Each entry of ``EXPERIMENTS`` builds an [`Experiment`][llmarch.trainer.Experiment] (model,
data, budget, evaluation) only when asked, so listing them loads no data.

- ``shakespeare-gpt``: nanoGPT's CPU recipe for character-level Shakespeare (4 layers,
  4 heads, width 128, context 64, 2000 steps of 12 windows) on the Shakespeare corpus
  ([`llmarch.corpus`][llmarch.corpus]), a GPT-2-family [`Decoder`][llmarch.Decoder] trained
  by this package's own backward passes.
- ``shakespeare-llama``: the same size and budget, Llama-style (RMSNorm, SwiGLU, rotary,
  grouped-query attention).
- ``shakespeare-lstm``: a character-level LSTM of about the same size, the same budget.
  These two are kept for their curves: the package ships their provenance records, not
  their weights (``llmarch train`` leaves those in its run folder), to stay under 5 MB.
- ``marker-rnn``, ``marker-lstm``, ``marker-transformer``: marker recall
  ([`llmarch.recall`][llmarch.recall]) at distances up to 254: carry one value across the distance.
- ``lookup-rnn``, ``lookup-lstm``, ``lookup-transformer``: key-value recall at distances up
  to 254: keep 127 pairs, answer the one asked for. The same budget for every model of a task,
  and parameter counts of the same order.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np
from numpy.typing import NDArray

from llmarch import corpus
from llmarch.config import DecoderConfig
from llmarch.decoder import Decoder
from llmarch.embedding import CharTokenizer
from llmarch.recall import KeyValueRecall, MarkerRecall, RecallTask
from llmarch.recurrent import RecurrentLM
from llmarch.trainer import Experiment, Hyperparameters, TrainingError
from llmarch.training import BatchSampler, cross_entropy

__all__ = ["EXPERIMENTS", "UnknownExperiment", "experiment"]

Logits = Callable[[NDArray[np.int64]], NDArray[np.floating[Any]]]


class UnknownExperiment(TrainingError):
    """An experiment name that is not in ``EXPERIMENTS``."""


def mean_loss(logits: Logits, tokens: NDArray[np.int64], targets: NDArray[np.int64], chunk: int = 256) -> float:
    """Mean cross-entropy of ``logits(tokens)`` against ``targets`` over every position, ``chunk`` rows at a time."""
    total = 0.0
    for start in range(0, len(tokens), chunk):
        loss, _ = cross_entropy(logits(tokens[start : start + chunk]), targets[start : start + chunk])
        total += loss * len(tokens[start : start + chunk])
    return total / len(tokens)


# --------------------------------------------------------------------- Shakespeare


@functools.cache
def shakespeare_data() -> tuple[CharTokenizer, NDArray[np.int64], NDArray[np.int64], dict[str, Any]]:
    """The tokenizer, the training and validation ids, and the data's description (with the baselines)."""
    text = corpus.shakespeare()
    tokenizer = CharTokenizer.from_text(text)
    train, val = corpus.split(tokenizer.encode(text))
    v = tokenizer.vocab_size
    description = {
        "name": "shakespeare",
        "sha256": corpus.CORPUS_SHA256,
        "source": corpus.SOURCE,
        "tokenizer": "characters (llmarch.CharTokenizer of the whole corpus)",
        "vocab_size": v,
        "vocabulary": "".join(tokenizer.chars),
        "split": f"first {corpus.TRAIN_FRACTION:.0%} of the characters train, the rest validate",
        "train_tokens": len(train),
        "val_tokens": len(val),
    }
    return tokenizer, train, val, description


@functools.cache
def shakespeare_baselines() -> dict[str, float]:
    """Validation loss of the unigram and bigram models fitted on the training part (nats per character)."""
    tokenizer, train, val, _ = shakespeare_data()
    v = tokenizer.vocab_size
    return {"unigram": corpus.unigram_loss(train, val, v), "bigram": corpus.bigram_loss(train, val, v)}


def windows(ids: NDArray[np.int64], block_size: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``ids`` cut into consecutive windows: ``(tokens, next tokens)``, each ``(count, block_size)``."""
    count = (len(ids) - 1) // block_size
    tokens = ids[: count * block_size].reshape(count, block_size)
    return tokens, ids[1 : count * block_size + 1].reshape(count, block_size)


def language_model_experiment(
    name: str,
    description: str,
    hyper: Hyperparameters,
    block_size: int,
    config: dict[str, Any],
    init: Callable[[np.random.Generator], dict[str, Any]],
    model: Callable[[dict[str, Any]], Any],
) -> Experiment:
    """A next-token experiment on the Shakespeare corpus: batches of random training windows.

    The evaluation is the mean loss over the whole validation text (cut into windows of
    ``block_size``) and over 400 fixed random training windows (to watch for overfitting).
    """
    _, train, val, data = shakespeare_data()
    sampler = BatchSampler(train, hyper.batch_size, block_size, seed=hyper.seed)
    val_tokens, val_targets = windows(val, block_size)
    starts = np.random.default_rng(12345).integers(0, len(train) - block_size, size=400)
    train_tokens = train[starts[:, None] + np.arange(block_size)]
    train_targets = train[starts[:, None] + np.arange(1, block_size + 1)]

    def evaluate(m: Any) -> dict[str, Any]:
        return {
            "val_loss": mean_loss(m.logits, val_tokens, val_targets),
            "train_loss": mean_loss(m.logits, train_tokens, train_targets),
        }

    config = {**config, "block_size": block_size}
    return Experiment(
        name, description, hyper, config, data, init, model, sampler.batch, evaluate, shakespeare_baselines()
    )


def shakespeare_lstm() -> Experiment:
    """Character-level LSTM on Shakespeare, about the GPT's size (width 128, 384 hidden units, 0.8M weights)."""
    hyper = Hyperparameters(steps=2000, batch_size=12, lr=2e-3, min_lr=2e-4, warmup=100, weight_decay=0.1)
    tokenizer, *_ = shakespeare_data()
    config = {"model": "RecurrentLM", "kind": "lstm", "vocab_size": tokenizer.vocab_size, "d_model": 128}
    config |= {"d_hidden": 384, "dtype": "float32"}
    lstm = language_model_experiment(
        "shakespeare-lstm",
        "a character-level LSTM trained on eight plays of Shakespeare",
        hyper,
        64,
        config,
        lambda rng: _recurrent_init(config, rng),
        RecurrentLM.from_parameters,
    )
    return dataclasses.replace(lstm, ships_weights=False)  # kept for its curves


def decoder_experiment_config(config: DecoderConfig, init_std: float = 0.02) -> dict[str, Any]:
    """How a [`Decoder`][llmarch.Decoder] experiment records its model: every config field, the init, float32."""
    return {
        "model": "Decoder",
        "decoder": asdict(config),
        "init_std": init_std,
        "dtype": "float32",
        "weights": "Hugging Face names",
    }


def decoder_init(config: DecoderConfig, std: float = 0.02) -> Callable[[np.random.Generator], dict[str, Any]]:
    """GPT-2's initialisation (``std``) in float32, the parameters under Hugging Face names (as the gradients are)."""
    return lambda rng: Decoder.init(config, rng, std=std, dtype=np.float32).to_hf_state_dict()


def decoder_model(config: DecoderConfig) -> Callable[[dict[str, Any]], Decoder]:
    """The model of a [`Decoder`][llmarch.Decoder] experiment's parameters."""
    return lambda params: Decoder.from_hf_state_dict(params, config)


NANOGPT_HYPER = Hyperparameters(steps=2000, batch_size=12, lr=1e-3, min_lr=1e-4, warmup=100, weight_decay=0.1)
"""nanoGPT's ``train_shakespeare_char`` settings as its README runs them on a CPU (betas 0.9, 0.99; clip 1)."""


def shakespeare_gpt_config() -> DecoderConfig:
    """GPT-2's architecture at nanoGPT's CPU size: 4 layers, 4 heads, width 128, context 64 (0.8M weights)."""
    tokenizer, *_ = shakespeare_data()
    return dataclasses.replace(
        DecoderConfig.preset("gpt2"),
        vocab_size=tokenizer.vocab_size,
        n_positions=64,
        d_model=128,
        n_layers=4,
        n_heads=4,
    )


def shakespeare_llama_config() -> DecoderConfig:
    """Llama's architecture at about the same size: RMSNorm, SwiGLU 384 wide, rotary, 2 KV heads, tied (0.8M)."""
    tokenizer, *_ = shakespeare_data()
    return DecoderConfig(
        vocab_size=tokenizer.vocab_size,
        n_positions=64,
        d_model=128,
        n_layers=4,
        n_heads=4,
        n_kv_heads=2,
        d_ff=384,
        tie_embeddings=True,
        family="llama",
    )


def shakespeare_gpt() -> Experiment:
    """Character-level GPT (GPT-2 family) on Shakespeare, nanoGPT's CPU recipe: 4 x 128, context 64, 0.8M weights."""
    config = shakespeare_gpt_config()
    return language_model_experiment(
        "shakespeare-gpt",
        "a character-level GPT (nanoGPT's CPU recipe) trained by llmarch's own backward passes on eight plays",
        NANOGPT_HYPER,
        config.n_positions,
        decoder_experiment_config(config),
        decoder_init(config),
        decoder_model(config),
    )


def shakespeare_llama() -> Experiment:
    """Character-level Llama-style decoder on Shakespeare, the GPT's size and budget (RMSNorm, SwiGLU, rotary, GQA)."""
    config = shakespeare_llama_config()
    llama = language_model_experiment(
        "shakespeare-llama",
        "a character-level Llama-style decoder of the GPT's size, trained the same way on eight plays",
        NANOGPT_HYPER,
        config.n_positions,
        decoder_experiment_config(config),
        decoder_init(config),
        decoder_model(config),
    )
    return dataclasses.replace(llama, ships_weights=False)  # kept for its curves


def _recurrent_init(config: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    model = RecurrentLM.init(
        config["kind"],
        config["vocab_size"],
        config["d_model"],
        config["d_hidden"],
        rng,
        dtype=np.dtype(config["dtype"]).type,
    )
    return model.parameters()


# -------------------------------------------------------------------------- recall

MARKER = MarkerRecall(n_values=8, length=256)
LOOKUP = KeyValueRecall(n_keys=128, n_values=16, length=256)
RECALL_HYPER = Hyperparameters(steps=2000, batch_size=32, lr=3e-3, min_lr=3e-4, warmup=100, weight_decay=0.01)


def recall_experiment(
    name: str,
    description: str,
    task: RecallTask,
    config: dict[str, Any],
    hyper: Hyperparameters = RECALL_HYPER,
    init: Callable[[np.random.Generator], dict[str, Any]] | None = None,
    model: Callable[[dict[str, Any]], Any] = RecurrentLM.from_parameters,
) -> Experiment:
    """An experiment on a recall ``task``: one answer per sequence, read at its last position."""
    data = {
        "name": f"{type(task).__name__} (llmarch.recall)",
        "task": type(task).__name__,
        **asdict(task),  # type: ignore[call-overload]
        "vocab_size": task.vocab_size,
        "distances": f"log-uniform from {task.min_distance} to {task.max_distance}",
        "batches": "batch s drawn from numpy.random.default_rng([seed, s])",
        "evaluation": "accuracy at distances " + ", ".join(map(str, task.distances())) + ", 200 fresh sequences each",
    }

    def evaluate(m: Any) -> dict[str, Any]:
        accuracy = task.accuracy_by_distance(m.logits)
        return {"val_loss": task.loss(m.logits), "accuracy": {str(k): a for k, a in accuracy.items()}}

    return Experiment(
        name,
        description,
        hyper,
        config,
        data,
        init or (lambda rng: _recurrent_init(config, rng)),
        model,
        lambda step: task.batch(hyper.seed, step, hyper.batch_size),
        evaluate,
    )


def _recurrent_config(task: RecallTask, kind: str, d_model: int, d_hidden: int) -> dict[str, Any]:
    return {
        "model": "RecurrentLM",
        "kind": kind,
        "vocab_size": task.vocab_size,
        "d_model": d_model,
        "d_hidden": d_hidden,
        "dtype": "float32",
    }


def marker_rnn() -> Experiment:
    """Marker recall, vanilla RNN (128 hidden units, about 22k weights)."""
    config = _recurrent_config(MARKER, "rnn", 32, 128)
    return recall_experiment("marker-rnn", "a vanilla RNN on marker recall", MARKER, config)


def marker_lstm() -> Experiment:
    """Marker recall, LSTM (64 hidden units, about 26k weights)."""
    config = _recurrent_config(MARKER, "lstm", 32, 64)
    return recall_experiment("marker-lstm", "an LSTM on marker recall", MARKER, config)


def lookup_rnn() -> Experiment:
    """Key-value recall, vanilla RNN (128 hidden units, about 44k weights)."""
    config = _recurrent_config(LOOKUP, "rnn", 32, 128)
    return recall_experiment("lookup-rnn", "a vanilla RNN on key-value recall", LOOKUP, config)


def lookup_lstm() -> Experiment:
    """Key-value recall, LSTM (64 hidden units, about 39k weights)."""
    config = _recurrent_config(LOOKUP, "lstm", 32, 64)
    return recall_experiment("lookup-lstm", "an LSTM on key-value recall", LOOKUP, config)


RECALL_WIDTH = 48


def recall_transformer_config(task: RecallTask) -> DecoderConfig:
    """A small Llama-style decoder for a recall task: 2 layers of width 48, 2 heads, SwiGLU 64 wide, tied.

    Two layers are what a lookup needs at least (one to tie each value to the key before it,
    one to find the key asked for); rotary positions add no weights, so the count stays near
    the recurrent models' (about 38k weights on marker recall, 44k on key-value recall).
    """
    return DecoderConfig(
        vocab_size=task.vocab_size,
        n_positions=task.length,
        d_model=RECALL_WIDTH,
        n_layers=2,
        n_heads=2,
        d_ff=64,
        tie_embeddings=True,
        family="llama",
    )


def _recall_transformer(name: str, description: str, task: RecallTask) -> Experiment:
    # Weights drawn at 1 / sqrt(width), the scale of PyTorch's default init the recurrent models
    # get; GPT-2's 0.02 is meant for width 768 and leaves a model this narrow stuck for longer.
    config, std = recall_transformer_config(task), round(1 / RECALL_WIDTH**0.5, 4)
    return recall_experiment(
        name,
        description,
        task,
        decoder_experiment_config(config, std),
        init=decoder_init(config, std),
        model=decoder_model(config),
    )


def marker_transformer() -> Experiment:
    """Marker recall, a 2-layer transformer (Llama-style, width 48, about 38k weights)."""
    return _recall_transformer("marker-transformer", "a 2-layer transformer on marker recall", MARKER)


def lookup_transformer() -> Experiment:
    """Key-value recall, a 2-layer transformer (Llama-style, width 48, about 44k weights)."""
    return _recall_transformer("lookup-transformer", "a 2-layer transformer on key-value recall", LOOKUP)


EXPERIMENTS: dict[str, Callable[[], Experiment]] = {
    "shakespeare-gpt": shakespeare_gpt,
    "shakespeare-llama": shakespeare_llama,
    "shakespeare-lstm": shakespeare_lstm,
    "marker-rnn": marker_rnn,
    "marker-lstm": marker_lstm,
    "marker-transformer": marker_transformer,
    "lookup-rnn": lookup_rnn,
    "lookup-lstm": lookup_lstm,
    "lookup-transformer": lookup_transformer,
}


def experiment(name: str) -> Experiment:
    """The experiment called ``name``, or an error listing the names there are."""
    if name not in EXPERIMENTS:
        raise UnknownExperiment(f"unknown experiment {name!r}; the experiments are: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]()
