"""Write the student and instructor editions of the notebooks, with nbconvert's own preprocessors.

    python -m tools.editions student      # build/student/ (make student)
    python -m tools.editions instructor   # build/instructor/ (make instructor)

The committed notebooks in notebooks/ are the source. Two cell tags decide what each edition holds:

- "solution": a solution cell, and the line that introduces it. The student edition drops them, so
  "Run All" prints no answer; the instructor edition keeps them, expanded.
- "instructor": notes for the person teaching (timing, what to ask the room, the misconceptions
  each check catches). Only the instructor edition keeps them.

Exercise cells (`answer = ...`, a function to complete) stay in both, open.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbconvert.preprocessors import ClearMetadataPreprocessor, ClearOutputPreprocessor, TagRemovePreprocessor

from helpers.core import write_text_atomically

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
EDITIONS = ("student", "instructor")
SOLUTION, INSTRUCTOR = "solution", "instructor"


def exporter(edition: str) -> NotebookExporter:
    """A NotebookExporter whose preprocessors make one edition."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, not {edition!r}.")
    exporter = NotebookExporter()
    exporter.register_preprocessor(ClearOutputPreprocessor(), enabled=True)
    if edition == "student":
        exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={SOLUTION, INSTRUCTOR}), enabled=True)
    else:
        # Keep the tags; drop the rest of each cell's metadata, which un-collapses the hidden solutions.
        exporter.register_preprocessor(
            ClearMetadataPreprocessor(clear_notebook_metadata=False, preserve_cell_metadata_mask=["tags"]),
            enabled=True,
        )
    return exporter


def write_edition(edition: str, out: Path | None = None, notebooks: Path = NOTEBOOKS) -> list[Path]:
    """Every numbered notebook in `notebooks`, as the edition, into `out` (default build/<edition>/)."""
    out = out or REPO / "build" / edition
    out.mkdir(parents=True, exist_ok=True)
    make = exporter(edition)
    written = []
    for source in sorted(notebooks.glob("[0-9][0-9]_*.ipynb")):
        body, _ = make.from_notebook_node(nbformat.read(source, as_version=4))
        written.append(write_text_atomically(out / source.name, body))  # whole or absent, never half-written
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.editions", description=__doc__.splitlines()[0])
    parser.add_argument("edition", choices=EDITIONS)
    parser.add_argument("--out", type=Path, default=None, help="default: build/<edition>/")
    args = parser.parse_args(argv)
    written = write_edition(args.edition, args.out)
    print(f"{args.edition} edition: {len(written)} notebooks in {written[0].parent}")


if __name__ == "__main__":
    main()
