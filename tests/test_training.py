"""The optimizer, schedule, clipping and sampler, and the loop: resuming exactly, NaN, checkpoints, CLI."""

from __future__ import annotations

import itertools
import json
import math
import os
import signal
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from llmarch.experiments import EXPERIMENTS, recall_experiment
from llmarch.llm.cli import main
from llmarch.recall import KeyValueRecall, MarkerRecall
from llmarch.trainer import (
    CheckpointError,
    Experiment,
    Hyperparameters,
    Interrupted,
    TrainingError,
    load_checkpoint,
    train,
    write_arrays,
)
from llmarch.training import AdamW, BatchSampler, clip_grad_norm, global_norm, learning_rate

# ------------------------------------------------------------------ the pieces


def test_adamw_first_step_is_lr_times_the_sign_and_decays_matrices_only():
    params = {"w": np.full((2, 2), 2.0), "b": np.full(2, 2.0)}
    grads = {"w": np.array([[1.0, -3.0], [0.5, 2.0]]), "b": np.array([-1.0, 4.0])}
    opt = AdamW(betas=(0.9, 0.999), eps=0.0, weight_decay=0.5)
    new, state = opt.update(params, grads, opt.init(params), lr=0.1)
    # Bias correction makes step 1 exactly lr * g / |g|; decay shrinks the matrix first.
    np.testing.assert_allclose(new["w"], 2.0 * (1 - 0.1 * 0.5) - 0.1 * np.sign(grads["w"]))
    np.testing.assert_allclose(new["b"], 2.0 - 0.1 * np.sign(grads["b"]))
    assert state.step == 1
    np.testing.assert_array_equal(params["w"], 2.0)  # the inputs are not changed


def test_adamw_matches_the_formulas_over_several_steps():
    rng = np.random.default_rng(0)
    p = rng.standard_normal(3)
    params, opt = {"p": p.copy()}, AdamW(betas=(0.8, 0.9), eps=1e-3, weight_decay=0.0)
    state = opt.init(params)
    m = v = np.zeros(3)
    for t in range(1, 5):
        g = rng.standard_normal(3)
        params, state = opt.update(params, {"p": g}, state, lr=0.01)
        m, v = 0.8 * m + 0.2 * g, 0.9 * v + 0.1 * g * g
        p = p - 0.01 * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.9**t)) + 1e-3)
        np.testing.assert_allclose(params["p"], p, rtol=1e-12)


def test_adamw_names_missing_gradients():
    opt = AdamW()
    params = {"a": np.zeros(2), "b": np.zeros(2)}
    with pytest.raises(KeyError, match=r"missing \['b'\]"):
        opt.update(params, {"a": np.zeros(2)}, opt.init(params), 0.1)


def test_learning_rate_warms_up_then_follows_a_cosine_to_the_minimum():
    lr = [learning_rate(s, peak=1.0, warmup=10, total=110, minimum=0.1) for s in range(120)]
    np.testing.assert_allclose(lr[:10], np.arange(1, 11) / 10)
    assert lr[10] == pytest.approx(1.0)
    assert lr[60] == pytest.approx(0.55)  # halfway through the cosine
    assert lr[110:] == [0.1] * 10
    assert all(a >= b for a, b in itertools.pairwise(lr[10:]))


def test_clipping_scales_all_gradients_by_one_factor():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0, 4.0]])}
    clipped, norm = clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    assert global_norm(clipped) == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(clipped["a"] / grads["a"][0], [1 / 5, 0], atol=1e-6)
    same, _ = clip_grad_norm(grads, 10.0)
    np.testing.assert_array_equal(same["b"], grads["b"])


def test_batches_depend_on_seed_and_step_only():
    data = np.arange(1000)
    sampler = BatchSampler(data, batch_size=4, block_size=8, seed=3)
    tokens, targets = sampler.batch(7)
    np.testing.assert_array_equal(targets, tokens + 1)  # the next token of each
    again, _ = BatchSampler(data, 4, 8, seed=3).batch(7)
    np.testing.assert_array_equal(tokens, again)
    assert not np.array_equal(tokens, sampler.batch(8)[0])
    assert not np.array_equal(tokens, BatchSampler(data, 4, 8, seed=4).batch(7)[0])
    with pytest.raises(ValueError, match="data must hold at least block_size"):
        BatchSampler(np.arange(5), 1, 8)


def test_marker_recall_has_one_marker_the_answer_after_it_and_the_query_last():
    task = MarkerRecall(n_values=5, length=20)
    tokens, targets, distances = task.sample(np.random.default_rng(0), 64)
    assert (tokens[:, -1] == task.query).all() and ((tokens == task.marker).sum(axis=1) == 1).all()
    marker_at = (tokens == task.marker).argmax(axis=1)
    np.testing.assert_array_equal(tokens[np.arange(64), marker_at + 1], targets)
    np.testing.assert_array_equal(distances, task.length - 2 - marker_at)
    assert distances.min() >= 1 and distances.max() <= task.max_distance
    _, _, fixed = task.sample(np.random.default_rng(0), 3, distance=task.max_distance)
    assert (fixed == 18).all()
    with pytest.raises(ValueError, match=r"distance must be one of 1, 2, \.\.\., 18"):
        task.sample(np.random.default_rng(0), 3, distance=19)


