r"""Token embedding: from text to ids to vectors.

A tokenizer cuts text into pieces and numbers them; the embedding is a table with one
learned row per id, and looking a token up is just indexing that table:

$$x_t = E[\,\text{id}_t\,], \qquad E \in \mathbb{R}^{V \times d_\text{model}}$$

Real models cut text into sub-word pieces (GPT-2: 50,257 byte-level BPE tokens); the
character tokenizer here has the same interface and is small enough to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmarch._validate import as_float_array, as_generator, check_size, random_normal

__all__ = ["CharTokenizer", "TokenEmbedding", "embedding_backward"]

Array = NDArray[np.floating[Any]]


def check_token_ids(name: str, ids: ArrayLike, vocab_size: int) -> NDArray[np.int64]:
    """Return ``ids`` as an int64 array, checking it holds integers in ``[0, vocab_size)``."""
    array = np.asarray(ids)
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise TypeError(f"{name} must be an array of integer token ids; got dtype {array.dtype}")
    array = array.astype(np.int64, copy=False)
    if array.size and (array.min() < 0 or array.max() >= vocab_size):
        bad = array[(array < 0) | (array >= vocab_size)]
        raise ValueError(f"{name} must lie in [0, {vocab_size - 1}] (vocab_size = {vocab_size}); got {bad[0]}")
    return array


def embedding_backward(ids: NDArray[np.int64], grad: Array, vocab_size: int) -> Array:
    r"""Gradient of an embedding table from the gradients of the rows looked up: a scatter-add.

    $$\bar E_v = \sum_{t:\ \text{ids}_t = v} \bar x_t$$

    Row $v$ collects the gradient of every position that read it; rows no position read
    get zero.

    Parameters
    ----------
    ids : numpy.ndarray of int, shape (...)
    grad : numpy.ndarray, shape (..., d)
        $\bar x = \partial L / \partial E[\text{ids}]$.
    vocab_size : int

    Returns
    -------
    numpy.ndarray, shape (vocab_size, d)
    """
    out = np.zeros((vocab_size, grad.shape[-1]), dtype=grad.dtype)
    np.add.at(out, ids.reshape(-1), grad.reshape(-1, grad.shape[-1]))
    return out


@dataclass(frozen=True)
class CharTokenizer:
    """A character-level tokenizer: one id per distinct character.

    Build it from a text with [`from_text`][llmarch.CharTokenizer.from_text]; the ids are
    the positions of the characters in the sorted vocabulary, so the same text always gives
    the same ids.

    Attributes
    ----------
    chars : tuple of str
        The vocabulary; ``chars[i]`` is the character with id ``i``.

    Examples
    --------
    >>> tok = CharTokenizer.from_text("hello world")
    >>> tok.encode("hello")
    array([3, 2, 4, 4, 5])
    >>> tok.decode([7, 5, 6, 4, 1])
    'world'
    """

    chars: tuple[str, ...]

    def __post_init__(self) -> None:
        if isinstance(self.chars, str) or not hasattr(self.chars, "__iter__"):
            raise TypeError(f"chars must be a sequence of single characters; got {type(self.chars).__name__}")
        chars = tuple(self.chars)
        if not all(isinstance(c, str) and len(c) == 1 for c in chars):
            raise TypeError(f"chars must be single characters; got {chars!r}")
        if len(set(chars)) != len(chars):
            raise ValueError(f"chars must be distinct; got {chars!r}")
        if not chars:
            raise ValueError("chars must hold at least one character; got an empty vocabulary")
        object.__setattr__(self, "chars", chars)

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """The tokenizer whose vocabulary is the distinct characters of ``text``, sorted."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {type(text).__name__}")
        if not text:
            raise ValueError("text must hold at least one character; got an empty string")
        return cls(tuple(sorted(set(text))))

    @property
    def vocab_size(self) -> int:
        """Number of distinct ids $V$."""
        return len(self.chars)

    def encode(self, text: str) -> NDArray[np.int64]:
        """Ids of the characters of ``text``, shape ``(len(text),)``, dtype int64.

        Raises
        ------
        ValueError
            If ``text`` has a character outside the vocabulary (naming it and its position).
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {type(text).__name__}")
        index = {c: i for i, c in enumerate(self.chars)}
        for position, c in enumerate(text):
            if c not in index:
                raise ValueError(
                    f"text has the character {c!r} at position {position}, which is not in the vocabulary "
                    f"{''.join(self.chars)!r}"
                )
        return np.array([index[c] for c in text], dtype=np.int64)

    def decode(self, ids: ArrayLike) -> str:
        """The text of a 1-D sequence of ids (the inverse of [`encode`][llmarch.CharTokenizer.encode])."""
        array = check_token_ids("ids", ids, self.vocab_size)
        if array.ndim != 1:
            raise ValueError(f"ids must be 1-D (n,); got shape {array.shape}")
        return "".join(self.chars[i] for i in array)


@dataclass
class TokenEmbedding:
    r"""The embedding table: one learned vector per token id.

    $$\mathrm{Embed}(\text{ids})_t = E[\,\text{id}_t\,]$$

    GPT-2 reuses the same table, transposed, as its output layer ("tied" weights):
    $\text{logits} = h\,E^\top$.

    Attributes
    ----------
    weight : numpy.ndarray, shape (vocab_size, d_model)
        The table $E$; row $i$ is the vector of token $i$.
    """

    weight: Array

    def __post_init__(self) -> None:
        self.weight = as_float_array("weight", self.weight, ndim=2, layout="(vocab_size, d_model)")
        if self.weight.shape[0] == 0:
            raise ValueError(f"weight must have at least one row (vocab_size >= 1); got shape {self.weight.shape}")

    @classmethod
    def init(
        cls,
        vocab_size: int,
        d_model: int,
        rng: np.random.Generator | None = None,
        *,
        std: float = 0.02,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> TokenEmbedding:
        """Random table drawn from $\\mathcal{N}(0, \\mathrm{std}^2)$ (GPT-2's init)."""
        vocab_size = check_size("vocab_size", vocab_size, minimum=1)
        d_model = check_size("d_model", d_model, minimum=1)
        rng = as_generator("rng", rng)
        return cls(random_normal(rng, (vocab_size, d_model), std, dtype, "vocab_size, d_model"))

    @property
    def vocab_size(self) -> int:
        """Number of rows $V$."""
        return int(self.weight.shape[0])

    @property
    def d_model(self) -> int:
        """Length of each vector."""
        return int(self.weight.shape[1])

    def __call__(self, ids: ArrayLike) -> Array:
        """Look up ``ids`` of any shape ``(...)``; returns shape ``(..., d_model)``.

        Raises
        ------
        TypeError
            If ``ids`` are not integers.
        ValueError
            If an id is negative or not below ``vocab_size``.
        """
        return self.weight[check_token_ids("ids", ids, self.vocab_size)]
