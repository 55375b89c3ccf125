"""Every public callable, called with malformed arguments: a clear error naming the argument, or a finite result.

The callables are found, not listed: every name in ``llmarch.__all__`` and ``llmarch.llm.__all__``;
for a class, its constructor, its public class methods and its public methods (``__call__``
included) on a fresh valid instance. Each call starts from valid arguments (built by parameter
name, below) and replaces one of them with a malformed value of a kind that fits it: wrong
rank, wrong dtype (complex, object, str), NaN or infinity, empty, negative or impossibly large
sizes, the wrong type altogether. hypothesis draws the details (where the NaN goes, which
size), derandomized, a few examples per callable.

Allowed outcomes: ``TypeError`` or ``ValueError`` whose message names the argument (for
``llmarch.llm``, its errors, all ``LLMError``; for a path, ``OSError`` naming the path), or a
result whose every number is finite. Anything else fails: another exception (``IndexError``,
``AttributeError``, a NumPy warning turned error), NaN or infinity in the result, no answer
within a few seconds.

A public name added later joins by itself; if no valid value is known for one of its
parameters, the test says which to add to ``VALUES`` or ``OVERRIDES``. Cases that fail today
in modules owned by others are listed in ``KNOWN_FAILURES`` with the owner: an entry that no
longer fails is itself a failure, so the list only shrinks.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import inspect
import math
import re
import shutil
import signal
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import llmarch
import llmarch.llm
from llmarch.llm.errors import LLMError
from llmarch.llm.recordings import PACKAGE_RECORDINGS

SEED_PROMPT = (
    "Explain how transformers and the attention mechanism work in Large Language Models. "
    "Provide 5 real-world analogies to make it simple for non-technical readers."
)
EXAMPLES = 3  # per callable; every (parameter, kind) pair is tried in each example
CALL_SECONDS = 5  # a call that takes longer is a hang

# ---------------------------------------------------------------- a scratch folder for the llm part
_SCRATCH = Path(tempfile.mkdtemp(prefix="llmarch-bad-input-"))
_RECORDINGS = _SCRATCH / "recordings"
shutil.copytree(PACKAGE_RECORDINGS, _RECORDINGS)
_A_RECORDING = next(iter(sorted(_RECORDINGS.glob("*.json"))))


def teardown_module() -> None:
    shutil.rmtree(_SCRATCH, ignore_errors=True)


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _randn(*shape: int) -> np.ndarray:
    return _rng().standard_normal(shape)


TINY_GPT = llmarch.GPTConfig(vocab_size=16, n_positions=16, d_model=8, n_layers=1, n_heads=2)
TINY_TRANSFORMER = llmarch.TransformerConfig.tiny(16, d_model=8, n_heads=2, d_ff=16, n_layers=1)
TINY_DECODER = llmarch.DecoderConfig(
    vocab_size=16, n_positions=16, d_model=8, n_layers=1, n_heads=2, n_kv_heads=1, d_ff=16
)


def _gpt() -> Any:
    return llmarch.GPT.init(TINY_GPT, _rng())


def _decoder() -> Any:
    return llmarch.Decoder.init(TINY_DECODER, _rng())


def _latent_attention() -> Any:  # DeepSeek's attention on width 8: 2 heads, latent 4, rotary part 2
    w = {"w_dq": _randn(8, 6), "w_uq": _randn(6, 2 * 6), "w_dkv": _randn(8, 4), "w_kr": _randn(8, 2)}
    w |= {"w_ukv": _randn(4, 2 * (4 + 4)), "w_o": _randn(2 * 4, 8)}
    norms = {"q_latent_norm": llmarch.RMSNorm.init(6), "kv_latent_norm": llmarch.RMSNorm.init(4)}
    return llmarch.LatentAttention(**w, **norms, n_heads=2, qk_rope_head_dim=2)


def _safetensors_file(model: Callable[[], Any] = _gpt, name: str = "gpt") -> Path:
    path = _SCRATCH / f"{name}.safetensors"
    if not path.exists():
        from safetensors.numpy import save_file

        save_file({k: np.ascontiguousarray(v) for k, v in model().to_hf_state_dict().items()}, str(path))
    return path


# ---------------------------------------------------------------- valid values, by parameter name
# Widths: d_model = d_in = d_hidden = 8, 2 heads, d_ff 16, vocabulary and positions 16, 4 tokens.
VALUES: dict[str, Callable[[], Any]] = {
    # arrays
    "x": lambda: _randn(4, 8),
    "q": lambda: _randn(4, 8),
    "k": lambda: _randn(4, 8),
    "v": lambda: _randn(4, 8),
    "x_t": lambda: _randn(2, 8),
    "h": lambda: _randn(2, 8),
    "h0": lambda: _randn(8),
    "c0": lambda: _randn(8),
    "outputs": lambda: _randn(4, 8),  # RNN/LSTM.backward: what the forward pass of x returned
    "grad_outputs": lambda: _randn(4, 8),
    "grad_output": lambda: _randn(4, 8),  # a layer's backward: shaped as its recorded output
    "targets": lambda: np.array([2, 3, 4, 5]),
    "state": lambda: (_randn(2, 8), _randn(2, 8)),
    "memory": lambda: _randn(4, 8),
    "kv": lambda: _randn(4, 8),
    "context": lambda: _randn(4, 8),
    "logits": lambda: _randn(16),
    "mask": lambda: llmarch.causal_mask(4),
    "self_mask": lambda: llmarch.causal_mask(4),
    "memory_mask": lambda: np.ones((4, 4), dtype=bool),
    "src_mask": lambda: np.ones((4, 4), dtype=bool),
    "tgt_mask": lambda: llmarch.causal_mask(4),
    "tokens": lambda: np.array([1, 2, 3, 4]),
    "ids": lambda: np.array([1, 2, 3, 4]),
    "src": lambda: np.array([1, 2, 3, 4]),
    "tgt": lambda: np.array([1, 2, 3, 4]),
    "positions": lambda: np.arange(4),
    "lengths": lambda: np.array([2, 4]),
    "query_positions": lambda: np.arange(4),
    "key_positions": lambda: np.arange(4),
    # sizes and numbers
    "n": lambda: 4,
    "d": lambda: 8,
    "d_in": lambda: 8,
    "d_out": lambda: 8,
    "d_hidden": lambda: 8,
    "d_model": lambda: 8,
    "d_ff": lambda: 16,
    "n_heads": lambda: 2,
    "n_layers": lambda: 1,
    "n_positions": lambda: 16,
    "vocab_size": lambda: 16,
    "kernel_size": lambda: 3,
    "max_new_tokens": lambda: 2,
    "n_new": lambda: 2,
    "n_tokens": lambda: 4,
    "original_n_positions": lambda: 16,
    "top_k": lambda: 3,
    "block_size": lambda: 2,
    "key_block_size": lambda: 2,
    "workers": lambda: 1,
    "axis": lambda: -1,
    "window": lambda: 2,
    "temperature": lambda: 0.0,
    "std": lambda: 0.02,
    "eps": lambda: 1e-5,
    "layer_norm_eps": lambda: 1e-5,
    "forget_bias": lambda: 1.0,
    "base": lambda: 10000.0,
    "factor": lambda: 8.0,
    "layer": lambda: 0,
    "n_experts": lambda: 4,
    "n_experts_per_token": lambda: 2,
    "n_shared_experts": lambda: 1,
    # flags, names, types
    "causal": lambda: False,
    "use_cache": lambda: True,
    "prefix": lambda: False,
    "dtype": lambda: np.float64,
    "norm": lambda: "pre",  # transformer.py: where the norms go
    "activation": lambda: "relu",
    "name": lambda: "gpt2",
    "text": lambda: "hello",
    "rng": _rng,
    # objects
    "config": lambda: TINY_DECODER,
    "cache": lambda: llmarch.KVCache(),
    "sublayer": lambda: lambda h: 0.5 * h,
    "state_dict": lambda: _gpt().to_hf_state_dict(),
    "path": _safetensors_file,
    # llmarch.llm
    "model": lambda: "gpt-4o",
    "mode": lambda: "replay",
    "recordings": lambda: PACKAGE_RECORDINGS,
    "directory": lambda: _RECORDINGS,
    "prompt": lambda: SEED_PROMPT,
    "params": lambda: {"temperature": 0.0},
    "request": lambda: llmarch.llm.canonical_request("gpt-4o", SEED_PROMPT),
    "key": lambda: "0" * 64,
    "top_p": lambda: 0.9,
    "max_tokens": lambda: 50,
    "seed": lambda: 1,
    "timeout": lambda: 60.0,
    "max_retries": lambda: 2,
    "deadline": lambda: 180.0,
}

# Where one name means something else: "<Class>.<method>" or "<function>" -> parameter -> value.
OVERRIDES: dict[str, dict[str, Callable[[], Any]]] = {
    "KVCache.append": {"k": lambda: _randn(2, 4, 4), "v": lambda: _randn(2, 4, 4)},
    "pre_ln_residual": {"norm": lambda: llmarch.LayerNorm.init(8)},  # here the layer norm itself
    "post_ln_residual": {"norm": lambda: llmarch.LayerNorm.init(8)},
    "CharTokenizer.decode": {"ids": lambda: np.array([0, 1, 2])},
    "Transformer.init": {"config": lambda: TINY_TRANSFORMER},
    "GPT.init": {"config": lambda: TINY_GPT},
    "GPT.from_hf_state_dict": {"state": lambda: _gpt().to_hf_state_dict(), "config": lambda: TINY_GPT},
    "GPT.from_safetensors": {"config": lambda: TINY_GPT},
    "GPT.from_parameters": {"params": lambda: _gpt().parameters(), "config": lambda: TINY_GPT},
    "Decoder.from_hf_state_dict": {"state": lambda: _decoder().to_hf_state_dict()},
    "Decoder.from_parameters": {"params": lambda: _decoder().parameters()},
    "Decoder.from_safetensors": {"path": lambda: _safetensors_file(_decoder, "decoder")},
    "count_parameters": {"config": lambda: TINY_GPT},
    "parameter_breakdown": {"config": lambda: TINY_GPT},
    "Recording.load": {"path": lambda: _A_RECORDING},
    "RecordingStore.put": {"recording": lambda: _instance("Recording")},
    "tiled_attention": {"block_size": lambda: 2},
    "MultiHeadAttention.attend": {"context": lambda: None},  # with the cache: self-attention
    "MultiHeadAttention.__call__": {"context": lambda: None},
    "LatentAttention.attend": {"cache": llmarch.LatentCache},
    "LatentAttention.__call__": {"cache": llmarch.LatentCache},
    "LatentAttention.forward": {"cache": llmarch.LatentCache},
}

# Layers with a backward pass: one instance each, called once on VALUES["x"] while a Tape recorded,
# so that ``backward(grad_output, tape)`` has the record of the very instance it is called on.
_RECORDED: dict[str, tuple[Any, Any]] = {}


def _recorded(class_name: str) -> tuple[Any, Any]:
    if class_name not in _RECORDED:
        if class_name == "DecoderBlock":
            layer = _decoder().blocks[0]
        else:
            cls = getattr(llmarch, class_name)
            layer = cls.init(**valid_arguments(f"{class_name}.init", _signature_parameters(cls.init, False)))
        with llmarch.Tape() as tape:
            layer(VALUES["x"]())
        _RECORDED[class_name] = (layer, tape)
    return _RECORDED[class_name]


_BACKWARD_LAYERS = ("LayerNorm", "RMSNorm", "FeedForward", "SwiGLU", "MultiHeadAttention", "DecoderBlock")
OVERRIDES |= {f"{name}.backward": {"tape": lambda name=name: _recorded(name)[1]} for name in _BACKWARD_LAYERS}

# Instances of classes without an ``init`` (or whose ``init`` needs more than names give).
INSTANCES: dict[str, Callable[[], Any]] = {
    "GPT": _gpt,
    "GPTConfig": lambda: TINY_GPT,
    "Decoder": _decoder,
    **{name: lambda name=name: _recorded(name)[0] for name in _BACKWARD_LAYERS},
    "DecoderConfig": lambda: TINY_DECODER,
    "RopeScaling": lambda: llmarch.RopeScaling(factor=8.0, original_n_positions=16),
    "Transformer": lambda: llmarch.Transformer.init(TINY_TRANSFORMER, _rng()),
    "TransformerConfig": lambda: TINY_TRANSFORMER,
    "KVCache": lambda: llmarch.KVCache(),
    "LatentCache": lambda: llmarch.LatentCache(),
    "LatentAttention": _latent_attention,
    "Router": lambda: llmarch.Router(_randn(8, 4), 2),
    "CharTokenizer": lambda: llmarch.CharTokenizer.from_text("hello world"),
    "SlidingWindowAttention": lambda: llmarch.SlidingWindowAttention(llmarch.MultiHeadAttention.init(8, 2, _rng()), 2),
    "LLMConnector": lambda: llmarch.llm.LLMConnector(mode="replay", recordings=PACKAGE_RECORDINGS),
    "RecordingStore": lambda: llmarch.llm.RecordingStore(_RECORDINGS),
    "Recording": lambda: llmarch.llm.Recording.load(_A_RECORDING),
    "CheckReport": lambda: llmarch.llm.LLMConnector(mode="replay", recordings=PACKAGE_RECORDINGS).check(),
    "Completion": lambda: llmarch.llm.LLMConnector(mode="replay", recordings=PACKAGE_RECORDINGS).complete(SEED_PROMPT),
}

# Public names that are not entry points, each with why (kept out on purpose, not by accident).
EXCLUDED: dict[str, str] = {
    "llm.CheckReport": "the record LLMConnector.check() returns; its fields are not arguments a user passes",
    "llm.Completion": "the record LLMConnector.complete() returns; its fields are not arguments a user passes",
    "Routing": "the record Router returns; its fields are not arguments a user passes",
}

# ---------------------------------------------------------------- what fails today, and whose it is
# "<target>:<parameter>:<kind>|<kind>|..." (each part an fnmatch pattern) -> the owner who will fix
# it. Shrink this list as fixes land: a listed kind that no longer fails fails the test. Empty:
# every public callable passes.
KNOWN_FAILURES: dict[str, str] = {}


# ---------------------------------------------------------------- the targets
@dataclasses.dataclass(frozen=True)
class Target:
    name: str  # "softmax", "GPT.generate", "llm.LLMConnector", ...
    qualname: str  # the key of OVERRIDES and of the messages: "GPT.generate", "LLMConnector"
    call: Callable[..., Any]  # takes keyword arguments; builds a fresh instance for a method
    parameters: tuple[inspect.Parameter, ...]
    llm: bool


def _public_names() -> list[tuple[str, Any, bool]]:
    found = [(name, getattr(llmarch, name), False) for name in llmarch.__all__]
    found += [(name, getattr(llmarch.llm, name), True) for name in llmarch.llm.__all__]
    return found


def _signature_parameters(function: Any, drop_first: bool) -> tuple[inspect.Parameter, ...]:
    parameters = list(inspect.signature(function).parameters.values())
    if drop_first:
        parameters = parameters[1:]
    return tuple(p for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))


def _instance(class_name: str) -> Any:
    """A fresh, valid instance of a public class."""
    if class_name in INSTANCES:
        return INSTANCES[class_name]()
    cls = getattr(llmarch, class_name, None) or getattr(llmarch.llm, class_name)
    if hasattr(cls, "init"):
        return cls.init(**valid_arguments(f"{class_name}.init", _signature_parameters(cls.init, False)))
    raise LookupError(f"no way to build a valid {class_name}: add it to INSTANCES")


def targets() -> list[Target]:
    found: list[Target] = []
    for name, obj, is_llm in _public_names():
        prefix = "llm." if is_llm else ""
        if not callable(obj) or (inspect.isclass(obj) and issubclass(obj, BaseException)):
            continue  # constants (MODES) and exception classes: nothing to call with arguments
        if not inspect.isclass(obj):
            found.append(Target(prefix + name, name, obj, _signature_parameters(obj, False), is_llm))
            continue
        found.append(Target(prefix + name, name, obj, _signature_parameters(obj, False), is_llm))
        for attribute, raw in vars(obj).items():
            if attribute.startswith("_") and attribute != "__call__":
                continue
            qualname = f"{name}.{attribute}"
            if isinstance(raw, (classmethod, staticmethod)):
                function = getattr(obj, attribute)
                found.append(
                    Target(prefix + qualname, qualname, function, _signature_parameters(function, False), is_llm)
                )
            elif inspect.isfunction(raw):

                def method(_cls_name: str = name, _attribute: str = attribute, **kwargs: Any) -> Any:
                    return getattr(_instance(_cls_name), _attribute)(**kwargs)

                found.append(Target(prefix + qualname, qualname, method, _signature_parameters(raw, True), is_llm))
    return found


def valid_arguments(qualname: str, parameters: tuple[inspect.Parameter, ...]) -> dict[str, Any]:
    """Valid keyword arguments for a call, by parameter name (OVERRIDES first, then VALUES)."""
    owner = qualname.split(".")[0]
    fields = {}
    if qualname == owner and dataclasses.is_dataclass(getattr(llmarch, owner, None) or getattr(llmarch.llm, owner)):
        instance = _instance(owner)  # a constructor: the fields of a valid instance
        fields = {f.name: getattr(instance, f.name) for f in dataclasses.fields(instance) if f.init}
    arguments: dict[str, Any] = {}
    for parameter in parameters:
        special = OVERRIDES.get(qualname, {})
        if parameter.name in special:
            arguments[parameter.name] = special[parameter.name]()
        elif parameter.name in fields:
            arguments[parameter.name] = fields[parameter.name]
        elif parameter.name in VALUES:
            arguments[parameter.name] = VALUES[parameter.name]()
        elif parameter.default is not parameter.empty:
            arguments[parameter.name] = parameter.default
        else:
            raise LookupError(
                f"no valid value for parameter {parameter.name!r} of {qualname}: add one to VALUES "
                "(or to OVERRIDES, if the name means something else there) in tests/test_bad_input_property.py"
            )
    return arguments


# ---------------------------------------------------------------- malformed values, by the kind of a valid one
def _with_one(array: np.ndarray, value: Any, draw: Callable[[Any], Any]) -> np.ndarray:
    out = array.astype(np.float64).copy()
    if out.size:
        out.flat[draw(st.integers(0, out.size - 1))] = value
    return out


HUGE = st.sampled_from([10**30, 2**63, 2**64 + 1])
NEGATIVE = st.integers(-(10**6), -1)


def malformed_kinds(valid: Any, parameter: inspect.Parameter) -> dict[str, Callable[[Callable[[Any], Any]], Any]]:
    """The kinds of malformed value that fit ``valid``; each maps a hypothesis ``draw`` to one value."""
    kinds: dict[str, Callable[[Callable[[Any], Any]], Any]] = {}
    if parameter.default is not None:
        kinds["None"] = lambda draw: None
    if isinstance(valid, np.ndarray) and valid.dtype == np.bool_:
        kinds.update(
            float=lambda draw: valid.astype(np.float64),
            wrong_shape=lambda draw: valid[..., : max(valid.shape[-1] - 1, 0)][..., None, :],
            str=lambda draw: np.full(valid.shape, "a"),
        )
    elif isinstance(valid, np.ndarray) and valid.dtype.kind in "iu":
        kinds.update(
            float=lambda draw: valid.astype(np.float64) + 0.5,
            negative=lambda draw: np.where(np.arange(valid.size) == 0, draw(NEGATIVE), valid),
            huge=lambda draw: np.where(np.arange(valid.size) == 0, np.iinfo(np.int64).max, valid),
            nan=lambda draw: _with_one(valid, np.nan, draw),
            empty=lambda draw: valid[:0],
            rank_2=lambda draw: valid[None, :],
            scalar=lambda draw: valid[0],
            str=lambda draw: np.array([str(i) for i in valid]),
            object=lambda draw: np.array([10**30, *valid.tolist()[1:]], dtype=object),
        )
    elif isinstance(valid, np.ndarray):
        kinds.update(
            scalar=lambda draw: np.float64(draw(st.floats(-2, 2))),
            rank_minus=lambda draw: valid[..., 0],
            rank_plus=lambda draw: valid[(None,) * draw(st.integers(1, 2))],
            complex=lambda draw: valid.astype(np.complex128),
            object=lambda draw: np.array(valid.tolist(), dtype=object),
            str=lambda draw: np.full(valid.shape, "a"),
            nan=lambda draw: _with_one(valid, np.nan, draw),
            inf=lambda draw: _with_one(valid, draw(st.sampled_from([np.inf, -np.inf])), draw),
            empty_first=lambda draw: valid[:0],
            empty_last=lambda draw: valid[..., :0],
            ragged=lambda draw: [[1.0], [1.0, 2.0]],
            text=lambda draw: "abc",
        )
    elif isinstance(valid, bool):
        kinds.update(text=lambda draw: "yes", number=lambda draw: 2, nan=lambda draw: math.nan)
    elif isinstance(valid, int):
        kinds.update(
            negative=lambda draw: draw(NEGATIVE),
            huge=lambda draw: draw(HUGE),
            fraction=lambda draw: draw(st.floats(0.1, 0.9)) + valid,
            text=lambda draw: str(valid),
            nan=lambda draw: math.nan,
            bool=lambda draw: True,
        )
    elif isinstance(valid, float):
        kinds.update(
            nan=lambda draw: math.nan,
            inf=lambda draw: draw(st.sampled_from([math.inf, -math.inf])),
            negative=lambda draw: -abs(valid) - draw(st.floats(0.5, 10)),
            zero=lambda draw: 0.0,
            huge=lambda draw: 1e308,
            text=lambda draw: "x",
            complex=lambda draw: 1j,
        )
    elif isinstance(valid, str):
        kinds.update(empty=lambda draw: "", bogus=lambda draw: "bogus-\x00-value", number=lambda draw: 5)
    elif isinstance(valid, np.random.Generator):
        kinds.update(text=lambda draw: "seed", negative=lambda draw: -1, fraction=lambda draw: 1.5)
    elif isinstance(valid, type) and issubclass(valid, np.generic):
        kinds.update(
            int=lambda draw: np.int32,
            complex=lambda draw: np.complex128,
            text=lambda draw: "float",
            object=lambda draw: object,
        )
    elif isinstance(valid, Path):
        kinds.update(
            missing=lambda draw: _SCRATCH / "no-such-file",
            folder=lambda draw: _SCRATCH,
            number=lambda draw: 5,
        )
    elif isinstance(valid, Mapping):
        kinds.update(
            empty=lambda draw: {},
            text=lambda draw: "x",
            bogus_key=lambda draw: {**valid, "bogus": 1},
        )
        arrays = [key for key, value in valid.items() if isinstance(value, np.ndarray)]
        if arrays:
            kinds["nan_entry"] = lambda draw: {**valid, arrays[0]: np.full_like(valid[arrays[0]], np.nan, dtype=float)}
            kinds["wrong_shape_entry"] = lambda draw: {**valid, arrays[0]: valid[arrays[0]][..., :1]}
    elif isinstance(valid, tuple):
        kinds.update(one=lambda draw: valid[:1], text=lambda draw: ("a", "b"), array=lambda draw: np.zeros(8))
    elif isinstance(valid, list):
        kinds.update(empty=lambda draw: [], text=lambda draw: "x", nones=lambda draw: [None])
    elif callable(valid):
        kinds.update(
            notcallable=lambda draw: "notcallable",
            narrower=lambda draw: lambda h: h[..., :1],
            returns_none=lambda draw: lambda h: None,
            returns_nan=lambda draw: lambda h: np.full_like(h, np.nan),
        )
    else:  # None (an optional argument) and other objects
        kinds.update(text=lambda draw: "x", number=lambda draw: 5, object=lambda draw: object())
    return kinds


# ---------------------------------------------------------------- judging one call
class _Hang(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Hang


def _not_finite(value: Any, seen: set[int] | None = None) -> str | None:
    """Where ``value`` holds NaN or infinity, or None."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return None
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            return f"an array {value.shape} with NaN or infinity"
        if value.dtype.kind == "O":
            return next((w for w in (_not_finite(v, seen) for v in value.flat) if w), None)
        return None
    if isinstance(value, (float, complex, np.floating, np.complexfloating)):
        return None if np.isfinite(value) else f"the number {value!r}"
    if isinstance(value, (list, tuple)):
        return next((w for w in (_not_finite(v, seen) for v in value) if w), None)
    if isinstance(value, Mapping):
        return next((w for w in (_not_finite(v, seen) for v in value.values()) if w), None)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            where = _not_finite(getattr(value, field.name, None), seen)
            if where:
                return f"{field.name}: {where}"
    return None


