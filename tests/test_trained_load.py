"""llmarch.trained.load: a trained model from its two files alone, with its tokenizer or task and provenance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from llmarch import Decoder
from llmarch.experiments import LOOKUP, MARKER, experiment, shakespeare_gpt_config
from llmarch.llm.cli import main
from llmarch.recurrent import RecurrentLM
from llmarch.trained import available, load, provenance, recorded
from llmarch.trainer import load_weights, train, with_budget, write_arrays


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """marker-rnn trained for 2 steps, its weights and record in a folder of their own."""
    folder = tmp_path_factory.mktemp("trained")
    train(with_budget(experiment("marker-rnn"), 2), run_dir=folder, out_dir=folder, progress=False, evaluate=False)
    return folder


def test_a_recall_model_loads_with_its_task_and_record(short_run):
    trained = load("marker-rnn", short_run)
    assert isinstance(trained.model, RecurrentLM) and trained.tokenizer is None
    assert trained.task == MARKER
    assert trained.provenance["steps"] == 2 and trained.provenance["experiment"] == "marker-rnn"
    tokens, _, _ = trained.task.sample(np.random.default_rng(0), 3)
    assert trained.model.logits(tokens).shape == (3, MARKER.length, MARKER.vocab_size)
    assert available(short_run) == ["marker-rnn"]


@pytest.mark.parametrize("name", ["shakespeare-gpt", "lookup-transformer"])
def test_a_decoder_loads_with_its_config_and_tokenizer_or_task(name, tmp_path):
    train(with_budget(experiment(name), 1), run_dir=tmp_path, out_dir=tmp_path, progress=False, evaluate=False)
    trained = load(name, tmp_path)
    assert isinstance(trained.model, Decoder)
    if name == "shakespeare-gpt":
        assert trained.model.config == shakespeare_gpt_config() and trained.task is None
        text = trained.tokenizer.decode(trained.model.generate(trained.tokenizer.encode("ROMEO:"), 5))
        assert text.startswith("ROMEO:") and len(text) == 11
    else:
        assert trained.task == LOOKUP and trained.tokenizer is None
        assert trained.model.config.vocab_size == LOOKUP.vocab_size


def test_the_folder_can_come_from_the_environment(short_run, monkeypatch):
    monkeypatch.setenv("LLMARCH_TRAINED", str(short_run))
    assert load("marker-rnn").provenance["steps"] == 2


def test_a_missing_model_names_what_there_is(short_run):
    with pytest.raises(FileNotFoundError, match=r"no trained model 'nope'.*marker-rnn.*llmarch train nope"):
        load("nope", short_run)


def test_weights_that_are_not_the_recorded_ones_are_refused(short_run, tmp_path):
    for suffix in (".json", ".npz"):
        (tmp_path / f"marker-rnn{suffix}").write_bytes((short_run / f"marker-rnn{suffix}").read_bytes())
    weights = dict(np.load(tmp_path / "marker-rnn.npz"))
    weights["b_out"] = weights["b_out"] + 1
    write_arrays(tmp_path / "marker-rnn.npz", weights)
    with pytest.raises(ValueError, match=r"not the ones marker-rnn\.json records"):
        load("marker-rnn", tmp_path)
    (tmp_path / "marker-rnn.json").write_text("{ not json")
    with pytest.raises(ValueError, match="not a readable trained model"):
        load("marker-rnn", tmp_path)


def test_a_truncated_or_mismatched_model_is_named_and_not_loaded(short_run, tmp_path):
    for suffix in (".json", ".npz"):
        (tmp_path / f"marker-rnn{suffix}").write_bytes((short_run / f"marker-rnn{suffix}").read_bytes())
    whole = (tmp_path / "marker-rnn.npz").read_bytes()
    (tmp_path / "marker-rnn.npz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"marker-rnn\.npz: not a readable trained model \(BadZipFile"):
        load("marker-rnn", tmp_path)
    with pytest.raises(ValueError, match=r"marker-rnn\.npz: not a readable weights file \(BadZipFile"):
        load_weights("marker-rnn", tmp_path)
    (tmp_path / "marker-rnn.npz").write_bytes(whole)
    record = json.loads((tmp_path / "marker-rnn.json").read_text())
    record["config"]["model"] = "Decoder"
    record["config"]["decoder"] = {"vocab_size": 3}
    (tmp_path / "marker-rnn.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match=r"marker-rnn\.json: its config does not fit the weights of marker-rnn\.npz"):
        load("marker-rnn", tmp_path)


def test_a_budget_run_needs_its_own_folder(tmp_path, capsys):
    assert main(["train", "marker-rnn", "--budget", "2"]) == 2
    assert "--out" in capsys.readouterr().err
    code = main(["train", "marker-rnn", "--budget", "1", "--out", str(tmp_path), "--run-dir", str(tmp_path)])
    assert code == 0
    record = json.loads((tmp_path / "marker-rnn.json").read_text())
    assert record["steps"] == 1 and record["llmarch_fingerprint"] != experiment("marker-rnn").fingerprint()


def test_a_run_kept_for_its_curves_ships_its_record_and_leaves_its_weights_in_the_run_folder(tmp_path):
    runs, package = tmp_path / "runs", tmp_path / "package"
    lstm = with_budget(experiment("shakespeare-lstm"), 1)
    assert not lstm.ships_weights
    train(lstm, run_dir=runs, out_dir=package, progress=False, evaluate=False, log=lambda _: None)
    assert sorted(p.name for p in package.iterdir()) == ["shakespeare-lstm.json"]
    assert sorted(p.name for p in runs.iterdir()) == ["shakespeare-lstm.json", "shakespeare-lstm.npz"]
    assert recorded(package) == ["shakespeare-lstm"] and available(package) == []
    assert provenance("shakespeare-lstm", package)["weights"]["in_package"] is False
    with pytest.raises(FileNotFoundError, match=r"recorded without its weights .*provenance\('shakespeare-lstm'\)"):
        load("shakespeare-lstm", package)
    assert isinstance(load("shakespeare-lstm", runs).model, RecurrentLM)


def test_a_missing_or_unreadable_record_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no provenance record 'nope' in .*records there: none"):
        provenance("nope", tmp_path)
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.json: not a readable provenance record \(JSONDecodeError"):
        provenance("broken", tmp_path)
    with pytest.raises(TypeError, match="name must be the name of a recorded run"):
        provenance(3, tmp_path)
