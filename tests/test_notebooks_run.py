"""Every notebook runs top to bottom in smoke mode (TL_SMOKE=1), exercises and solutions included, and every
solution passes its check.

Each notebook runs in its own fresh Python process through tests/notebook_runner.py, with a hard
time limit, so one notebook cannot leak state into another or hang the suite. Marked slow:
`make test-fast` leaves them out. `make test` runs here the notebooks the browser does not run
(tests/lanes.py), so that each runs once; `make test-full` runs them all here too. (The notebooks are the
instructor edition's source: tests/test_editions.py runs the student edition.)
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lanes import ROOT, notebook_params, smoke_run_notebooks

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


def solutions_failing(cells: list[dict]) -> list[str]:
    """The solution cells (tag 'solution') whose output does not say Correct:, or says Not yet:, with it."""
    return [
        cell["source"] + "\n--- printed:\n" + cell["stdout"]
        for cell in cells
        if "solution" in cell["tags"] and ("Correct:" not in cell["stdout"] or "Not yet:" in cell["stdout"])
    ]


@pytest.mark.slow
@pytest.mark.parametrize("notebook", notebook_params(full_unless=smoke_run_notebooks()))
def test_notebook_runs_in_smoke_mode_and_its_solutions_pass(notebook, tmp_path):
    assert solutions_failing(run_notebook(notebook, tmp_path / "outputs.json")) == []


def test_a_solution_that_prints_not_yet_or_nothing_is_caught():
    ok = {"tags": ["solution"], "source": "check(a)", "stdout": "Correct: yes"}
    assert solutions_failing([ok, {"tags": [], "source": "x", "stdout": ""}]) == []
    assert len(solutions_failing([ok | {"stdout": "Not yet: the shape"}, ok | {"stdout": ""}])) == 2
