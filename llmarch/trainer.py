r"""The training loop behind ``llmarch train NAME``: checkpoints, resuming, trained weights, provenance.

One step is the recipe of [`llmarch.training`][llmarch.training]:

    tokens, targets = experiment.batch(step)                  # a function of (seed, step) only
    loss, grads = experiment.model(params).loss_and_grads(tokens, targets)
    grads, norm = clip_grad_norm(grads, clip)
    params, adam = optimizer.update(params, grads, adam, learning_rate(step, ...))

A model is anything with ``loss_and_grads(tokens, targets) -> (loss, grads)``; the loop
keeps its parameters as a flat ``dict`` name -> array and builds the model from them with
``experiment.model(params)``, so an `RNN`, an `LSTM` and a `Decoder` train the same way.

What the loop promises:

- **Resumable, exactly.** Every ``checkpoint_every`` steps, and when interrupted (Ctrl-C),
  it writes the parameters, both Adam moments, the step and the curves so far to a
  checkpoint (a temporary file, then ``os.replace``: a checkpoint is whole or absent). Batches
  depend only on the seed and the step, so a resumed run computes exactly what an
  uninterrupted one would.
- **Never half-loaded.** A checkpoint that is corrupt, or written by another configuration,
  is an error naming the file; nothing of it is used.
- **Stops on NaN.** A loss or gradient that is not finite stops the run with the step; the
  last good checkpoint stays.
- **Records where it came from.** The trained weights go to ``NAME.npz`` (``numpy.load``
  reads them, nothing else needed) and a provenance record to ``NAME.json``: configuration,
  data checksum, seed, steps, loss curve, evaluations, wall and CPU time, machine (with its load), BLAS, commit.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from llmarch._validate import check_size
from llmarch.training import AdamW, AdamWState, clip_grad_norm, learning_rate

__all__ = [
    "CheckpointError",
    "Experiment",
    "Hyperparameters",
    "Trainable",
    "TrainingError",
    "load_weights",
    "train",
]

Array = NDArray[np.floating[Any]]
Params = dict[str, Array]
CHECKPOINT_FORMAT = 2
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class Trainable(Protocol):
    """What the loop needs of a model: the mean loss of a batch and its gradient for every parameter."""

    def loss_and_grads(self, tokens: NDArray[np.int64], targets: NDArray[np.int64]) -> tuple[float, Params]: ...


class TrainingError(Exception):
    """A run that cannot go on (for example a loss that is not finite); the message says why and what is kept."""


class CheckpointError(TrainingError):
    """A checkpoint that cannot be used: unreadable, incomplete, or of another configuration."""


class Interrupted(TrainingError):
    """Ctrl-C: the run stopped between two steps after writing a checkpoint."""


@dataclass(frozen=True)
class Hyperparameters:
    """How an experiment trains: the budget, the optimizer and its schedule.

    Attributes
    ----------
    steps : int
        Optimizer steps of the whole run.
    batch_size : int
        Sequences per step.
    lr, min_lr : float
        Peak and final learning rate of [`learning_rate`][llmarch.training.learning_rate].
    warmup : int
        Steps of linear warmup.
    weight_decay : float
        AdamW's $\\lambda$ (matrices only).
    betas : tuple of float
        AdamW's $(\\beta_1, \\beta_2)$.
    grad_clip : float
        Maximal global gradient norm.
    eval_every : int
        Steps between evaluations (also at step 0 and at the end).
    seed : int
        Seeds the initial weights and, with the step, every batch.
    """

    steps: int
    batch_size: int
    lr: float
    min_lr: float
    warmup: int
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.99)
    grad_clip: float = 1.0
    eval_every: int = 250
    seed: int = 0


@dataclass(frozen=True)
class Experiment:
    """A named training run: its model, data, budget and evaluation.

    Attributes
    ----------
    name : str
        What ``llmarch train`` calls it; also the stem of the weights and provenance files.
    description : str
        One line for ``llmarch train --list`` and the provenance.
    hyper : Hyperparameters
        Budget and optimizer.
    config : dict
        The model's settings (JSON-serialisable), recorded in the provenance.
    data : dict
        What the data is: name, SHA-256 of its source, sizes, licence (JSON-serialisable).
    init : callable
        ``init(rng) -> params``: fresh parameters, a flat dict name -> array.
    model : callable
        ``model(params) -> Trainable``: the model with these parameters.
    batch : callable
        ``batch(step) -> (tokens, targets)``: training batch ``step`` (a function of the step only).
    evaluate : callable
        ``evaluate(model) -> dict``: numbers on held-out data, ``{"val_loss": ..., ...}``.
    baselines : dict
        Numbers to compare the result with (for example the bigram loss), recorded in the
        provenance; not part of the fingerprint, since they do not change the run.
    ships_weights : bool
        Whether the trained weights go into the package beside the provenance record. A run
        kept only for its curves (``False``) leaves ``NAME.npz`` and a copy of ``NAME.json``
        in the run folder instead, so the package's trained weights stay under 5 MB.
    """

    name: str
    description: str
    hyper: Hyperparameters
    config: dict[str, Any]
    data: dict[str, Any]
    init: Callable[[np.random.Generator], Params]
    model: Callable[[Params], Trainable]
    batch: Callable[[int], tuple[NDArray[np.int64], NDArray[np.int64]]]
    evaluate: Callable[[Any], dict[str, Any]]
    baselines: dict[str, Any] = field(default_factory=dict)
    ships_weights: bool = True

    def fingerprint(self) -> str:
        """SHA-256 of everything that decides the result: name, hyperparameters, model config, data."""
        settings = {"name": self.name, "hyper": asdict(self.hyper), "config": self.config, "data": self.data}
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


@dataclass
class RunState:
    """Everything a checkpoint holds: where the run is and what it has recorded."""

    step: int
    params: Params
    adam: AdamWState
    curve: dict[str, list[float]] = field(
        default_factory=lambda: {"step": [], "loss": [], "grad_norm": [], "time": [], "cpu_time": []}
    )
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    elapsed: float = 0.0  # seconds of training steps so far, over every session (evaluations apart)
    # CPU seconds of those steps (this process): on a machine shared with other work the wall
    # time depends on the load, the CPU time much less, so models trained apart compare by it.
    cpu: float = 0.0
    sessions: int = 1


# ------------------------------------------------------------------------------ files


def write_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` as an ``.npz`` that ``numpy.load`` reads, atomically and byte-identically for equal arrays.

    ``numpy.savez`` stamps each member with the current time; a fixed date here means the same
    weights give the same file (and no diff in git).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for name in sorted(arrays):
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                with zf.open(info, "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asarray(arrays[name], order="C"), allow_pickle=False)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file in the same folder, then ``os.replace``)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def arrays_sha256(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over every array's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        a = np.asarray(arrays[name], order="C")
        digest.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def save_checkpoint(path: Path, experiment: Experiment, state: RunState) -> None:
    """Write ``state`` to ``path`` atomically."""
    meta = {
        "format": CHECKPOINT_FORMAT,
        "experiment": experiment.name,
        "fingerprint": experiment.fingerprint(),
        "step": state.step,
        "adam_step": state.adam.step,
        "curve": state.curve,
        "evaluations": state.evaluations,
        "elapsed": state.elapsed,
        "cpu": state.cpu,
        "sessions": state.sessions,
    }
    arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(meta))}
    for k in state.params:
        arrays[f"param/{k}"], arrays[f"m/{k}"], arrays[f"v/{k}"] = state.params[k], state.adam.m[k], state.adam.v[k]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_arrays(path, arrays)


def load_checkpoint(path: Path, experiment: Experiment, expected: Mapping[str, np.ndarray]) -> RunState:
    """Read a checkpoint of ``experiment``, checking it whole against the ``expected`` parameter shapes first.

    Raises
    ------
    CheckpointError
        Naming ``path`` and what is wrong; nothing of the file is used.
    """
    advice = f"delete {path} or run with --restart to start over"
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:  # our own handle: closed even if corrupt
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(str(arrays.pop("meta")))
        if meta.get("format") != CHECKPOINT_FORMAT or meta.get("experiment") != experiment.name:
            raise CheckpointError(
                f"{path}: a checkpoint of {meta.get('experiment')!r} (format {meta.get('format')}), "
                f"not of {experiment.name!r} (format {CHECKPOINT_FORMAT}); {advice}"
            )
        step, adam_step = int(meta["step"]), int(meta["adam_step"])
        curve, evaluations = dict(meta["curve"]), list(meta["evaluations"])
        elapsed, sessions, logged = float(meta["elapsed"]), int(meta["sessions"]), len(curve["loss"])
        cpu = float(meta["cpu"])
    except CheckpointError:
        raise
    except Exception as exc:  # zip, npy, JSON or key errors: the file is not a whole checkpoint
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc}); {advice}") from None
    if meta.get("fingerprint") != experiment.fingerprint():
        raise CheckpointError(
            f"{path}: written by another configuration of {experiment.name!r} (the code changed); {advice}"
        )
    parts = {
        part: {k[len(part) + 1 :]: a for k, a in arrays.items() if k.startswith(part + "/")}
        for part in ("param", "m", "v")
    }
    for part, got in parts.items():
        if set(got) != set(expected):
            raise CheckpointError(
                f"{path}: its {part}/ arrays are {sorted(got)}, expected {sorted(expected)}; {advice}"
            )
        for k, a in got.items():
            if a.shape != expected[k].shape or a.dtype != expected[k].dtype:
                raise CheckpointError(
                    f"{path}: {part}/{k} has shape {a.shape} and dtype {a.dtype}, "
                    f"expected {expected[k].shape} {expected[k].dtype}; {advice}"
                )
            if not np.isfinite(a).all():
                raise CheckpointError(f"{path}: {part}/{k} holds values that are not finite; {advice}")
    if not 0 < step <= experiment.hyper.steps or adam_step != step or logged != step:
        raise CheckpointError(f"{path}: inconsistent step counts (step {step}, adam {adam_step}); {advice}")
    adam = AdamWState(adam_step, parts["m"], parts["v"])
    return RunState(step, parts["param"], adam, curve, evaluations, elapsed, cpu, sessions + 1)


def data_dir() -> Path:
    """The package's data folder, where trained weights and provenance records live."""
    return Path(str(resources.files("llmarch").joinpath("data")))


