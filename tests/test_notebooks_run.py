"""Every notebook runs top to bottom in smoke mode (TL_SMOKE=1), exercises and solutions included, and every
solution passes its check.

Each notebook runs in its own fresh Python process through tests/notebook_runner.py, with a hard
time limit, so one notebook cannot leak state into another or hang the suite. Marked slow:
`make test` runs them, `make test-fast` does not. (The notebooks are the instructor edition's source:
tests/test_editions.py runs the student edition.)
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TIME_LIMIT_S = 240  # smoke runs take 10 to 30 s on 2 cores; the budget is 60 s


def run_notebook(notebook: Path, outputs: Path) -> list[dict]:
    """Run a notebook in smoke mode in a fresh process; returns what each code cell printed, with its tags."""
    env = {**os.environ, "TL_SMOKE": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "notebook_runner.py"), str(notebook), str(outputs)],
        cwd=notebook.parent,  # as JupyterLab runs it
        env=env,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT_S,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return json.loads(outputs.read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_in_smoke_mode_and_its_solutions_pass(notebook, tmp_path):
    cells = run_notebook(notebook, tmp_path / "outputs.json")
    for cell in cells:
        if "solution" in cell["tags"]:
            assert "Correct:" in cell["stdout"] and "Not yet:" not in cell["stdout"], cell["source"] + cell["stdout"]
