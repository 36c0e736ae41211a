"""Notebooks are committed clean: no outputs, no execution counts, and a `parameters` cell.

Executed copies are build products (`make demo` writes them to build/). The cell tagged
`parameters` reads TL_SMOKE, so `make test` (tests/test_notebooks_run.py) and papermill can run any notebook
at smoke scale.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
CLEAN_UP = "clear them with: jupyter nbconvert --clear-output --inplace notebooks/*.ipynb"


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no .ipynb files"


@pytest.fixture(params=NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def notebook(request) -> tuple[str, dict]:
    return request.param.name, json.loads(request.param.read_text(encoding="utf-8"))


def test_no_outputs_or_execution_counts(notebook):
    name, content = notebook
    code_cells = [cell for cell in content["cells"] if cell["cell_type"] == "code"]
    with_outputs = [i for i, cell in enumerate(code_cells) if cell.get("outputs")]
    counted = [i for i, cell in enumerate(code_cells) if cell.get("execution_count") is not None]
    assert not with_outputs, f"{name}: code cells {with_outputs} have outputs; {CLEAN_UP}"
    assert not counted, f"{name}: code cells {counted} have execution counts; {CLEAN_UP}"


def test_parameters_cell_reads_tl_smoke(notebook):
    name, content = notebook
    tagged = [cell for cell in content["cells"] if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{name}: expected one cell tagged 'parameters', found {len(tagged)}"
    (cell,) = tagged
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    assert cell["cell_type"] == "code" and "TL_SMOKE" in source, f"{name}: the parameters cell should read TL_SMOKE"
