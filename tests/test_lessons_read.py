"""Lessons read like lessons: a cell that states results is one short call into a story module, never a wall
of string formatting, and no notebook cell defines a formatting function.

Measured on the code's tokens, read with `tokenize` (nothing runs): a cell's *string share* is the part of its
code characters that are string literals (f-strings included). Printing one figure beside the code that made it
is fine; a cell of many lines that is mostly strings is prose that belongs in helpers/story*.py, where it is
tested. A function defined in a cell that returns text (a string or Markdown) is a formatting function.
"""

import ast
import io
import tokenize
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_STRING_SHARE = 0.5  # a longer cell may hold at most this share of string literals ...
LONG_CELL_LINES = 10  # ... once it has this many lines of code (comments and blank lines not counted)
LAYOUT_TOKENS = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.ENDMARKER}


def code_lines(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith(("#", "%")))


def string_share(source: str) -> float:
    """The part of a cell's code characters that are string literals (0 for a cell of no code)."""
    python = "\n".join("" if line.lstrip().startswith("%") else line for line in source.splitlines())
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(python).readline) if t.type not in LAYOUT_TOKENS]
    total = sum(len(t.string) for t in tokens)
    return sum(len(t.string) for t in tokens if t.type == tokenize.STRING) / total if total else 0.0


def returns_text(function: ast.FunctionDef) -> bool:
    """Whether a function returns a string literal, an f-string, a join, a % or + of strings, or Markdown(...)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if isinstance(value, ast.JoinedStr) or (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                return True
            if isinstance(value, ast.Call) and getattr(value.func, "attr", getattr(value.func, "id", "")) in {
                "join",
                "format",
                "Markdown",
            }:
                return True
            if isinstance(value, ast.BinOp) and any(
                isinstance(side, ast.JoinedStr) for side in (value.left, value.right)
            ):
                return True
    return False


def formatting_problems(source: str) -> list[str]:
    """What makes a cell's code a wall of formatting; [] when it reads as a lesson."""
    problems = []
    lines, share = code_lines(source), string_share(source)
    if lines >= LONG_CELL_LINES and share > MAX_STRING_SHARE:
        problems.append(f"{lines} lines of code, {share:.0%} of them string literals: move the prose to a story module")
    python = "\n".join("" if line.lstrip().startswith("%") else line for line in source.splitlines())
    for node in ast.walk(ast.parse(python)):
        if isinstance(node, ast.FunctionDef) and returns_text(node):
            problems.append(f"defines {node.name}(), which returns text: define it in a story module")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_no_cell_is_a_wall_of_formatting(path):
    cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    found = [
        f"code cell {number}: {problem}"
        for number, cell in enumerate(cells, 1)
        for problem in formatting_problems(cell.source)
    ]
    assert not found, f"{path.name}:\n" + "\n".join(found)


def test_the_measure_flags_prose_in_a_cell_and_passes_a_lesson():
    prose = "\n".join(
        'print(f"At {n} labels the gap is {gap:+.1f} points, ahead in {won} of {seeds} seeds")' for _ in range(10)
    )
    assert formatting_problems(prose) and "string literals" in formatting_problems(prose)[0]
    lesson = "\n".join(["model = models.make_model(config)", "history = train.fit(model, subset, recipe)"] * 5)
    assert formatting_problems(lesson) == []
    assert formatting_problems('print(f"test accuracy {accuracy:.1%}")') == []  # one figure beside its code
    helper = 'def verdict(row):\n    return f"{row.mean:+.1f} points"\n'
    assert formatting_problems(helper) == ["defines verdict(), which returns text: define it in a story module"]
    assert formatting_problems("def describe(x):\n    return Markdown(x)\n")
    assert (
        formatting_problems(
            "def accuracy(model, data):\n    return (model(data.x).argmax(1) == data.y).float().mean()\n"
        )
        == []
    )
