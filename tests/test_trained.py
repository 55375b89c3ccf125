"""Every experiment trains, and the recorded runs in llmarch/data/ are what their code produces.

A recorded run (``NAME.json`` and ``NAME.npz``, written by ``llmarch train NAME``) must come
from the experiment as the code defines it now: the same fingerprint, the same weights
checksum, and the first steps retrained here give the recorded losses. This is what keeps
the trained weights honest when the model code, the data or the optimizer change.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from llmarch.experiments import EXPERIMENTS, experiment
from llmarch.trainer import arrays_sha256, data_dir, load_provenance, load_weights, train

STEPS = 3
RECORDED = [name for name in EXPERIMENTS if (data_dir() / f"{name}.json").exists()] or [
    pytest.param(None, marks=pytest.mark.skip(reason="no recorded run in llmarch/data/ yet (`make train` writes them)"))
]


def first_steps(name, tmp_path):
    return train(experiment(name), run_dir=tmp_path, stop_after=STEPS, progress=False, evaluate=False, log=print)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_experiment_takes_its_first_steps(name, tmp_path):
    state = first_steps(name, tmp_path)
    assert state.step == STEPS and all(math.isfinite(loss) for loss in state.curve["loss"])


@pytest.mark.parametrize("name", RECORDED)
def test_the_recorded_run_is_reproduced_by_its_first_steps(name, tmp_path):
    record = load_provenance(name)
    exp = experiment(name)
    assert record["llmarch_fingerprint"] == exp.fingerprint(), (
        f"{name}: the experiment changed since llmarch/data/{name}.npz was trained; retrain: llmarch train {name}"
    )
    weights = load_weights(name)
    assert arrays_sha256(weights) == record["weights"]["sha256"], f"llmarch/data/{name}.npz is not the recorded file"
    state = first_steps(name, tmp_path)
    np.testing.assert_allclose(state.curve["loss"], record["loss_curve"]["loss"][:STEPS], rtol=1e-5)


def test_recorded_runs_are_only_those_of_experiments():
    stems = {p.stem for p in data_dir().glob("*.json") if p.name != "benchmarks.json"}
    assert stems <= set(EXPERIMENTS), f"provenance records without an experiment: {sorted(stems - set(EXPERIMENTS))}"
