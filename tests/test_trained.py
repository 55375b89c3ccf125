"""Every experiment trains, and the recorded runs in llmarch/data/ are what their code produces.

A recorded run (``NAME.json`` and ``NAME.npz``, written by ``llmarch train NAME``) must come
from the experiment as the code defines it now: the same fingerprint, the same weights
checksum (for the runs that ship their weights), and the first steps retrained here give the
recorded losses. The package's trained weights stay under 5 MB. This is what keeps
the trained weights honest when the model code, the data or the optimizer change.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from llmarch.experiments import EXPERIMENTS, experiment
from llmarch.trained import provenance, recorded
from llmarch.trainer import arrays_sha256, data_dir, load_weights, train

STEPS = 3
RECORDED = [name for name in EXPERIMENTS if name in recorded(data_dir())] or [
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
    record = provenance(name, data_dir())
    exp = experiment(name)
    assert record["llmarch_fingerprint"] == exp.fingerprint(), (
        f"{name}: the experiment changed since llmarch/data/{name}.json was recorded; retrain: llmarch train {name}"
    )
    assert record["weights"].get("in_package", True) == exp.ships_weights
    if exp.ships_weights:
        weights = load_weights(name)
        assert arrays_sha256(weights) == record["weights"]["sha256"], f"llmarch/data/{name}.npz is not the recorded one"
    else:
        assert not (data_dir() / f"{name}.npz").exists(), f"{name} is kept for its curves: its weights do not ship"
    state = first_steps(name, tmp_path)
    np.testing.assert_allclose(state.curve["loss"], record["loss_curve"]["loss"][:STEPS], rtol=1e-5)


def test_recorded_runs_are_only_those_of_experiments():
    stems = {p.stem for p in data_dir().glob("*.json") if p.name != "benchmarks.json"}
    assert stems <= set(EXPERIMENTS), f"provenance records without an experiment: {sorted(stems - set(EXPERIMENTS))}"


def test_the_trained_weights_in_the_package_stay_under_5_mb():
    sizes = {p.name: p.stat().st_size for p in data_dir().glob("*.npz")}
    assert sum(sizes.values()) < 5_000_000, f"trained weights take {sum(sizes.values()):,} bytes: {sizes}"