def test_key_value_recall_asks_for_one_key_of_distinct_pairs():
    task = KeyValueRecall(n_keys=12, n_values=4, length=22)
    tokens, targets, distances = task.sample(np.random.default_rng(0), 64)
    keys, values = tokens[:, 0:-2:2], tokens[:, 1:-2:2]
    assert task.pairs == 10 and (tokens[:, -2] == task.query).all()
    assert all(len(set(row)) == task.pairs for row in keys) and (keys < 12).all()
    assert ((values >= 12) & (values < 16)).all()
    asked = (keys == tokens[:, -1:]).argmax(axis=1)
    np.testing.assert_array_equal(values[np.arange(64), asked], targets)
    np.testing.assert_array_equal(tokens[np.arange(64), task.length - 1 - distances], targets)
    assert distances.min() >= 2 and distances.max() <= 20 and (distances % 2 == 0).all()
    assert task.distances() == [2, 4, 8, 16, 20]
    with pytest.raises(ValueError, match=r"distance must be one of 2, 4, \.\.\., 20"):
        task.sample(np.random.default_rng(0), 3, distance=5)
    with pytest.raises(ValueError, match="n_keys must be an integer >= 10"):
        KeyValueRecall(n_keys=9, n_values=4, length=22)


def test_a_perfect_recaller_scores_one_at_every_distance():
    task = MarkerRecall(n_values=4, length=12)

    def oracle(tokens: np.ndarray) -> np.ndarray:
        answer = tokens[np.arange(len(tokens)), (tokens == task.marker).argmax(axis=1) + 1]
        logits = np.zeros((*tokens.shape, task.vocab_size))
        logits[:, -1, :][np.arange(len(tokens)), answer] = 1.0
        return logits

    assert set(task.accuracy_by_distance(oracle, per_distance=20).values()) == {1.0}


# ---------------------------------------------------------------------- the loop


def tiny(steps: int = 12, **changes) -> Experiment:
    """A recall experiment small enough to train in a test: an RNN of 6 units on sequences of 10."""
    config = {"model": "RecurrentLM", "kind": "rnn", "vocab_size": 6, "d_model": 4, "d_hidden": 6, "dtype": "float64"}
    hyper = Hyperparameters(steps=steps, batch_size=4, lr=1e-2, min_lr=1e-3, warmup=2, eval_every=4)
    task = MarkerRecall(n_values=4, length=10)
    exp = recall_experiment("tiny", "a test", task, config, replace(hyper, **changes))
    return replace(
        exp,
        batch=lambda step: task.batch(0, step, 4),
        evaluate=lambda m: {"val_loss": task.loss(m.logits, n_sequences=16)},
    )


def run(exp: Experiment, run_dir: Path, **kwargs):
    return train(exp, run_dir=run_dir, progress=False, log=lambda _: None, **kwargs)


def assert_same_run(a, b) -> None:
    assert a.step == b.step
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
        np.testing.assert_array_equal(a.adam.m[k], b.adam.m[k])
    assert a.curve["loss"] == b.curve["loss"]
    assert [e["val_loss"] for e in a.evaluations] == [e["val_loss"] for e in b.evaluations]


def test_stopping_and_resuming_gives_exactly_the_uninterrupted_run(tmp_path):
    whole = run(tiny(), tmp_path / "a")
    first = run(tiny(), tmp_path / "b", stop_after=5)
    assert first.step == 5 and (tmp_path / "b" / "tiny.ckpt.npz").exists()
    resumed = run(tiny(), tmp_path / "b")
    assert_same_run(whole, resumed)
    assert resumed.sessions == 2
    assert not (tmp_path / "b" / "tiny.ckpt.npz").exists()  # removed once the run is complete


def test_a_crash_resumes_from_the_last_checkpoint_to_the_same_result(tmp_path):
    whole = run(tiny(), tmp_path / "a")
    exp = tiny()

    def crashing(step: int):
        if step == 7:
            raise RuntimeError("the machine fell over")
        return exp.batch(step)

    with pytest.raises(RuntimeError):
        run(replace(exp, batch=crashing), tmp_path / "b", checkpoint_every=3)
    assert_same_run(whole, run(exp, tmp_path / "b"))


def test_ctrl_c_finishes_the_step_writes_a_checkpoint_and_resumes(tmp_path):
    whole = run(tiny(), tmp_path / "a")
    exp = tiny()

    def interrupting(step: int):
        if step == 4:
            os.kill(os.getpid(), signal.SIGINT)
        return exp.batch(step)

    with pytest.raises(Interrupted, match="interrupted after step 5 of 12"):
        run(replace(exp, batch=interrupting), tmp_path / "b", checkpoint_every=100)
    assert_same_run(whole, run(exp, tmp_path / "b"))


