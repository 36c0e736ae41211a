"""Datasets for the lessons, all offline: Fashion-MNIST and the printed letters from `data/`, scikit-learn's digits.

Every loader returns a `Dataset`: uint8 images (N, 28, 28), int64 labels (N,) and the
class names. Nothing here downloads; `python -m helpers.data download DIR` is the one
explicit way to fetch Fashion-MNIST from the internet (through torchvision).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from helpers.characters import LETTERS
from helpers.core import DATA_DIR, REPO_DIR, DataError, Dataset, atomic_path

REPO_DATA_DIR = DATA_DIR  # the copy that ships with the project
DEBIAN_DATA_DIR = Path("/usr/share/datasets/fashion-mnist")
DATA_DIR_VARIABLE = "TL_DATA_DIR"

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# SHA-256 of each file's *decompressed* content. Checking the content rather than the
# .gz bytes accepts every faithful copy (Zalando's, Debian's, torchvision's), whose gzip
# wrappers differ, and rejects any change to the images or labels themselves.
FASHION_FILES = {  # (split, part): (file name, SHA-256 of its decompressed content)
    ("train", "images"): (
        "train-images-idx3-ubyte.gz",
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    ("train", "labels"): (
        "train-labels-idx1-ubyte.gz",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    ("test", "images"): (
        "t10k-images-idx3-ubyte.gz",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    ("test", "labels"): (
        "t10k-labels-idx1-ubyte.gz",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
}

# The printed letters of the source task (helpers.characters made them; `make letters` rebuilds them).
# They ship because rendering differs in the last bits across Pillow versions and processors, and the
# shipped letter models were trained on exactly these bytes. Same format and checks as Fashion-MNIST.
LETTERS_DIR = REPO_DATA_DIR / "letters"
LETTER_FILES = {  # (split, part): (file name, SHA-256 of its decompressed content)
    ("train", "images"): (
        "letters-train-images-idx3-ubyte.gz",
        "eeaa708e5e5496aa46f98a585eb7d8ea92250f662028c32837f5cafd18e03d19",
    ),
    ("train", "labels"): (
        "letters-train-labels-idx1-ubyte.gz",
        "3c32317ec7697cda359158a5689de4d639aab77d9baa517ca0901e894da89e3d",
    ),
    ("test", "images"): (
        "letters-test-images-idx3-ubyte.gz",
        "035a1e05762351152812acc9393d5e50dec9157af3389e556e0def32e4de5929",
    ),
    ("test", "labels"): (
        "letters-test-labels-idx1-ubyte.gz",
        "dafc3366432ca3378af9715cac049e1ac86803f9bee59733612262400c05dae6",
    ),
}

# A same-world class split of Fashion-MNIST: clothes, and shoes and bags. Measured in this
# project, clothes features transfer weakly to shoes and bags (see data/README.md), so
# the main story pretrains on printed letters (helpers.characters) and transfers to digits.
CLOTHES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Shirt")
SHOES_AND_BAGS = ("Sandal", "Sneaker", "Bag", "Ankle boot")


# --- where the files are -----------------------------------------------------------


def data_dir(where: str | None = None) -> Path:
    """The folder to read Fashion-MNIST from: `where` ("debian" or a folder), else $TL_DATA_DIR, else data/."""
    if where is None:
        env = os.environ.get(DATA_DIR_VARIABLE)
        if not env:
            return REPO_DATA_DIR
        folder = Path(env).expanduser()
        if not folder.is_dir():
            raise DataError(
                f"${DATA_DIR_VARIABLE} is set to '{env}', which is not a folder. "
                f"Point it at a folder holding the four Fashion-MNIST .gz files, "
                f"or unset it to use the copy shipped in {REPO_DATA_DIR}."
            )
        return folder
    folder = DEBIAN_DATA_DIR if where == "debian" else Path(where).expanduser()
    if not folder.is_dir():
        hint = "install it with: apt-get install dataset-fashion-mnist" if where == "debian" else "check the path"
        raise DataError(f"Data folder '{folder}' does not exist; {hint}.")
    return folder


def _restore_command(path: Path) -> str:
    """`git checkout -- <folder>/` for a file shipped in the repository; data/ otherwise."""
    folder = path.resolve().parent
    shown = folder.relative_to(REPO_DIR).as_posix() if folder.is_relative_to(REPO_DIR) else "data"
    return f"git checkout -- {shown}/"


def _read_verified(path: Path, expected_sha256: str, what: str = "Fashion-MNIST") -> bytes:
    """Decompress one IDX .gz file and check its content against the known checksum."""
    restore = _restore_command(path)
    if not path.is_file():
        elsewhere = f", or set ${DATA_DIR_VARIABLE} to a folder that has it" if what == "Fashion-MNIST" else ""
        raise DataError(
            f"Missing data file: {path}. Restore it with `{restore}` (it ships with the project){elsewhere}."
        )
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as err:
        raise DataError(
            f"Corrupt data file: {path} is not a complete gzip file ({err}). Restore it with `{restore}`."
        ) from None
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected_sha256:
        raise DataError(
            f"Checksum mismatch for {path}: expected SHA-256 {expected_sha256} of the "
            f"decompressed content, got {actual}. The file is damaged or is not the "
            f"original {what}; restore it with `{restore}`."
        )
    return raw


def _parse_idx(raw: bytes) -> np.ndarray:
    """IDX format: 2 zero bytes, dtype code, number of dims, big-endian int32 sizes, data."""
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


@functools.lru_cache(maxsize=8)
def _load_fashion_cached(split: str, folder: Path) -> Dataset:
    images_file, images_sha = FASHION_FILES[(split, "images")]
    labels_file, labels_sha = FASHION_FILES[(split, "labels")]
    images = _parse_idx(_read_verified(folder / images_file, images_sha))
    labels = _parse_idx(_read_verified(folder / labels_file, labels_sha))
    return Dataset(torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)), FASHION_CLASSES)


@functools.lru_cache(maxsize=2)
def load_letters(split: str = "train") -> Dataset:
    """The printed letters: train (800 of each of 37 letters) or test (200 each), verified once per process."""
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', not {split!r}.")
    images_file, images_sha = LETTER_FILES[(split, "images")]
    labels_file, labels_sha = LETTER_FILES[(split, "labels")]
    images = _parse_idx(_read_verified(LETTERS_DIR / images_file, images_sha, "printed letters"))
    labels = _parse_idx(_read_verified(LETTERS_DIR / labels_file, labels_sha, "printed letters"))
    return Dataset(torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)), tuple(LETTERS))


def load_fashion_mnist(split: str = "train", where: str | None = None) -> Dataset:
    """Fashion-MNIST's train (60,000) or test (10,000) images, checksums verified once per process."""
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', not {split!r}.")
    return _load_fashion_cached(split, data_dir(where))