def _names(message: str, parameter: str, value: Any) -> bool:
    words = [parameter, parameter.replace("_", " ")]
    if isinstance(value, (str, Path)) and str(value):
        words.append(str(value))
    return any(re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", message) for w in words)


def _shown(value: Any) -> str:
    """A one-line description of a malformed value, for the report."""
    if isinstance(value, np.ndarray):
        return f"array shape {value.shape} dtype {value.dtype}"
    return " ".join(repr(value).split())[:80]


def judge(target: Target, parameter: str, value: Any) -> str | None:
    """Call ``target`` with ``parameter`` malformed; None if the outcome is allowed, else what went wrong."""
    arguments = valid_arguments(target.qualname, target.parameters)
    arguments[parameter] = value
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(CALL_SECONDS)
    try:
        result = target.call(**arguments)
    except _Hang:
        return f"no answer within {CALL_SECONDS} s"
    except (TypeError, ValueError, LLMError, OSError) as exc:
        allowed = isinstance(exc, (TypeError, ValueError)) or (target.llm and isinstance(exc, LLMError))
        allowed = allowed or (isinstance(exc, OSError) and isinstance(value, (str, Path)))
        if not allowed:
            return f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
        if not _names(str(exc), parameter, value):
            return f"{type(exc).__name__} not naming {parameter!r}: {' '.join(str(exc).split())[:160]}"
        return None
    except Exception as exc:  # anything else is the kind of error this test exists to find
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    where = _not_finite(result)
    return f"returned {where}" if where else None


# ---------------------------------------------------------------- the tests
TARGETS = targets()


def _known(target: Target) -> dict[str, str]:
    return {p: owner for p, owner in KNOWN_FAILURES.items() if fnmatch.fnmatchcase(target.name, p.split(":")[0])}


def collect_failures(target: Target) -> dict[str, str]:
    """Every failing ``"<target>:<parameter>:<kind>"`` case of ``target``, with what went wrong."""
    baseline = valid_arguments(target.qualname, target.parameters)
    try:
        target.call(**valid_arguments(target.qualname, target.parameters))
    except Exception as exc:
        pytest.fail(f"{target.name} fails on the valid arguments {sorted(baseline)}: {type(exc).__name__}: {exc}")
    combos = [
        (parameter.name, kind, make)
        for parameter in target.parameters
        for kind, make in malformed_kinds(baseline[parameter.name], parameter).items()
    ]
    failures: dict[str, str] = {}

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def run(data):
        for parameter, kind, make in combos:
            case = f"{target.name}:{parameter}:{kind}"
            value = make(data.draw)  # drawn every time, so that each example draws alike
            if case in failures:
                continue  # one failure of a case is enough to report
            problem = judge(target, parameter, value)
            if problem:
                failures[case] = f"{problem}  [value {_shown(value)}]"

    run()
    return failures


def _matches(case: str, pattern: str) -> bool:
    """``case`` is ``target:parameter:kind``; ``pattern`` the same, its kind part ``a|b|c`` (fnmatch each)."""
    target, parameter, kinds = pattern.split(":")
    case_target, case_parameter, case_kind = case.split(":")
    return (
        fnmatch.fnmatchcase(case_target, target)
        and fnmatch.fnmatchcase(case_parameter, parameter)
        and any(fnmatch.fnmatchcase(case_kind, kind) for kind in kinds.split("|"))
    )


def _known(target: Target) -> dict[str, str]:
    """The KNOWN_FAILURES entries of ``target``, one per kind: ``target:parameter:kind`` -> owner."""
    known = {}
    for pattern, owner in KNOWN_FAILURES.items():
        name, parameter, kinds = pattern.split(":")
        if fnmatch.fnmatchcase(target.name, name):
            known.update({f"{name}:{parameter}:{kind}": owner for kind in kinds.split("|")})
    return known


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_malformed_arguments_get_a_clear_error_or_a_finite_result(target):
    if target.name in EXCLUDED:
        pytest.skip(EXCLUDED[target.name])
    if not target.parameters:
        pytest.skip(f"{target.name} takes no arguments")
    failures = collect_failures(target)
    known = _known(target)
    unexpected = {case: why for case, why in failures.items() if not any(_matches(case, p) for p in known)}
    stale = [p for p in known if not any(_matches(case, p) for case in failures)]
    report = [f"  {case}: {why}" for case, why in sorted(unexpected.items())]
    report += [f"  {p}: listed in KNOWN_FAILURES ({known[p]}) but now passes: remove it" for p in stale]
    assert not report, f"{target.name}:\n" + "\n".join(report)


def test_every_known_failure_and_exclusion_names_a_callable_that_exists():
    names = [t.name for t in TARGETS]
    missing = [p for p in KNOWN_FAILURES if not any(fnmatch.fnmatchcase(n, p.split(":")[0]) for n in names)]
    assert all(p.count(":") == 2 for p in KNOWN_FAILURES), "each entry is <target>:<parameter>:<kind>|<kind>..."
    assert not missing, f"KNOWN_FAILURES entries for callables that no longer exist: {missing}"
    assert set(EXCLUDED) <= set(names), f"EXCLUDED names that no longer exist: {set(EXCLUDED) - set(names)}"
