"""The student and instructor editions (tools/editions.py, make student / make instructor).

The student edition must keep every exercise open and hold no solution: no solution cell, and no line
of solution code anywhere. The instructor edition keeps the solutions, expanded, and the notes.
Run All on the student edition must stop at nothing and print no answer. Statically, for every notebook: no
cell of the student edition uses a name that only a (removed) solution defines. End to end, `make test` runs one
student edition (tests/lanes.py, STUDENT_RUN) and `make test-full` runs them all.
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from tests.lanes import NOTEBOOKS, STUDENT_RUN, notebook_params
from tests.test_notebooks_run import run_notebook
from tools import editions


def cells(path: Path) -> list:
    return nbformat.read(path, as_version=4).cells


def tagged(path: Path, tag: str) -> list:
    return [cell for cell in cells(path) if tag in cell.metadata.get("tags", [])]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("editions")
    return {edition: editions.write_edition(edition, root / edition) for edition in editions.EDITIONS}


def test_every_exercise_has_a_tagged_solution_and_every_hidden_cell_is_one():
    for path in NOTEBOOKS[1:]:  # 00 has no exercises
        solutions = [cell for cell in tagged(path, "solution") if cell.cell_type == "code"]
        assert solutions, f"{path.name} has no cell tagged 'solution'"
        for cell in cells(path):
            if cell.metadata.get("jupyter", {}).get("source_hidden"):
                assert "solution" in cell.metadata.get("tags", []), f"{path.name}: a hidden cell is not tagged"


def solution_lines(path: Path) -> set[str]:
    """Lines of solution code that appear nowhere else in the notebook (the exercise cells repeat the checks); a
    line of brackets alone says nothing and is left out."""
    elsewhere = {
        line.strip().rstrip(";")
        for cell in cells(path)
        if "solution" not in cell.metadata.get("tags", [])
        for line in cell.source.splitlines()
    }
    return {
        line.strip().rstrip(";")
        for cell in tagged(path, "solution")
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if re.search(r"\w", line) and not line.strip().startswith("#") and line.strip().rstrip(";") not in elsewhere
    }


def test_the_student_edition_holds_no_solution_and_keeps_every_exercise(built):
    for source, student in zip(NOTEBOOKS, built["student"]):
        assert student.name == source.name
        text = "\n".join(cell.source for cell in cells(student))
        leaked = [line for line in solution_lines(source) if line in text]
        assert not leaked, f"{student.name} leaks solution lines: {leaked}"
        assert not tagged(student, "solution") and not tagged(student, "instructor")
        exercises = [c for c in cells(source) if c.cell_type == "code" and "= ...  #" in c.source]
        kept = [c for c in cells(student) if c.cell_type == "code" and "= ...  #" in c.source]
        assert len(kept) == len(exercises), f"{student.name}: exercises lost"
        assert all(not c.get("outputs") for c in cells(student) if c.cell_type == "code")


def test_no_cell_before_07s_loss_exercise_and_no_file_it_points_to_holds_the_loss():
    path = next(p for p in NOTEBOOKS if p.name.startswith("07_"))
    before = []
    for cell in cells(path):
        if "def next_character_loss" in cell.source:
            break
        before.append(cell)
    pointed = sorted({name for cell in before for name in re.findall(r"helpers/\w+\.py", cell.source)})
    assert "helpers/gpt.py" in pointed  # the notebook asks for it to be read beside section 3
    code = [cell.source for cell in before if cell.cell_type == "code"]
    files = [(path.parent.parent / name).read_text(encoding="utf-8") for name in pointed]
    for text in code + files:
        assert "next_token_loss" not in text and "cross_entropy(" not in text, "Exercise 2's answer is shown before it"


def test_the_instructor_edition_keeps_solutions_expanded_and_the_notes(built):
    for source, instructor in zip(NOTEBOOKS, built["instructor"]):
        assert len(tagged(instructor, "solution")) == len(tagged(source, "solution"))
        assert len(tagged(instructor, "instructor")) == len(tagged(source, "instructor"))
        assert not any(c.metadata.get("jupyter", {}).get("source_hidden") for c in cells(instructor))
        assert nbformat.read(instructor, as_version=4).metadata["kernelspec"]["name"] == "python3"


def test_every_notebook_has_instructor_notes():
    for path in NOTEBOOKS:
        notes = tagged(path, "instructor")
        assert notes and all(cell.cell_type == "markdown" for cell in notes), f"{path.name} has no instructor notes"
        assert "For the instructor" in notes[0].source


def test_an_unknown_edition_is_refused():
    with pytest.raises(ValueError, match="edition must be one of"):
        editions.exporter("teacher")


def names_in(source: str) -> tuple[set[str], set[str]]:
    """(names a cell defines, names it reads): assignments, loop targets, imports, functions and classes."""
    python = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    defined, read = set(), set()
    for node in ast.walk(ast.parse(python)):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            defined.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    return defined, read


def names_only_solutions_define(notebook: nbformat.NotebookNode) -> set[str]:
    """Names that a cell outside the solutions reads, but that only solution cells define."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    solution = [names_in(cell.source) for cell in code if "solution" in cell.metadata.get("tags", [])]
    rest = [names_in(cell.source) for cell in code if "solution" not in cell.metadata.get("tags", [])]
    only_solutions = set().union(*(defined for defined, _ in solution)) - set().union(*(d for d, _ in rest))
    return only_solutions & set().union(*(read for _, read in rest))


def test_no_cell_of_the_student_edition_reads_a_name_only_a_solution_defines():
    for path in NOTEBOOKS:
        assert names_only_solutions_define(nbformat.read(path, as_version=4)) == set(), path.name
    broken = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("answer = 3", metadata={"tags": ["solution"]}),
            nbformat.v4.new_code_cell("print(answer + offset)\noffset = 1"),
        ]
    )
    assert names_only_solutions_define(broken) == {"answer"}


@pytest.mark.slow
@pytest.mark.parametrize("notebook", notebook_params(full_unless={STUDENT_RUN}))
def test_run_all_on_the_student_edition_stops_at_nothing_and_prints_no_answer(notebook, tmp_path):
    student = editions.write_edition("student", tmp_path / "student", notebooks=notebook.parent)
    path = next(p for p in student if p.name == notebook.name)
    printed = run_notebook(path, tmp_path / "outputs.json")
    said = "\n".join(cell["stdout"] for cell in printed)
    assert "Correct:" not in said, "the student edition printed an answer"