# --- tasks made from a dataset ------------------------------------------------------


def split_classes(dataset: Dataset, classes: tuple[str, ...] | list[str]) -> Dataset:
    """Keep only the named classes, renumbered 0..len(classes)-1 in the order given."""
    unknown = [c for c in classes if c not in dataset.classes]
    if unknown:
        raise DataError(f"Unknown class name(s) {unknown}. Known classes: {list(dataset.classes)}.")
    if len(set(classes)) != len(classes):
        raise DataError(f"Class names repeat in {list(classes)}; name each class once.")
    old_ids = torch.tensor([dataset.classes.index(c) for c in classes])
    keep = torch.isin(dataset.labels, old_ids)
    remap = torch.full((len(dataset.classes),), -1, dtype=torch.int64)
    remap[old_ids] = torch.arange(len(classes))
    return Dataset(dataset.images[keep], remap[dataset.labels[keep]], tuple(classes))


def clothes_task(split: str = "train") -> Dataset:
    """Fashion-MNIST's six kinds of clothes."""
    return split_classes(load_fashion_mnist(split), CLOTHES)


def shoes_and_bags_task(split: str = "train") -> Dataset:
    """Fashion-MNIST's shoes and bags: four classes that clothes never show."""
    return split_classes(load_fashion_mnist(split), SHOES_AND_BAGS)


def source_task(split: str = "train", name: str = "letters") -> Dataset:
    """A pretraining task: the suite's 37 printed letters (helpers.characters), or one of notebook 06's
    other sources: "fashion" (Fashion-MNIST), "clothes" (its six clothes) or "shuffled letters"."""
    if name not in SOURCES:
        raise DataError(f"Unknown source {name!r}; choose one of {list(SOURCES)}.")
    return SOURCES[name](split)


def shuffled_labels(dataset: Dataset, seed: int = 0) -> Dataset:
    """The same images with their labels shuffled among them: a control that keeps the pictures, not the meaning."""
    generator = torch.Generator().manual_seed(seed)
    return Dataset(dataset.images, dataset.labels[torch.randperm(len(dataset), generator=generator)], dataset.classes)


SHUFFLE_SEED = 1234  # the fixed shuffle of notebook 06's control source
SOURCES = {  # name -> split -> Dataset
    "letters": load_letters,
    "fashion": lambda split: load_fashion_mnist(split),
    "clothes": lambda split: clothes_task(split),
    "shuffled letters": lambda split: shuffled_labels(load_letters(split), SHUFFLE_SEED),
}


VAL_PER_CLASS = 20  # digits held out of the training half to choose learning rates, never trained on


def target_task(split: str = "train") -> Dataset:
    """The suite's new task, split "train", "val" or "test": scikit-learn's handwritten digits."""
    # "test" is a fixed, seeded half of the 1,797 scans (899). The other half is split into "val"
    # (20 per class, 200 scans, for choosing learning rates) and "train" (the other 698, the pool
    # that few-shot subsets are drawn from). The letters never show a digit.
    if split not in ("train", "val", "test"):
        raise DataError(f"split must be 'train', 'val' or 'test', not {split!r}.")
    train, val, test = _digits_splits()
    return {"train": train, "val": val, "test": test}[split]


@functools.lru_cache(maxsize=1)
def _digits_splits() -> tuple[Dataset, Dataset, Dataset]:
    half, test = load_digits()
    train, val = split_off(half, VAL_PER_CLASS, seed=12345)
    return train, val, test


