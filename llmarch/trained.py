"""The trained models that ship with the package: load one by name, with its data and its provenance.

``llmarch train NAME`` writes two files into ``llmarch/data/``: ``NAME.npz``, the weights
(``numpy.load`` reads them, nothing else needed), and ``NAME.json``, the provenance record
(configuration, data, seed, loss curve, evaluations, wall time, machine, commit).
[`load`][llmarch.trained.load] reads both and rebuilds what the pages need from them alone:
the model, the tokenizer of a language model or the task of a recall experiment, and the
record itself. Nothing is trained or downloaded here.

A run kept for its curves ships its record without its weights (``shakespeare-llama`` and
``shakespeare-lstm``, to keep the package under 5 MB): [`recorded`][llmarch.trained.recorded]
lists every record, [`provenance`][llmarch.trained.provenance] reads one, and
[`available`][llmarch.trained.available] lists only the models [`load`][llmarch.trained.load] can build.

    trained = load("shakespeare-gpt")
    prompt = trained.tokenizer.encode("ROMEO:")
    print(trained.tokenizer.decode(trained.model.generate(prompt, 40)))
    print(trained.provenance["final"]["val_loss"])

The environment variable ``LLMARCH_TRAINED`` names another folder to read instead (for
example the output of a short run, ``llmarch train NAME --budget 50 --out DIR``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llmarch.config import DecoderConfig, RopeScaling
from llmarch.decoder import Decoder
from llmarch.embedding import CharTokenizer
from llmarch.recall import KeyValueRecall, MarkerRecall, RecallTask
from llmarch.recurrent import RecurrentLM
from llmarch.trainer import arrays_sha256, data_dir

__all__ = ["TrainedModel", "available", "decoder_config", "load", "provenance", "recorded", "trained_dir"]

TASKS: dict[str, type[RecallTask]] = {"MarkerRecall": MarkerRecall, "KeyValueRecall": KeyValueRecall}


@dataclass(frozen=True)
class TrainedModel:
    """A trained model with what it needs to be used and where it came from.

    Attributes
    ----------
    name : str
        The experiment's name (``llmarch train NAME``).
    model : Decoder or RecurrentLM
        The model with its trained weights.
    tokenizer : CharTokenizer or None
        The tokenizer of a language model (``None`` for a recall experiment).
    task : MarkerRecall or KeyValueRecall or None
        The task of a recall experiment (``None`` for a language model).
    provenance : dict
        The record ``NAME.json``: ``config``, ``data``, ``baselines``, ``final`` (the last
        evaluation), ``evaluations``, ``loss_curve``, ``training_time_s``, ``machine``, ``commit``.
    """

    name: str
    model: Decoder | RecurrentLM
    tokenizer: CharTokenizer | None
    task: RecallTask | None
    provenance: dict[str, Any]


def trained_dir() -> Path:
    """The folder trained models are read from: ``$LLMARCH_TRAINED`` if set, else the package's ``llmarch/data/``."""
    folder = os.environ.get("LLMARCH_TRAINED")
    return Path(folder) if folder else data_dir()


def _folder(directory: str | os.PathLike[str] | None) -> Path:
    if directory is None:
        return trained_dir()
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory must be a path or None; got {type(directory).__name__}")
    return Path(directory)


