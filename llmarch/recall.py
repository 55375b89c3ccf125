r"""A long-range task for RNN, LSTM and transformer alike: recall the token after the marker.

Each sequence is ``length`` random *values* (ids ``0 .. n_values - 1``) with one *marker*
placed somewhere and a *query* at the end. The answer is the value right after the marker:

    5 1 7 M 3 0 6 2 ... 4 1 Q   ->   3

The distance $k$ is how many positions separate that value from the query (here the
answer 3 is $k$ positions before Q). A model does well at distance $k$ only if what it saw
$k$ steps ago can still reach its output: a recurrent layer has to carry the value through
$k$ state updates while noise keeps arriving, self-attention can look it up directly.

Training sequences draw $k$ log-uniformly from $1$ to ``length - 2`` (every scale from a few
positions to a few hundred is equally common); batch $s$ is a function of the seed and $s$
only. [`accuracy_by_distance`][llmarch.recall.RecallTask.accuracy_by_distance] measures the
share of right answers at fixed distances on sequences the model never trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from llmarch._validate import check_size
from llmarch.training import cross_entropy

__all__ = ["RecallTask"]

Logits = Callable[[NDArray[np.int64]], NDArray[np.floating[Any]]]


@dataclass(frozen=True)
class RecallTask:
    """The marker-recall task: ``length`` tokens per sequence, answers among ``n_values`` values.

    Attributes
    ----------
    n_values : int
        Number of distinct values (chance accuracy is ``1 / n_values``).
    length : int
        Tokens per sequence, query included; distances run from 1 to ``length - 2``.
    """

    n_values: int = 8
    length: int = 256

    def __post_init__(self) -> None:
        check_size("n_values", self.n_values, minimum=2)
        check_size("length", self.length, minimum=3)

    @property
    def vocab_size(self) -> int:
        """Values, marker and query: ``n_values + 2``."""
        return self.n_values + 2

    @property
    def marker(self) -> int:
        """Id of the marker token (the value after it is the answer)."""
        return self.n_values

    @property
    def query(self) -> int:
        """Id of the query token (always the last one)."""
        return self.n_values + 1

    @property
    def max_distance(self) -> int:
        """The largest distance: marker first, value second, query last."""
        return self.length - 2

    def sample(
        self, rng: np.random.Generator, batch_size: int, distance: int | None = None
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """``batch_size`` sequences: ``tokens (batch, length)``, ``targets (batch,)``, ``distances (batch,)``.

        With ``distance`` given every sequence has it; otherwise each draws its own, log-uniformly.
        """
        if distance is None:
            k = np.exp(rng.uniform(0.0, np.log(self.max_distance + 1), size=batch_size)).astype(np.int64)
            k = np.clip(k, 1, self.max_distance)
        else:
            k = np.full(batch_size, check_size("distance", distance, minimum=1))
            if distance > self.max_distance:
                raise ValueError(f"distance must be at most length - 2 = {self.max_distance}; got {distance}")
        tokens = rng.integers(0, self.n_values, size=(batch_size, self.length))
        rows = np.arange(batch_size)
        answer_at = self.length - 1 - k
        tokens[rows, answer_at - 1] = self.marker
        tokens[:, -1] = self.query
        return tokens, tokens[rows, answer_at].copy(), k

    def batch(self, seed: int, step: int, batch_size: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Training batch ``step``: ``(tokens, targets)``, drawn from ``np.random.default_rng([seed, step])``."""
        tokens, targets, _ = self.sample(np.random.default_rng([seed, step]), batch_size)
        return tokens, targets

    def distances(self) -> list[int]:
        """The distances reported: 1, 2, 4, ... and the largest."""
        powers = [2**i for i in range(self.max_distance.bit_length()) if 2**i < self.max_distance]
        return [*powers, self.max_distance]

    def accuracy_by_distance(
        self,
        logits: Logits,
        distances: Sequence[int] | None = None,
        per_distance: int = 200,
        seed: int = 1,
    ) -> dict[int, float]:
        """Share of right answers (the argmax at the last position) at each distance, on fresh sequences.

        ``logits`` maps ``tokens (batch, length)`` to scores ``(batch, length, vocab_size)``.
        """
        rng = np.random.default_rng(seed)
        result = {}
        for k in self.distances() if distances is None else distances:
            tokens, targets, _ = self.sample(rng, per_distance, k)
            guesses = logits(tokens)[:, -1, :].argmax(axis=-1)
            result[int(k)] = float((guesses == targets).mean())
        return result

    def loss(self, logits: Logits, n_sequences: int = 512, seed: int = 2) -> float:
        """Mean cross-entropy of the answers on ``n_sequences`` fresh sequences (log-uniform distances)."""
        tokens, targets, _ = self.sample(np.random.default_rng(seed), n_sequences)
        loss, _ = cross_entropy(logits(tokens)[:, -1, :], targets)
        return loss
