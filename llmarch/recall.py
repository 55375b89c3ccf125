r"""Long-range tasks for RNN, LSTM and transformer alike: recall what came $k$ positions earlier.

Two tasks, each a sequence with one question at the end whose answer lies $k$ positions back:

- [`MarkerRecall`][llmarch.recall.MarkerRecall]: random *values*, one *marker* somewhere, a
  *query* at the end; the answer is the value right after the marker. One thing to carry
  over $k$ steps while noise keeps arriving: the vanishing-gradient test.

      5 1 7 M 3 0 6 2 ... 4 1 Q   ->   3

- [`KeyValueRecall`][llmarch.recall.KeyValueRecall]: a stream of key-value pairs (every key
  once), then the query token and one of the keys; the answer is that key's value. The model
  cannot know which pair will be asked, so it must keep them all: attention looks the key up
  (the "weighted lookup" of the first page), a recurrent state has a fixed size to hold them.

      k7 v2 k3 v5 k9 v1 ... k4 v6 Q k3   ->   v5

The distance $k$ is how many positions separate the answer from the last token. A model does
well at distance $k$ only if what it saw $k$ steps ago still reaches its output: a recurrent
layer has to carry it through $k$ state updates, self-attention can reach it in one step.

Training sequences draw $k$ log-uniformly from the shortest to the longest distance (every
scale, from a few positions to a few hundred, equally common); batch $s$ is a function of the
seed and $s$ only. [`accuracy_by_distance`][llmarch.recall.RecallTask.accuracy_by_distance]
measures the share of right answers at fixed distances on sequences the model never saw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from llmarch._validate import check_size
from llmarch.training import cross_entropy

__all__ = ["KeyValueRecall", "MarkerRecall", "RecallTask"]

Logits = Callable[[NDArray[np.int64]], NDArray[np.floating[Any]]]
Batch = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]


class RecallTask:
    """What both tasks share: sampling by seed and step, the distances reported, the evaluation."""

    length: int
    min_distance: ClassVar[int] = 1  # the shortest distance a sequence can have
    distance_step: ClassVar[int] = 1  # distances come in steps of this

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    @property
    def max_distance(self) -> int:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, batch_size: int, distance: int | None = None) -> Batch:
        """``batch_size`` sequences: ``tokens (batch, length)``, ``targets (batch,)``, ``distances (batch,)``.

        With ``distance`` given every sequence has it; otherwise each draws its own, log-uniformly.
        """
        raise NotImplementedError

    def _distances(self, rng: np.random.Generator, batch_size: int, distance: int | None) -> NDArray[np.int64]:
        lo, hi, unit = self.min_distance, self.max_distance, self.distance_step
        if distance is not None:
            check_size("distance", distance, minimum=lo)
            if distance > hi or (distance - lo) % unit:
                raise ValueError(
                    f"distance must be one of {lo}, {lo + unit}, ..., {hi} (the longest, set by length); got {distance}"
                )
            return np.full(batch_size, distance)
        k = np.exp(rng.uniform(np.log(lo), np.log(hi + unit), size=batch_size)).astype(np.int64)
        return np.clip(lo + (k - lo) // unit * unit, lo, hi)

    def batch(self, seed: int, step: int, batch_size: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Training batch ``step``: ``(tokens, targets)``, drawn from ``np.random.default_rng([seed, step])``."""
        tokens, targets, _ = self.sample(np.random.default_rng([seed, step]), batch_size)
        return tokens, targets

    def distances(self) -> list[int]:
        """The distances reported: the powers of 2 from the shortest distance on, and the longest."""
        powers = [2**i for i in range(self.max_distance.bit_length()) if self.min_distance <= 2**i < self.max_distance]
        return [d for d in powers if (d - self.min_distance) % self.distance_step == 0] + [self.max_distance]

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


@dataclass(frozen=True)
class MarkerRecall(RecallTask):
    """Recall the value after the marker: ``length`` tokens per sequence, answers among ``n_values`` values.

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
        """The longest distance: marker first, value second, query last."""
        return self.length - 2

    def sample(self, rng: np.random.Generator, batch_size: int, distance: int | None = None) -> Batch:
        k = self._distances(rng, batch_size, distance)
        tokens = rng.integers(0, self.n_values, size=(batch_size, self.length))
        rows, answer_at = np.arange(batch_size), self.length - 1 - k
        tokens[rows, answer_at - 1] = self.marker
        tokens[:, -1] = self.query
        return tokens, tokens[rows, answer_at].copy(), k


@dataclass(frozen=True)
class KeyValueRecall(RecallTask):
    """Look a key up: ``(length - 2) / 2`` key-value pairs, then the query token and one key; answer its value.

    Keys are ids ``0 .. n_keys - 1`` (each at most once per sequence), values the next
    ``n_values`` ids, the query token the last id. The answer sits ``k`` positions before the
    last token, ``k`` even, from 2 to ``length - 2``.

    Attributes
    ----------
    n_keys : int
        Number of distinct keys; at least the number of pairs.
    n_values : int
        Number of distinct values (chance accuracy is ``1 / n_values``).
    length : int
        Tokens per sequence (even): the pairs, the query token and the key asked for.
    """

    n_keys: int = 128
    n_values: int = 16
    length: int = 256
    min_distance: ClassVar[int] = 2
    distance_step: ClassVar[int] = 2

    def __post_init__(self) -> None:
        check_size("length", self.length, minimum=4)
        if self.length % 2:
            raise ValueError(f"length must be even (pairs, then the query token and a key); got {self.length}")
        check_size("n_values", self.n_values, minimum=2)
        check_size("n_keys", self.n_keys, minimum=self.pairs)

    @property
    def pairs(self) -> int:
        """Key-value pairs per sequence: ``(length - 2) / 2``."""
        return (self.length - 2) // 2

    @property
    def vocab_size(self) -> int:
        """Keys, values and the query token."""
        return self.n_keys + self.n_values + 1

    @property
    def query(self) -> int:
        """Id of the query token (second to last in every sequence)."""
        return self.n_keys + self.n_values

    @property
    def max_distance(self) -> int:
        """The longest distance: the first pair's value, ``length - 2`` positions before the last token."""
        return self.length - 2

    def sample(self, rng: np.random.Generator, batch_size: int, distance: int | None = None) -> Batch:
        k = self._distances(rng, batch_size, distance)
        keys = rng.permuted(np.tile(np.arange(self.n_keys), (batch_size, 1)), axis=1)[:, : self.pairs]
        values = rng.integers(self.n_keys, self.n_keys + self.n_values, size=(batch_size, self.pairs))
        asked = (self.length - 2 - k) // 2  # the pair whose value lies k positions before the last token
        rows = np.arange(batch_size)
        tokens = np.empty((batch_size, self.length), dtype=np.int64)
        tokens[:, 0:-2:2], tokens[:, 1:-2:2] = keys, values
        tokens[:, -2], tokens[:, -1] = self.query, keys[rows, asked]
        return tokens, values[rows, asked].copy(), k