def load_weights(name: str, directory: Path | None = None) -> dict[str, np.ndarray]:
    """The trained weights of experiment ``name``, read with ``numpy.load`` from ``NAME.npz``."""
    path = (directory or data_dir()) / f"{name}.npz"
    if not path.exists():
        raise FileNotFoundError(f"no trained weights {path}: run `llmarch train {name}`")
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:  # our own handle: closed even if corrupt
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(
            f"{path}: not a readable weights file ({type(exc).__name__}: {exc}); run `llmarch train {name}`"
        ) from None


# ------------------------------------------------------------------------ provenance


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _blas() -> dict[str, Any]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {"library": "unknown (threadpoolctl is not installed)"}
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return {k: pool.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
    return {"library": "not found by threadpoolctl"}


def _commit() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        # Trained weights and records do not change the code that trains: a run's own outputs,
        # or those of the runs before it in `make train`, do not make the checkout dirty.
        outputs = [":(exclude)llmarch/data/*.npz", ":(exclude)llmarch/data/*.json"]
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", *outputs], cwd=root, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return {"sha": None, "dirty": None}
    return {"sha": sha.stdout.strip(), "dirty": bool(status.stdout.strip())}


def _load_average() -> tuple[float, ...]:
    """The machine's 1, 5 and 15 minute load averages (empty where the system has none)."""
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return ()


def machine() -> dict[str, Any]:
    """The machine and software a run used: CPU, cores, platform, Python, NumPy, BLAS, thread variables."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas(),
        "environment_variables": {name: os.environ.get(name) for name in BLAS_VARIABLES},
    }


def _dumps(record: dict[str, Any]) -> str:
    """JSON with two-space indents, but each list of numbers on one line (the curves stay readable)."""

    def compact(value: Any) -> Any:
        if isinstance(value, list | tuple) and all(isinstance(x, int | float) for x in value):
            return _Raw(json.dumps(list(value)))
        if isinstance(value, dict):
            return {k: compact(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [compact(v) for v in value]
        return value

    raws: dict[str, str] = {}

    def default(raw: Any) -> str:
        key = f"@@raw{len(raws)}@@"
        raws[key] = raw.text
        return key

    text = json.dumps(compact(record), indent=2, default=default)
    for key, raw in raws.items():
        text = text.replace(f'"{key}"', raw)
    return text + "\n"


@dataclass(frozen=True)
class _Raw:
    text: str


def provenance(experiment: Experiment, state: RunState, weights_file: str) -> dict[str, Any]:
    """The record written beside the weights."""
    final = state.evaluations[-1] if state.evaluations else {}
    return {
        "experiment": experiment.name,
        "description": experiment.description,
        "command": f"llmarch train {experiment.name}",
        "seed": experiment.hyper.seed,
        "steps": state.step,
        "hyperparameters": asdict(experiment.hyper),
        "config": experiment.config,
        "data": experiment.data,
        "baselines": experiment.baselines,
        "weights": {
            "file": weights_file,
            "in_package": experiment.ships_weights,
            "sha256": arrays_sha256(state.params),
            "parameters": int(sum(p.size for p in state.params.values())),
            "dtype": sorted({str(p.dtype) for p in state.params.values()}),
        },
        "final": final,
        "evaluations": state.evaluations,
        "loss_curve": state.curve,
        "training_time_s": round(state.elapsed, 3),
        "training_cpu_s": round(state.cpu, 3),
        "wall_time_s": round(state.elapsed + sum(e.get("seconds", 0.0) for e in state.evaluations), 3),
        "sessions": state.sessions,
        "finished": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {**machine(), "load_average_at_end": [round(x, 2) for x in _load_average()]},
        "commit": _commit(),
        "llmarch_fingerprint": experiment.fingerprint(),
    }


# ----------------------------------------------------------------------------- loop


@contextlib.contextmanager
def _deferred_interrupt() -> Iterator[list[bool]]:
    """Turn the first Ctrl-C into a flag the loop reads between steps (a second one interrupts at once)."""
    flag = [False]
    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum: int, frame: Any) -> None:
            flag[0] = True
            signal.signal(signal.SIGINT, previous)

        signal.signal(signal.SIGINT, handler)
        try:
            yield flag
        finally:
            signal.signal(signal.SIGINT, previous)
    else:  # signals can only be caught in the main thread; there, Ctrl-C stops at once
        yield flag


def _finite(loss: float, grads: Mapping[str, np.ndarray]) -> str | None:
    """None when everything is finite, else what is not."""
    if not math.isfinite(loss):
        return f"the loss is {loss}"
    bad = [k for k, g in grads.items() if not np.isfinite(g).all()]
    return f"the gradient of {', '.join(bad)} is not finite" if bad else None


def _progress(total: int, initial: int, name: str, enabled: bool) -> Any:
    if not enabled:
        return contextlib.nullcontext(None)
    try:
        from tqdm import tqdm
    except ImportError:
        raise TrainingError("llmarch train needs tqdm for its progress bar: pip install 'llmarch[train]'") from None
    return tqdm(total=total, initial=initial, desc=name, unit="step", file=sys.stderr, dynamic_ncols=True)


def train(
    experiment: Experiment,
    *,
    run_dir: Path,
    out_dir: Path | None = None,
    stop_after: int | None = None,
    checkpoint_every: int = 100,
    restart: bool = False,
    progress: bool = True,
    evaluate: bool = True,
    log: Callable[[str], None] = print,
) -> RunState:
    """Train ``experiment``, resuming from its checkpoint in ``run_dir`` if there is one.

    Parameters
    ----------
    experiment : Experiment
        What to train.
    run_dir : pathlib.Path
        Folder of the checkpoint ``NAME.ckpt.npz``.
    out_dir : pathlib.Path, optional
        Where ``NAME.npz`` and ``NAME.json`` go at the end; ``None`` writes neither. An
        experiment that does not ship its weights writes only ``NAME.json`` there, and both
        files into ``run_dir``.
    stop_after : int, optional
        Stop (with a checkpoint) once this many steps are done, before the end of the run.
        The schedule stays that of the whole run, so continuing later changes nothing.
    checkpoint_every : int
        Steps between checkpoints.
    restart : bool
        Ignore an existing checkpoint and start from step 0.
    progress : bool
        Show a progress bar (steps, loss, tokens/s, time left) on stderr.
    evaluate : bool
        Run the experiment's evaluation at step 0, every ``eval_every`` steps and at the end
        (its time is recorded apart from the training time).
    log : callable
        Where the run's messages go (resuming, evaluations, the files written); ``print`` by default.

    Returns
    -------
    RunState
        Where the run stopped: parameters, optimizer state, curves.

    Raises
    ------
    TrainingError
        If a loss or gradient is not finite (the message names the step; the last good
        checkpoint is kept), or, as ``Interrupted``, after Ctrl-C (a checkpoint is written).
    CheckpointError
        If the checkpoint in ``run_dir`` is corrupt or of another configuration (nothing of it is used).
    """
    if stop_after is not None:
        check_size("stop_after", stop_after, minimum=1)
    check_size("checkpoint_every", checkpoint_every, minimum=1)
    hyper = experiment.hyper
    optimizer = AdamW(betas=hyper.betas, weight_decay=hyper.weight_decay)
    fresh = experiment.init(np.random.default_rng(hyper.seed))
    checkpoint = run_dir / f"{experiment.name}.ckpt.npz"
    if checkpoint.exists() and not restart:
        state = load_checkpoint(checkpoint, experiment, fresh)
        log(f"{experiment.name}: resuming from step {state.step} of {hyper.steps} ({checkpoint})")
    else:
        state = RunState(0, fresh, optimizer.init(fresh))
    end = hyper.steps if stop_after is None else min(hyper.steps, stop_after)

    def record_evaluation() -> None:
        started = time.perf_counter()
        metrics = experiment.evaluate(experiment.model(state.params))
        seconds = round(time.perf_counter() - started, 3)
        timing = {"step": state.step, "time": round(state.elapsed, 4), "cpu_time": round(state.cpu, 4)}
        load = {"load_average": round(_load_average()[0], 2)} if _load_average() else {}
        state.evaluations.append({**timing, **metrics, "seconds": seconds, **load})
        log(f"{experiment.name}: step {state.step}: " + _describe(metrics))

    if evaluate and state.step == 0:
        record_evaluation()

    rate = None  # tokens per second, smoothed over the last steps
    with _deferred_interrupt() as interrupted, _progress(hyper.steps, state.step, experiment.name, progress) as bar:
        while state.step < end:
            started, started_cpu = time.perf_counter(), time.process_time()
            step = state.step
            tokens, targets = experiment.batch(step)
            loss, grads = experiment.model(state.params).loss_and_grads(tokens, targets)
            problem = _finite(loss, grads)
            if problem:
                kept = f"the last good checkpoint {checkpoint} is kept" if checkpoint.exists() else "no checkpoint yet"
                raise TrainingError(f"{experiment.name}: step {step}: {problem}; stopped ({kept})")
            grads, norm = clip_grad_norm(grads, hyper.grad_clip)
            lr = learning_rate(step, peak=hyper.lr, warmup=hyper.warmup, total=hyper.steps, minimum=hyper.min_lr)
            params, adam = optimizer.update(state.params, grads, state.adam, lr)
            step_time = time.perf_counter() - started
            elapsed, cpu = state.elapsed + step_time, state.cpu + time.process_time() - started_cpu
            # One update of the state, after the step is complete: Ctrl-C only raises a flag.
            state.params, state.adam, state.step, state.elapsed, state.cpu = params, adam, step + 1, elapsed, cpu
            point = {
                "step": step,
                "loss": loss,
                "grad_norm": norm,
                "time": round(elapsed, 4),
                "cpu_time": round(cpu, 4),
            }
            for key, value in point.items():
                state.curve[key].append(value)
            if evaluate and (state.step % hyper.eval_every == 0 or state.step == hyper.steps):
                record_evaluation()
            if bar is not None:
                rate = tokens.size / step_time if rate is None else 0.9 * rate + 0.1 * tokens.size / step_time
                bar.set_postfix(loss=f"{loss:.4f}", tok_s=f"{rate:,.0f}", refresh=False)
                bar.update(1)
            if interrupted[0]:
                save_checkpoint(checkpoint, experiment, state)
                raise Interrupted(
                    f"{experiment.name}: interrupted after step {state.step} of {hyper.steps}; checkpoint {checkpoint} "
                    f"written: run `llmarch train {experiment.name}` again to continue"
                )
            if state.step % checkpoint_every == 0 and state.step < hyper.steps:
                save_checkpoint(checkpoint, experiment, state)

    if state.step < hyper.steps:
        save_checkpoint(checkpoint, experiment, state)
        log(f"{experiment.name}: stopped after step {state.step} of {hyper.steps}; checkpoint {checkpoint}")
        return state
    if out_dir is not None:
        save_checkpoint(checkpoint, experiment, state)  # kept until both files are written
        weights_dir = out_dir if experiment.ships_weights else run_dir
        folders = list(dict.fromkeys((weights_dir, out_dir)))  # one folder, or the run's and the package's
        record = _dumps(provenance(experiment, state, f"{experiment.name}.npz"))
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
        write_arrays(weights_dir / f"{experiment.name}.npz", state.params)
        for folder in folders:
            write_text(folder / f"{experiment.name}.json", record)
        log(
            f"{experiment.name}: done in {state.elapsed:.1f} s; wrote {experiment.name}.npz and .json into "
            + " and ".join(str(f) for f in folders)
            + ("" if experiment.ships_weights else " (the curves only)")
        )
    checkpoint.unlink(missing_ok=True)
    return state


def with_budget(experiment: Experiment, steps: int) -> Experiment:
    """``experiment`` shortened to ``steps`` steps (warmup and evaluations scaled to fit): a quick trial run.

    Its fingerprint differs from the experiment's, so its weights are never taken for the recorded ones.
    """
    hyper = experiment.hyper
    short = replace(
        hyper, steps=steps, warmup=min(hyper.warmup, max(1, steps // 10)), eval_every=min(hyper.eval_every, steps)
    )
    return replace(experiment, hyper=short)


def _describe(metrics: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))


# ------------------------------------------------------------------------------- CLI


def add_train_command(commands: Any) -> None:
    """Add ``train`` to the subcommands of ``llmarch`` (an ``argparse`` subparsers object)."""
    from llmarch.experiments import EXPERIMENTS

    names = ", ".join(EXPERIMENTS)
    command = commands.add_parser(
        "train",
        help="train a named experiment; write its weights and provenance into llmarch/data/",
        description=f"Train named experiments ({names}): progress bar, checkpoints, resumable.",
    )
    command.add_argument("names", nargs="*", metavar="NAME", help=f"experiments to train: {names}")
    command.add_argument("--all", action="store_true", help="train every experiment, one after another")
    command.add_argument("--list", action="store_true", help="list the experiments and exit")
    command.add_argument("--steps", type=int, metavar="N", help="stop after N steps (with a checkpoint)")
    command.add_argument(
        "--budget",
        type=int,
        metavar="N",
        help="a short run: train for N steps in all and write its weights into --out (needed: this is not the "
        "experiment as recorded, so it never goes into llmarch/data/)",
    )
    command.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    command.add_argument(
        "--run-dir", type=Path, default=Path(".llmarch-runs"), help="checkpoint folder (default ./.llmarch-runs)"
    )
    command.add_argument("--out", type=Path, help="where weights and provenance go (default: llmarch/data/)")
    command.add_argument("--checkpoint-every", type=int, default=100, metavar="N", help="steps between checkpoints")
    command.set_defaults(run=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    """Run ``llmarch train``; errors are one line on stderr and exit status 1 (130 after Ctrl-C)."""
    from llmarch.experiments import EXPERIMENTS, experiment

    if args.list:
        for name, factory in EXPERIMENTS.items():
            print(f"{name:20} {factory.__doc__.strip().splitlines()[0] if factory.__doc__ else ''}")
        return 0
    names = list(EXPERIMENTS) if args.all else args.names
    if not names:
        print(f"llmarch train: error: name an experiment ({', '.join(EXPERIMENTS)}) or use --all", file=sys.stderr)
        return 2
    try:
        from tqdm import tqdm
    except ImportError:
        print("llmarch train: error: it needs tqdm for its progress bar: pip install 'llmarch[train]'", file=sys.stderr)
        return 1
    for option, value in (("--steps", args.steps), ("--checkpoint-every", args.checkpoint_every)):
        if value is not None and value < 1:
            print(f"llmarch train: error: {option} needs N >= 1; got {value}", file=sys.stderr)
            return 2
    if args.budget is not None and (args.budget < 1 or args.out is None):
        print(
            "llmarch train: error: --budget needs N >= 1 and --out DIR (a short run is not the recorded one)",
            file=sys.stderr,
        )
        return 2
    try:
        chosen = [experiment(name) for name in names]  # unknown names fail before anything runs
        if args.budget is not None:
            chosen = [with_budget(exp, args.budget) for exp in chosen]
        for exp in chosen:
            train(
                exp,
                run_dir=args.run_dir,
                out_dir=args.out or data_dir(),
                stop_after=args.steps,
                checkpoint_every=args.checkpoint_every,
                restart=args.restart,
                log=tqdm.write,
            )
    except Interrupted as exc:
        print(f"llmarch train: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("llmarch train: interrupted; the last checkpoint is kept", file=sys.stderr)
        return 130
    except (TrainingError, ValueError, OSError) as exc:
        print(f"llmarch train: error: {exc}", file=sys.stderr)
        return 1
    return 0
