"""Rebuild the printed letters that ship in data/letters/ and say how far this machine's rendering is from them.

    python -m tools.letters                    # make letters: render into build/letters/, compare with data/letters/
    python -m tools.letters --into data/letters   # replace the shipped files (then update helpers.data.LETTER_FILES)

Rendering (helpers.characters) is floating-point work: Pillow's version and the processor move a
few pixels by a few grey levels. So the lessons never render; they read the shipped bytes, which
the shipped letter models were trained on. A rebuild is expected to differ from them by at most
TOLERANCE; a larger difference means the generator itself changed.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from helpers import characters, data
from helpers.core import REPO_DIR, Dataset, atomic_path

# Measured on 2026-12-04 (AMD EPYC, AVX-512): Pillow 10.4 to 12.3 against the shipped 13.0 rendering
# differ in 0.039% of the training pixels (up to 9 grey levels) and 2.1% of the images; torch's plain
# C++ kernels (ATEN_CPU_CAPABILITY=default) against its AVX2/AVX-512 ones in 0.0006% of the pixels.
TOLERANCE = {"pixels": 0.002, "images": 0.05}  # fractions that may differ: 0.2% of pixels, 5% of images


@dataclass(frozen=True)
class Difference:
    """How a rendering differs from the shipped split: fractions of pixels and images, the largest grey-level gap."""

    pixels: float
    images: float
    max_levels: int

    def within_tolerance(self) -> bool:
        return self.pixels <= TOLERANCE["pixels"] and self.images <= TOLERANCE["images"]


def compare(rendered: Dataset, shipped: Dataset) -> Difference:
    """Pixel by pixel; the labels must be identical (they come from the seed alone, not from floating point)."""
    if rendered.images.shape != shipped.images.shape or not torch.equal(rendered.labels, shipped.labels):
        raise ValueError("the rendering has other shapes or labels than the shipped letters: the generator changed")
    gap = (rendered.images.int() - shipped.images.int()).abs()
    differs = gap > 0
    return Difference(
        pixels=differs.float().mean().item(),
        images=differs.flatten(1).any(1).float().mean().item(),
        max_levels=int(gap.max()),
    )


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX format Fashion-MNIST uses: 2 zero bytes, 0x08 (uint8), the number of dims, big-endian sizes, data."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_split(dataset: Dataset, split: str, folder: Path) -> dict[str, str]:
    """Write a split's images and labels as .gz files (mtime 0: the same bytes each time); {file: content SHA-256}."""
    sums = {}
    for part, array in (("images", dataset.images.numpy()), ("labels", dataset.labels.numpy())):
        name, _ = data.LETTER_FILES[(split, part)]
        raw = idx_bytes(array)
        with atomic_path(folder / name) as staged:  # a file is whole or absent
            staged.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
        sums[name] = hashlib.sha256(raw).hexdigest()
    return sums


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.letters", description=__doc__.splitlines()[0])
    parser.add_argument("--into", type=Path, default=REPO_DIR / "build" / "letters", help="default: build/letters/")
    args = parser.parse_args(argv)
    for split in characters.SPLITS:
        start = time.perf_counter()
        rendered = characters.render(split)
        sums = write_split(rendered, split, args.into)
        print(f"{split}: rendered {len(rendered):,} letters in {time.perf_counter() - start:.1f} s into {args.into}")
        for name, sha in sums.items():
            shipped_sha = next(s for n, s in data.LETTER_FILES.values() if n == name)
            print(f"  {name}  SHA-256 {sha}  {'(as shipped)' if sha == shipped_sha else '(differs from shipped)'}")
        try:
            difference = compare(rendered, data.load_letters(split))
        except data.DataError as err:
            print(f"  not compared: {err}")
            continue
        verdict = "within" if difference.within_tolerance() else "OUTSIDE"
        print(
            f"  against data/letters/: {difference.pixels:.4%} of pixels, {difference.images:.2%} of images differ, "
            f"by up to {difference.max_levels} grey levels: {verdict} the tolerance "
            f"({TOLERANCE['pixels']:.1%} of pixels, {TOLERANCE['images']:.0%} of images)"
        )


if __name__ == "__main__":
    main()