def split_off(dataset: Dataset, n_per_class: int, seed: int = 0) -> tuple[Dataset, Dataset]:
    """(the rest, n_per_class held out of every class): disjoint and seeded."""
    held = few_shot_indices(dataset, n_per_class, seed)
    keep = torch.ones(len(dataset), dtype=torch.bool)
    keep[held] = False
    rest = Dataset(dataset.images[keep], dataset.labels[keep], dataset.classes)
    return rest, Dataset(dataset.images[held], dataset.labels[held], dataset.classes)


ALL = 0  # a label budget of ALL means the whole training pool, not a few per class


def label_text(labels_per_class: int) -> str:
    """How a label budget reads: "all" for ALL, else the number."""
    return "all" if labels_per_class == ALL else str(labels_per_class)


def few_shot(dataset: Dataset, n_per_class: int, seed: int = 0) -> Dataset:
    """A stratified subset with n examples of every class; the same seed gives the same subset."""
    index = few_shot_indices(dataset, n_per_class, seed)
    return Dataset(dataset.images[index], dataset.labels[index], dataset.classes)


def few_shot_indices(dataset: Dataset, n_per_class: int, seed: int = 0) -> torch.Tensor:
    """Indices of a stratified subset: n per class, picked by a seeded shuffle of each class."""
    available = min(dataset.counts().values())
    if n_per_class < 1 or n_per_class > available:
        raise DataError(
            f"Asked for {n_per_class} labels per class, but the smallest class has "
            f"{available} examples; choose n_per_class between 1 and {available}."
        )
    generator = torch.Generator().manual_seed(seed)
    picks = []
    for label in range(len(dataset.classes)):
        members = torch.nonzero(dataset.labels == label).flatten()
        picks.append(members[torch.randperm(len(members), generator=generator)[:n_per_class]])
    return torch.cat(picks)


# --- a new world: scikit-learn's handwritten digits ----------------------------------


@functools.lru_cache(maxsize=4)
def load_digits(test_fraction: float = 0.5, seed: int = 0) -> tuple[Dataset, Dataset]:
    """scikit-learn's 1,797 handwritten digits as 28x28 uint8, split (stratified, seeded) into train and test."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    bunch = sklearn_digits()
    # Each 8x8 scan (ink 0..16) is scaled to a 20x20 box centred in 28x28, as MNIST did.
    small = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (N, 1, 8, 8)
    big = F.interpolate(small, size=(20, 20), mode="bilinear", align_corners=False)
    images = (F.pad(big, (4, 4, 4, 4)).squeeze(1).clamp(0, 1) * 255).round().to(torch.uint8)
    labels = torch.tensor(bunch.target, dtype=torch.int64)
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), test_size=test_fraction, random_state=seed, stratify=bunch.target
    )
    classes = tuple(str(d) for d in range(10))
    train_idx, test_idx = torch.from_numpy(train_idx), torch.from_numpy(test_idx)
    return (
        Dataset(images[train_idx], labels[train_idx], classes),
        Dataset(images[test_idx], labels[test_idx], classes),
    )


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [0, 1], the models' input."""
    return images.unsqueeze(1).float().div_(255.0)


# --- the one explicit download ------------------------------------------------------


def download(folder: str | Path) -> Path:
    """Fetch Fashion-MNIST through torchvision into `folder` (explicit; never called by a lesson)."""
    from torchvision.datasets import FashionMNIST

    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        FashionMNIST(tmp, train=True, download=True)
        FashionMNIST(tmp, train=False, download=True)
        for name, sha in FASHION_FILES.values():
            source = Path(tmp) / "FashionMNIST" / "raw" / name
            _read_verified(source, sha)
            with atomic_path(folder / name) as staged:  # a file is either whole or absent
                shutil.copyfile(source, staged)
    return folder


def verify(where: str | None = None) -> dict[Path, str]:
    """Check the four Fashion-MNIST files and the four letter files; returns {path: 'ok'} or raises DataError."""
    folder = data_dir(where)
    fashion = {folder / name: _read_verified(folder / name, sha) for name, sha in FASHION_FILES.values()}
    letters = {
        LETTERS_DIR / name: _read_verified(LETTERS_DIR / name, sha, "printed letters")
        for name, sha in LETTER_FILES.values()
    }
    return dict.fromkeys([*fashion, *letters], "ok")


def main(argv: list[str] | None = None) -> None:
    """The command line: `python -m helpers.data verify` or `download DIR`."""
    parser = argparse.ArgumentParser(prog="python -m helpers.data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="check the four Fashion-MNIST files and the four letter files")
    check.add_argument("--where", default=None, help="a folder, or 'debian' (default: $TL_DATA_DIR or data/)")
    fetch = sub.add_parser("download", help="download Fashion-MNIST with torchvision into a folder")
    fetch.add_argument("folder")
    args = parser.parse_args(argv)
    if args.command == "verify":
        for path, status in verify(args.where).items():
            print(f"{status:>3}  {path}")
    else:
        print(f"Downloaded and verified into {download(args.folder)}")


if __name__ == "__main__":
    main()
