"""Reading times from a stated method, not a guess: what each notebook's header, the README and the guide say.

python -m tools.reading_times            # each notebook's counts and minutes, and the total
python -m tools.reading_times --write    # put the minutes into the headers, the README table and the guide

A notebook's time is counted on what the student edition shows (no solutions, no instructor notes):

    minutes = prose words / 180 + code lines / 20 + 4 per exercise + 1 per "Predict, then run"

rounded to the nearest 5 minutes (10 at least). 180 words a minute is slower than the 238 that
Brysbaert (2019) measured for silent reading of non-fiction, for prose that introduces terms and
refers to figures; 20 lines a minute is reading code, not writing it; an exercise takes 4 minutes
and a prediction one. Checked against one timed read: two readers who worked 00-03 and 04-07 of
the student edition as new users (2026-12-04) took 30 to 35 minutes each for 01, 02 and 03; when
the method was set (2026-12-05) it gave 31, 28 and 33 minutes for them before rounding.
tests/test_reading_times.py keeps the headers, the README and the guide in step with the notebooks.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.core import write_text_atomically
from tools.editions import INSTRUCTOR, SOLUTION

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
README = REPO / "README.md"
GUIDE = REPO / "docs" / "instructor_guide.md"

WORDS_PER_MINUTE = 180
CODE_LINES_PER_MINUTE = 20
MINUTES_PER_EXERCISE = 4
MINUTES_PER_PREDICTION = 1

HEADER = re.compile(r"about \d+ minutes to read( and try the exercises)?")  # the learner's header
INSTRUCTOR_NOTE = re.compile(r"About \d+ minutes")  # the instructor's note repeats it
GUIDE_07 = re.compile(r"(as a\s+)\d+(-minute session after 00)")
GUIDE_ROW = re.compile(r"^(\| (\d\d) [^|]+\|.*\| )\d+( min \|)$", re.MULTILINE)  # the times table's last column
README_ROW = re.compile(r"about \d+ min to read")
GUIDE_TOTAL = re.compile(r"00 to 08 in order: about [^,]+ of reading")


@dataclass(frozen=True)
class Counts:
    words: int  # in Markdown cells
    code_lines: int  # in code cells, blank lines and comment-only lines left out
    exercises: int  # "### Exercise ..." headings
    predictions: int  # "**Predict, then run.**" prompts

    def minutes(self) -> float:
        return (
            self.words / WORDS_PER_MINUTE
            + self.code_lines / CODE_LINES_PER_MINUTE
            + MINUTES_PER_EXERCISE * self.exercises
            + MINUTES_PER_PREDICTION * self.predictions
        )

    def rounded(self) -> int:
        """The minutes a header states: the nearest 5, at least 10."""
        return max(10, 5 * round(self.minutes() / 5))


def counts(notebook: nbformat.NotebookNode) -> Counts:
    """What a learner reads in the student edition: every cell but the solutions and the instructor notes."""
    words = code_lines = exercises = predictions = 0
    for cell in notebook.cells:
        if {SOLUTION, INSTRUCTOR} & set(cell.metadata.get("tags", [])):
            continue
        if cell.cell_type == "markdown":
            words += len(re.findall(r"[A-Za-z0-9][\w'.,%-]*", cell.source))
            exercises += len(re.findall(r"^#+ Exercise", cell.source, re.MULTILINE))
            predictions += cell.source.count("**Predict, then run.**")
        elif cell.cell_type == "code":
            lines = [line.strip() for line in cell.source.splitlines()]
            code_lines += sum(1 for line in lines if line and not line.startswith("#"))
    return Counts(words, code_lines, exercises, predictions)


def header_phrase(found: Counts) -> str:
    """'about 30 minutes to read and try the exercises', as the header states it."""
    tail = " and try the exercises" if found.exercises else ""
    return f"about {found.rounded()} minutes to read{tail}"


def all_counts(notebooks: Path = NOTEBOOKS) -> dict[str, Counts]:
    return {
        path.name: counts(nbformat.read(path, as_version=4)) for path in sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
    }


def total_phrase(found: dict[str, Counts]) -> str:
    """'00 to 08 in order: about 4 hours 10 minutes of reading': the sum of the headers' minutes."""
    total = sum(c.rounded() for c in found.values())
    hours, minutes = divmod(total, 60)
    return (
        f"00 to 08 in order: about {hours} hours {minutes} minutes of reading"
        if minutes
        else (f"00 to 08 in order: about {hours} hours of reading")
    )


def write(notebooks: Path = NOTEBOOKS, readme: Path = README, guide: Path = GUIDE) -> list[Path]:
    """Put each notebook's minutes into its header, its instructor note, its README row and the guide's times
    table, and the total into the guide's self-study path."""
    found = all_counts(notebooks)
    written = []
    for name, counted in found.items():
        path = notebooks / name
        text = path.read_text(encoding="utf-8")
        for pattern in (HEADER, INSTRUCTOR_NOTE):
            if len(pattern.findall(text)) != 1:
                raise SystemExit(f"{name}: expected one {pattern.pattern!r}, found {len(pattern.findall(text))}.")
        new = HEADER.sub(header_phrase(counted), text)
        new = INSTRUCTOR_NOTE.sub(f"About {counted.rounded()} minutes", new)
        if new != text:
            written.append(write_text_atomically(path, new))
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    for i, line in enumerate(lines):
        for name, counted in found.items():
            if f"(notebooks/{name})" in line:
                lines[i] = README_ROW.sub(f"about {counted.rounded()} min to read", line)
    written.append(write_text_atomically(readme, "".join(lines)))
    text = GUIDE_TOTAL.sub(total_phrase(found), guide.read_text(encoding="utf-8"))
    minutes = {name[:2]: c.rounded() for name, c in found.items()}
    text = GUIDE_ROW.sub(lambda row: f"{row[1]}{minutes[row[2]]}{row[3]}", text)
    if "07" in minutes:  # 07 can stand alone: the guide says how long it takes
        text = GUIDE_07.sub(rf"\g<1>{minutes['07']}\2", text)
    written.append(write_text_atomically(guide, text))
    return written


def table(found: dict[str, Counts]) -> str:
    rows = [f"{'notebook':<42} {'words':>6} {'code':>5} {'ex.':>4} {'pred.':>5} {'minutes':>8} {'stated':>7}"]
    for name, c in found.items():
        rows.append(
            f"{name:<42} {c.words:>6} {c.code_lines:>5} {c.exercises:>4} {c.predictions:>5} "
            f"{c.minutes():>8.1f} {c.rounded():>7}"
        )
    rows.append(
        f"{'all':<42} {'':>6} {'':>5} {'':>4} {'':>5} {sum(c.minutes() for c in found.values()):>8.1f} "
        f"{sum(c.rounded() for c in found.values()):>7}"
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.reading_times", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the minutes into the headers, README and guide")
    args = parser.parse_args(argv)
    print(table(all_counts()))
    if args.write:
        for path in write():
            print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