def available(directory: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the trained models in ``directory`` (default [`trained_dir`][llmarch.trained.trained_dir]), sorted.

    A model is there when both ``NAME.npz`` and ``NAME.json`` are.
    """
    folder = _folder(directory)
    return sorted(p.stem for p in folder.glob("*.json") if (folder / f"{p.stem}.npz").exists())


def recorded(directory: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the runs with a provenance record ``NAME.json`` in ``directory``, weights or not, sorted."""
    folder = _folder(directory)
    return sorted(p.stem for p in folder.glob("*.json") if p.name != "benchmarks.json")


def provenance(name: str, directory: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The provenance record of run ``name``: ``config``, ``final``, ``evaluations``, ``loss_curve``, ``machine``, ...

    It needs only ``NAME.json``, so it also reads the runs whose weights do not ship.

    Raises
    ------
    FileNotFoundError
        If there is no record (the message lists the ones there are).
    ValueError
        If the record is not readable JSON.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be the name of a recorded run (a str); got {name!r}")
    folder = _folder(directory)
    path = folder / f"{name}.json"
    if not path.is_file():
        there = ", ".join(recorded(folder)) or "none"
        raise FileNotFoundError(
            f"name: no provenance record {name!r} in {folder} (records there: {there}); `llmarch train {name}` makes it"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable provenance record ({type(exc).__name__}: {exc})") from None


def decoder_config(settings: dict[str, Any]) -> DecoderConfig:
    """The [`DecoderConfig`][llmarch.DecoderConfig] recorded as a dict of its fields (``dataclasses.asdict``)."""
    fields = dict(settings)
    if isinstance(fields.get("rope_scaling"), dict):
        fields["rope_scaling"] = RopeScaling(**fields["rope_scaling"])
    return DecoderConfig(**fields)


def _model(config: dict[str, Any], weights: dict[str, np.ndarray]) -> Decoder | RecurrentLM:
    kind = config.get("model")
    if kind == "Decoder":
        return Decoder.from_hf_state_dict(weights, decoder_config(config["decoder"]))
    if kind == "RecurrentLM":
        return RecurrentLM.from_parameters(weights)
    raise ValueError(f"config['model'] must be 'Decoder' or 'RecurrentLM'; got {kind!r}")


def _ships_no_weights(json_path: Path) -> bool:
    try:
        return json.loads(json_path.read_text(encoding="utf-8"))["weights"]["in_package"] is False
    except (OSError, ValueError, KeyError, TypeError):
        return False  # an unreadable record is load's to report


def load(name: str, directory: str | os.PathLike[str] | None = None) -> TrainedModel:
    """The trained model ``name`` with its tokenizer or task and its provenance record.

    Parameters
    ----------
    name : str
        An experiment's name, for example ``"shakespeare-gpt"`` or ``"lookup-transformer"``
        ([`available`][llmarch.trained.available] lists them).
    directory : path, optional
        Where ``NAME.npz`` and ``NAME.json`` are; default [`trained_dir`][llmarch.trained.trained_dir].

    Raises
    ------
    FileNotFoundError
        If either file is missing (the message lists the trained models there are and the
        command that makes this one).
    ValueError
        If the files do not belong together (the weights' checksum is not the recorded one)
        or the record cannot be read; nothing is returned half-loaded.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be the name of a trained model (a str); got {name!r}")
    folder = _folder(directory)
    json_path, npz_path = folder / f"{name}.json", folder / f"{name}.npz"
    if json_path.is_file() and not npz_path.is_file() and _ships_no_weights(json_path):
        raise FileNotFoundError(
            f"name: {name!r} is recorded without its weights (kept for its curves: read them with "
            f"provenance({name!r})); `llmarch train {name}` leaves the trained model in .llmarch-runs/, "
            f"then load({name!r}, directory='.llmarch-runs')"
        )
    for path in (json_path, npz_path):
        if not path.is_file():
            there = ", ".join(available(folder)) or "none"
            raise FileNotFoundError(
                f"name: no trained model {name!r} in {folder} ({path.name} is missing; trained models there: "
                f"{there}); `llmarch train {name}` makes it"
            )
    try:
        record = json.loads(json_path.read_text(encoding="utf-8"))
        with open(npz_path, "rb") as f, np.load(f, allow_pickle=False) as npz:
            weights = {k: npz[k] for k in npz.files}
        config, data = record["config"], record["data"]
        expected = record["weights"]["sha256"]
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:  # a truncated .npz
        raise ValueError(
            f"{json_path} / {npz_path}: not a readable trained model ({type(exc).__name__}: {exc})"
        ) from None
    if arrays_sha256(weights) != expected:
        raise ValueError(f"{npz_path}: its weights are not the ones {json_path.name} records (SHA-256 differs)")
    try:
        model = _model(config, weights)
    except (KeyError, ValueError, TypeError) as exc:  # a record whose config does not fit its weights
        raise ValueError(f"{json_path}: its config does not fit the weights of {npz_path.name} ({exc})") from None
    tokenizer = CharTokenizer(tuple(data["vocabulary"])) if "vocabulary" in data else None
    task = None
    if data.get("task") in TASKS:
        cls = TASKS[data["task"]]
        task = cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.init})
    return TrainedModel(name, model, tokenizer, task, record)
