"""tools.reading_times: the minutes the headers, the README and the guide state are the stated method's."""

import re

import nbformat
import pytest

from tools import reading_times as rt


def made_up_notebook() -> nbformat.NotebookNode:
    cell = nbformat.v4
    return cell.new_notebook(
        cells=[
            cell.new_markdown_cell("# Title\n\nFour more words here."),  # 5 words: the # is not one
            cell.new_markdown_cell("### Exercise 1: a thing\n\n**Predict, then run.** Guess."),  # 8 words
            cell.new_code_cell("x = 1\n\n# a comment\ny = x + 1  # not a comment line"),  # 2 code lines
            cell.new_markdown_cell(
                "**Solution.** Many words that a student never sees.", metadata={"tags": ["solution"]}
            ),
            cell.new_code_cell("answer = 42\nprint(answer)", metadata={"tags": ["solution"]}),
            cell.new_markdown_cell("**For the instructor** this too.", metadata={"tags": ["instructor"]}),
        ]
    )


def test_counts_read_what_the_student_edition_shows():
    assert rt.counts(made_up_notebook()) == rt.Counts(words=13, code_lines=2, exercises=1, predictions=1)


def test_minutes_follow_the_stated_rates_and_round_to_five():
    counted = rt.Counts(words=1800, code_lines=100, exercises=2, predictions=3)
    assert counted.minutes() == pytest.approx(1800 / 180 + 100 / 20 + 2 * 4 + 3 * 1)  # 26
    assert counted.rounded() == 25
    assert rt.Counts(words=180, code_lines=0, exercises=0, predictions=0).rounded() == 10  # never under 10
    assert rt.header_phrase(counted) == "about 25 minutes to read and try the exercises"
    assert rt.header_phrase(rt.Counts(1800, 0, 0, 0)) == "about 10 minutes to read"


@pytest.fixture(scope="module")
def found():
    return rt.all_counts()


def test_every_header_and_instructor_note_states_the_methods_minutes(found):
    for name, counted in found.items():
        text = (rt.NOTEBOOKS / name).read_text(encoding="utf-8")
        assert rt.HEADER.findall(text) and rt.HEADER.search(text)[0] == rt.header_phrase(counted), (
            f"{name}: its header's time is not the method's; run `python -m tools.reading_times --write`."
        )
        assert rt.INSTRUCTOR_NOTE.search(text)[0] == f"About {counted.rounded()} minutes", name


def test_the_readme_and_the_guide_state_the_same_minutes_and_their_sum(found):
    readme = rt.README.read_text(encoding="utf-8")
    for name, counted in found.items():
        row = next(line for line in readme.splitlines() if f"(notebooks/{name})" in line)
        assert f"about {counted.rounded()} min to read" in row, name
    guide = rt.GUIDE.read_text(encoding="utf-8")
    rows = {m[2]: m[0] for m in rt.GUIDE_ROW.finditer(guide)}
    assert sorted(rows) == sorted(name[:2] for name in found)
    for name, counted in found.items():
        assert rows[name[:2]].endswith(f"| {counted.rounded()} min |"), name
    assert rt.total_phrase(found) in guide
    total = sum(c.rounded() for c in found.values())
    hours, minutes = (int(x) for x in re.search(r"about (\d+) hours (\d+) minutes of reading", guide).groups())
    assert 60 * hours + minutes == total


def test_write_puts_the_minutes_in_place(tmp_path, found):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    source = next(iter(found))
    stale = rt.HEADER.sub("about 99 minutes to read", (rt.NOTEBOOKS / source).read_text(encoding="utf-8"))
    (notebooks / source).write_text(stale, encoding="utf-8")
    readme, guide = tmp_path / "README.md", tmp_path / "guide.md"
    readme.write_text(f"| [x](notebooks/{source}) | what | about 99 min to read; 9 s headless |\n", encoding="utf-8")
    guide.write_text(
        f"| {source[:2]} x | 9 s | 99 min |\n00 to 08 in order: about ages of reading, and\n", encoding="utf-8"
    )
    rt.write(notebooks, readme, guide)
    counted = found[source]
    assert rt.header_phrase(counted) in (notebooks / source).read_text(encoding="utf-8")
    assert f"about {counted.rounded()} min to read; 9 s headless" in readme.read_text(encoding="utf-8")
    assert guide.read_text(encoding="utf-8").startswith(f"| {source[:2]} x | 9 s | {counted.rounded()} min |\n00 to 08")
