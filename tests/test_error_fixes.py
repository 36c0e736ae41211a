"""The fixes that error messages suggest work: break a shipped file in a clone, run the command the
error names, and load the file again.

Each case runs in a fresh `git clone` of this repository (the committed files, as a learner has them),
with the clone's own code, so the command is tried exactly as a learner would paste it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# (file to break, how, Python that loads it and must fail then succeed)
CASES = {
    "truncated checkpoint": (
        "checkpoints/source_letters_cnn.pt",
        "from helpers import checkpoint; checkpoint.load_checkpoint()",
    ),
    "truncated data file": (
        "data/train-labels-idx1-ubyte.gz",
        "from helpers import data; data.load_fashion_mnist('train')",
    ),
    "corrupt results cache": (
        "data/results/experiments.json",
        "from helpers import results; results.load_cache()",
    ),
}

pytestmark = [
    pytest.mark.slow,  # a clone and six fresh Python processes: about half a minute
    pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(), reason="needs git and a checkout"),
]


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    target = tmp_path_factory.mktemp("clone") / "transfer-lab"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True)
    return target


def python_in(clone: Path, code: str) -> subprocess.CompletedProcess:
    """Run `code` with the clone's own helpers (its folder comes first on sys.path)."""
    return subprocess.run([sys.executable, "-c", code], cwd=clone, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("case", CASES)
def test_the_suggested_command_restores_the_file(clone, case):
    relative, load = CASES[case]
    path = clone / relative
    original = path.read_bytes()
    path.write_bytes(original[: len(original) // 2])  # truncated, as by an interrupted copy

    broken = python_in(clone, load)
    assert broken.returncode != 0, f"loading a {case} did not fail"
    commands = re.findall(r"`(git checkout -- [^`]+)`", broken.stderr)
    assert commands, f"the error names no restore command:\n{broken.stderr[-1500:]}"

    subprocess.run(commands[0], shell=True, cwd=clone, check=True)
    assert path.read_bytes() == original, f"`{commands[0]}` did not restore {relative}"
    fixed = python_in(clone, load)
    assert fixed.returncode == 0, fixed.stderr[-1500:]
