r"""What a forward pass keeps for the backward pass: the tape.

Backpropagation needs numbers the forward pass computed: a norm's normalised input and its
scale, attention's weights, a feed-forward network's hidden activations. Computing them
again would be a second copy of the forward pass, and keeping them on every call would
waste memory when nobody trains. So each layer's forward pass writes them down only while
a [`Tape`][llmarch.Tape] records, as PyTorch's autograd records its graph:

    with Tape() as tape:
        y = layer(x)                              # the ordinary forward pass, recorded
    grad_x, grads = layer.backward(grad_y, tape)  # reads what the forward pass kept

Each layer's ``backward`` (llm.c style: right under its forward, as short, the formula in
its docstring) takes $\bar y = \partial L / \partial y$ and returns $\bar x = \partial L /
\partial x$ and the gradient of every weight, keyed by the weight's attribute name.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array

__all__ = ["Tape", "recorded", "save_for_backward", "sum_rows"]

Array = NDArray[np.floating[Any]]

_RECORDING: ContextVar[Tape | None] = ContextVar("llmarch_tape", default=None)


class Tape:
    """Records, while it is entered (``with Tape() as tape:``), what each layer's backward pass needs.

    One record per layer object: a layer called twice while the same tape records is an
    error (its backward could only undo one of the calls). The records live as long as the
    tape; ``len(tape)`` counts them, ``layer in tape`` says whether one is there.
    """

    def __init__(self) -> None:
        self._records: dict[int, tuple[Any, SimpleNamespace]] = {}
        self._tokens: list[Token[Tape | None]] = []

    def __enter__(self) -> Tape:
        self._tokens.append(_RECORDING.set(self))
        return self

    def __exit__(self, *exc_info: object) -> None:
        _RECORDING.reset(self._tokens.pop())

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, layer: object) -> bool:
        entry = self._records.get(id(layer))
        return entry is not None and entry[0] is layer

    def __repr__(self) -> str:
        names = ", ".join(type(layer).__name__ for layer, _ in self._records.values())
        return f"Tape({len(self)} records: {names})"


def save_for_backward(layer: object, output: Array, **saved: Any) -> None:
    """While a [`Tape`][llmarch.Tape] records, keep ``saved`` for ``layer``'s backward pass (else do nothing).

    The output's shape and dtype are kept too: the backward pass checks the gradient it
    receives against them.
    """
    tape = _RECORDING.get()
    if tape is None:
        return
    if layer in tape:
        raise ValueError(
            f"{type(layer).__name__}: called twice while one Tape records; its backward pass can undo only one "
            "call (record each call on its own tape)"
        )
    tape._records[id(layer)] = (layer, SimpleNamespace(shape=output.shape, dtype=output.dtype, **saved))


def recorded(layer: object, tape: Tape, grad_output: ArrayLike) -> tuple[Array, SimpleNamespace]:
    """What ``layer`` kept on ``tape``, and ``grad_output`` checked against the output it recorded.

    Raises
    ------
    TypeError
        If ``tape`` is not a [`Tape`][llmarch.Tape] or ``grad_output`` is not a real array.
    ValueError
        If ``tape`` holds no record of ``layer`` or ``grad_output`` is not finite or not of
        the output's shape.
    """
    if not isinstance(tape, Tape):
        raise TypeError(f"tape must be the Tape that recorded the forward pass; got {type(tape).__name__}")
    if layer not in tape:
        raise ValueError(
            f"tape holds no record of this {type(layer).__name__}: call the layer inside `with tape:` first "
            "(a call with a KV cache is not recorded)"
        )
    record = tape._records[id(layer)][1]
    grad = as_float_array("grad_output", grad_output, layout=f"{record.shape} (the output's shape)")
    if grad.shape != record.shape:
        raise ValueError(f"grad_output must have the shape of the recorded output {record.shape}; got {grad.shape}")
    return grad.astype(record.dtype, copy=False), record


def sum_rows(a: Array) -> Array:
    """Sum over every axis but the last: ``(..., d)`` -> ``(d,)`` (the gradient of a bias or a gain)."""
    return a.reshape(-1, a.shape[-1]).sum(axis=0)
