"""Notebooks are committed clean, without outputs or execution counts; exits 1 naming the dirty ones.

    python -m tools.check_notebooks_clean [NOTEBOOK ...]    # default: every notebook in notebooks/

The pre-commit hook (.pre-commit-config.yaml) runs this; tests/test_notebooks_clean.py calls `problems`.
The executed copies are build products: `make demo` writes them to build/.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
CLEAN_UP = "clear them with: jupyter nbconvert --clear-output --inplace notebooks/*.ipynb"


def problems(notebook: dict) -> list[str]:
    """What keeps a notebook (its parsed JSON) from being clean; an empty list when it is clean."""
    code_cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    # Numbered from 1, as JupyterLab and tests/notebook_runner.py count code cells.
    with_outputs = [number for number, cell in enumerate(code_cells, 1) if cell.get("outputs")]
    counted = [number for number, cell in enumerate(code_cells, 1) if cell.get("execution_count") is not None]
    found = []
    if with_outputs:
        found.append(f"code cells {with_outputs} have outputs")
    if counted:
        found.append(f"code cells {counted} have execution counts")
    return found


def main(paths: list[str]) -> int:
    """Print each dirty notebook with what makes it dirty; 1 if any is, else 0."""
    notebooks = [Path(path) for path in paths] or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    dirty = 0
    for path in notebooks:
        found = problems(json.loads(path.read_text(encoding="utf-8")))
        if found:
            dirty += 1
            print(f"{path}: {'; '.join(found)}")
    if dirty:
        print(f"{dirty} notebook(s) not clean; {CLEAN_UP}")
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
