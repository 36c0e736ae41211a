"""Notebook 07's texts, all offline: Jane Austen's novels and three of Shakespeare's plays, as characters.

The files ship in data/text/ (rebuilt by `make corpus`; sources and licences in data/README.md).
Every load checks the file's SHA-256, so a damaged text stops the lesson with a message instead
of quietly training on something else. Characters are the tokens: a fixed alphabet of the 95
printable ASCII characters and the newline, each mapped to an integer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from helpers.core import DATA_DIR, DataError

TEXT_DIR = DATA_DIR / "text"
ALPHABET = "\n" + "".join(chr(code) for code in range(32, 127))  # 96 characters: the model's vocabulary
VOCAB_SIZE = len(ALPHABET)
_INDEX = {character: index for index, character in enumerate(ALPHABET)}

# Expected SHA-256 of each shipped file (data/README.md says where each comes from).
WORKS = {
    "austen-emma.txt": "d561b32b7a1a8684e6b99cdc00fd18cbed08e978fff110204393f3c65588956b",
    "austen-pride-and-prejudice.txt": "a248e677fbc0cb2243c239d5eb3814a2bdc20350155489829babe83818c44b65",
    "austen-persuasion.txt": "c34e4231331da15a9506e9c0b85d4d7ab7ea124fa373de92b7c3f5c07c7ae711",
    "austen-northanger-abbey.txt": "575bb8fcc2fe6d71c0a33f6b5fe071e0b59e23a46343c53f1fb8a94535dfd659",
    "shakespeare-macbeth.txt": "3de0d2886ae5020a3ddf89feacd9f57c8e9c98906986afbc6b358a5f1546da7e",
    "shakespeare-hamlet.txt": "230036ca476b291d2b727ad5788054a04a972b8bd8ea439e6c877fe95b052bdb",
    "shakespeare-twelfth-night.txt": "9be132f04abf938d33f749e9f4036e7d3ee6a95b46e16916edb38e424d327eb0",
}
PRETRAINING_WORKS = ("austen-pride-and-prejudice.txt", "austen-emma.txt")
HELD_OUT_FRACTION = 0.1  # the last 10% of a text is never trained on: held-out loss is measured there


def sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_text(name: str, folder: Path = TEXT_DIR) -> str:
    """One shipped work, checked against its SHA-256."""
    if name not in WORKS:
        raise DataError(f"Unknown text {name!r}; the texts are {sorted(WORKS)}.")
    path = folder / name
    restore = "restore it with `git checkout -- data/text/` or rebuild it with `make corpus`"
    if not path.exists():
        raise DataError(f"{path} is missing; {restore}.")
    digest = sha256(path)
    if digest != WORKS[name]:
        raise DataError(f"{path} has SHA-256 {digest[:12]}..., expected {WORKS[name][:12]}...; {restore}.")
    return path.read_text(encoding="ascii")


def encode(characters: str) -> torch.Tensor:
    """Text -> (len,) int64 token ids, one per character."""
    unknown = sorted(set(characters) - set(_INDEX))
    if unknown:
        raise ValueError(
            f"characters outside the model's alphabet: {unknown!r}. It knows printable ASCII and newlines;"
            " replace the others first (for example curly quotes by straight ones)."
        )
    return torch.tensor([_INDEX[character] for character in characters], dtype=torch.long)


def decode(tokens: torch.Tensor | list[int]) -> str:
    """Token ids -> text."""
    return "".join(ALPHABET[int(token)] for token in tokens)


@dataclass(frozen=True)
class Split:
    """A text's tokens cut once: training tokens first, the held-out tail after."""

    train: torch.Tensor  # (N_train,) int64
    held_out: torch.Tensor  # (N_held_out,) int64


def split(characters: str, held_out_fraction: float = HELD_OUT_FRACTION) -> Split:
    """The first 90% for training, the last 10% held out (a contiguous tail, so no passage leaks across)."""
    tokens = encode(characters)
    cut = int(len(tokens) * (1 - held_out_fraction))
    return Split(tokens[:cut], tokens[cut:])


def pretraining_text() -> Split:
    """The pretraining corpus: each Austen novel split 90/10, trains and held-out tails concatenated."""
    parts = [split(read_text(name)) for name in PRETRAINING_WORKS]
    return Split(torch.cat([part.train for part in parts]), torch.cat([part.held_out for part in parts]))


def first_characters(tokens: torch.Tensor, size: int) -> torch.Tensor:
    """The first `size` training tokens: a target of that many characters (a budget, like k labels per class)."""
    if size > len(tokens):
        raise ValueError(f"asked for {size:,} characters but the text has only {len(tokens):,} to train on")
    return tokens[:size]


SPEAKER = re.compile(
    r"[A-Z][A-Za-z'.-]*( ([A-Z][A-Za-z'.-]*|&))*:"
)  # 'MACBETH:', 'First Witch:', 'MARCELLUS & BERNARDO:'


def without_speakers(characters: str) -> list[str]:
    """The lines of a text, less the speakers' names of a play: a line 'NAME:' that opens a paragraph.

    A verse line may end with a colon too ('That strain again! it had a dying fall:'), but never
    opens a speech, so only the first line of a paragraph is dropped.
    """
    kept, opens_paragraph = [], True
    for line in characters.splitlines():
        if not (opens_paragraph and SPEAKER.fullmatch(line)):
            kept.append(line)
        opens_paragraph = not line.strip()
    return kept


def snippets(characters: str, length: int) -> list[str]:
    """Consecutive non-overlapping snippets of `length` characters, whitespace collapsed, cut at word starts.

    Line breaks and speakers' names would give a work away by layout alone, so a snippet is
    only words: 'And fortune, on his damned quarrel smiling, Show'd like a rebel's'.
    """
    words = " ".join(line for line in without_speakers(characters)).split()
    out, current = [], ""
    for word in words:
        if len(current) + 1 + len(word) > length:
            if current:
                out.append(current.ljust(length))
            current = word[:length]
        else:
            current = f"{current} {word}" if current else word
    return out
