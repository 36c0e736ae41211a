"""Which lane executes which notebook: `make test` executes each notebook once, `make test-full` everything.

`make test` runs the notebooks with widgets (BROWSER_NOTEBOOKS) in JupyterLab, where tests/test_browser.py also
checks their solutions, and the others in smoke mode through tests/notebook_runner.py. The student edition is
checked statically for all, and run end to end for one (STUDENT_RUN). Without Chromium or Playwright the smoke
runs take every notebook. A test that `make test` covers another way is marked `full`: only `make test-full`
(pytest with no -m) runs it.
"""

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BROWSER_NOTEBOOKS = {"01", "02", "03", "05"}  # the notebooks that build widgets
STUDENT_RUN = "02"  # the student edition run end to end in make test (10 s in smoke mode)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def browser_available() -> bool:
    return CHROMIUM is not None and importlib.util.find_spec("playwright") is not None


def notebook_params(full_unless: set[str]) -> list:
    """NOTEBOOKS as pytest params, ids by stem; a notebook whose number is not in `full_unless` is marked full."""
    return [
        pytest.param(path, id=path.stem, marks=() if path.name[:2] in full_unless else pytest.mark.full)
        for path in NOTEBOOKS
    ]


def smoke_run_notebooks() -> set[str]:
    """The notebooks make test runs in smoke mode: those the browser does not run, or all without a browser."""
    numbers = {path.name[:2] for path in NOTEBOOKS}
    return numbers - BROWSER_NOTEBOOKS if browser_available() else numbers
