"""Notebooks are committed clean: no outputs, no execution counts, and a `parameters` cell.

Executed copies are build products (`make demo` writes them to build/). The check for outputs is
tools/check_notebooks_clean.py, which the pre-commit hook runs too. The cell tagged `parameters`
reads TL_SMOKE, so `make test` (tests/test_notebooks_run.py) and papermill can run any notebook
at smoke scale.
"""

import copy
import json
from pathlib import Path

import pytest

from tools.check_notebooks_clean import CLEAN_UP, NOTEBOOK_DIR, main, problems

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb files"


@pytest.fixture(params=NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def notebook(request) -> tuple[str, dict]:
    return request.param.name, json.loads(request.param.read_text(encoding="utf-8"))


def test_no_outputs_or_execution_counts(notebook):
    name, content = notebook
    found = problems(content)
    assert not found, f"{name}: {'; '.join(found)}; {CLEAN_UP}"


def test_parameters_cell_reads_tl_smoke(notebook):
    name, content = notebook
    tagged = [cell for cell in content["cells"] if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{name}: expected one cell tagged 'parameters', found {len(tagged)}"
    (cell,) = tagged
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    assert cell["cell_type"] == "code" and "TL_SMOKE" in source, f"{name}: the parameters cell should read TL_SMOKE"


# --- the check itself, on notebooks made dirty on purpose ---------------------------------------

CLEAN = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# A title"},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": "1 + 1"},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": "print(2)"},
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def dirty() -> dict:
    """CLEAN after running it: the first code cell has a count and an output, the second a count only."""
    notebook = copy.deepcopy(CLEAN)
    first, second = notebook["cells"][1:]
    first["execution_count"], first["outputs"] = 1, [{"output_type": "execute_result", "data": {"text/plain": "2"}}]
    second["execution_count"] = 2
    return notebook


def test_the_check_names_the_cells_with_outputs_and_counts():
    assert problems(CLEAN) == []
    assert problems(dirty()) == ["code cells [1] have outputs", "code cells [1, 2] have execution counts"]


def test_the_command_exits_1_naming_only_the_dirty_notebooks(tmp_path, capsys):
    clean_path, dirty_path = tmp_path / "clean.ipynb", tmp_path / "dirty.ipynb"
    clean_path.write_text(json.dumps(CLEAN), encoding="utf-8")
    dirty_path.write_text(json.dumps(dirty()), encoding="utf-8")
    assert main([str(clean_path)]) == 0 and capsys.readouterr().out == ""
    assert main([str(clean_path), str(dirty_path)]) == 1
    out = capsys.readouterr().out
    assert "dirty.ipynb: code cells [1] have outputs" in out and "clean.ipynb" not in out and CLEAN_UP in out


def test_the_pre_commit_hooks_are_local_and_run_this_check():
    yaml = pytest.importorskip("yaml")  # PyYAML comes with jupyterlab (through jupyter-events)
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert [repo["repo"] for repo in config["repos"]] == ["local"], "hooks must not be downloaded"
    entries = {hook["id"]: hook["entry"] for hook in config["repos"][0]["hooks"]}
    assert entries["notebooks-clean"] == "python -m tools.check_notebooks_clean"
    assert {"ruff check", "ruff format --check"} <= set(entries.values())