def test_a_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    exp = tiny()
    real_model = exp.model

    class Exploding:
        def __init__(self, params):
            self.inner = real_model(params)
            self.logits = self.inner.logits

        def loss_and_grads(self, tokens, targets):
            loss, grads = self.inner.loss_and_grads(tokens, targets)
            return (math.nan if explode[0] else loss), grads

    explode = [False]

    def batches(step: int):
        explode[0] = step == 6
        return exp.batch(step)

    checkpoint = tmp_path / "tiny.ckpt.npz"
    message = r"tiny: step 6: the loss is nan; stopped \(the last good checkpoint .* is kept"
    with pytest.raises(TrainingError, match=message):
        run(replace(exp, model=Exploding, batch=batches), tmp_path, checkpoint_every=5)
    state = load_checkpoint(checkpoint, exp, exp.init(np.random.default_rng(0)))
    assert state.step == 5


def test_outputs_are_npz_for_numpy_alone_and_a_provenance_record(tmp_path):
    state = run(tiny(), tmp_path / "run", out_dir=tmp_path)
    with np.load(tmp_path / "tiny.npz", allow_pickle=False) as npz:
        assert set(npz.files) == set(state.params)
        np.testing.assert_array_equal(npz["rnn.w_h"], state.params["rnn.w_h"])
    record = json.loads((tmp_path / "tiny.json").read_text())
    assert record["experiment"] == "tiny" and record["steps"] == 12 and record["seed"] == 0
    assert record["loss_curve"]["loss"] == state.curve["loss"]
    assert [e["step"] for e in record["evaluations"]] == [0, 4, 8, 12]
    for key in ("hyperparameters", "config", "data", "wall_time_s", "machine", "commit", "weights"):
        assert key in record
    assert record["machine"]["blas"] and record["weights"]["parameters"] == sum(p.size for p in state.params.values())
    cpu = record["loss_curve"]["cpu_time"]
    assert len(cpu) == 12 and cpu == sorted(cpu) and record["training_cpu_s"] == pytest.approx(cpu[-1], abs=1e-3)
    assert len(record["machine"]["load_average_at_end"]) == 3 and "load_average" in record["evaluations"][-1]


def test_weights_files_are_byte_identical_for_identical_weights(tmp_path):
    arrays = {"a": np.arange(6.0).reshape(2, 3), "b": np.ones(2, np.float32)}
    write_arrays(tmp_path / "one.npz", arrays)
    write_arrays(tmp_path / "two.npz", dict(reversed(arrays.items())))
    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "two.npz").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.npz", "two.npz"]  # no temporary file left


def test_a_corrupt_checkpoint_is_named_and_not_used(tmp_path):
    run(tiny(), tmp_path, stop_after=4)
    checkpoint = tmp_path / "tiny.ckpt.npz"
    checkpoint.write_bytes(checkpoint.read_bytes()[:500])
    with pytest.raises(CheckpointError, match=f"{checkpoint}: not a readable checkpoint.*--restart"):
        run(tiny(), tmp_path)
    assert run(tiny(), tmp_path, restart=True).step == 12


def test_a_checkpoint_of_another_configuration_is_refused(tmp_path):
    run(tiny(), tmp_path, stop_after=4)
    with pytest.raises(CheckpointError, match="written by another configuration of 'tiny'"):
        run(tiny(lr=5e-3), tmp_path)


def test_a_checkpoint_with_wrong_shapes_is_refused_whole(tmp_path):
    exp = tiny()
    run(exp, tmp_path, stop_after=4)
    expected = exp.init(np.random.default_rng(0)) | {"w_out": np.zeros((7, 6))}
    with pytest.raises(CheckpointError, match=r"param/w_out has shape \(6, 6\) and dtype float64, expected \(7, 6\)"):
        load_checkpoint(tmp_path / "tiny.ckpt.npz", exp, expected)


# ------------------------------------------------------------------------- CLI


def test_train_an_unknown_experiment_lists_the_names(capsys):
    assert main(["train", "no-such-thing"]) == 1
    err = capsys.readouterr().err
    assert "unknown experiment 'no-such-thing'; the experiments are: " + ", ".join(EXPERIMENTS) in err
    assert "Traceback" not in err


def test_train_list_names_every_experiment(capsys):
    assert main(["train", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in EXPERIMENTS)


@pytest.mark.parametrize("option", ["--steps", "--checkpoint-every"])
def test_train_options_below_one_are_refused_before_anything_runs(option, tmp_path, capsys):
    assert main(["train", "marker-rnn", option, "0", "--run-dir", str(tmp_path)]) == 2
    assert f"{option} needs N >= 1; got 0" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_train_checks_its_step_arguments(tmp_path):
    with pytest.raises(ValueError, match="checkpoint_every must be an integer >= 1; got 0"):
        run(tiny(), tmp_path, checkpoint_every=0)
    with pytest.raises(ValueError, match="stop_after must be an integer >= 1; got -1"):
        run(tiny(), tmp_path, stop_after=-1)
