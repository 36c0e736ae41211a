"""Execute every notebook headless at classroom settings; write executed copies and HTML to a build folder.

python -m tools.demo --build build [--smoke]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import ExecutePreprocessor

from helpers import results
from helpers.core import write_text_atomically

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def execute(notebook: Path, build: Path, timeout: int = 900) -> tuple[Path, Path, float]:
    """Run one notebook in its own folder; write the executed .ipynb and .html atomically."""
    nb = nbformat.read(notebook, as_version=4)
    start = time.perf_counter()
    ExecutePreprocessor(timeout=timeout, kernel_name="python3").preprocess(
        nb, {"metadata": {"path": str(notebook.parent)}}
    )
    seconds = time.perf_counter() - start
    executed = build / "notebooks" / notebook.name
    html = build / "html" / notebook.with_suffix(".html").name
    for path, text in ((executed, nbformat.writes(nb)), (html, HTMLExporter().from_notebook_node(nb)[0])):
        write_text_atomically(path, text)
    return executed, html, seconds


TIME_LIMIT_S = 900  # per notebook; the slowest takes about 90 s at classroom settings on 2 cores


def execute_with_time_limit(notebook: Path, build: Path, attempts: int = 2) -> float:
    """Execute one notebook in a child process; if it overruns the time limit, kill it and try again.

    A headless kernel client can, rarely, wait for ever on a message the kernel never delivers;
    a fresh process and kernel do not inherit that.
    """
    command = [sys.executable, "-m", "tools.demo", "--build", str(build), "--one", str(notebook)]
    for attempt in range(1, attempts + 1):
        start = time.perf_counter()
        child = subprocess.Popen(command, start_new_session=True)  # its own group: the kernel goes with it
        try:
            if child.wait(timeout=TIME_LIMIT_S) != 0:
                raise SystemExit(f"{notebook.name} failed; the error is printed above.")
            return time.perf_counter() - start
        except subprocess.TimeoutExpired:
            if hasattr(os, "killpg"):  # POSIX: the child and its kernel
                os.killpg(child.pid, signal.SIGKILL)
            else:  # Windows
                child.kill()
            child.wait()
            print(
                f"  {notebook.name} ran past {TIME_LIMIT_S} s (attempt {attempt} of {attempts}); stopped it.",
                flush=True,
            )
    raise SystemExit(f"{notebook.name} did not finish in {attempts} attempts of {TIME_LIMIT_S} s each.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=Path("build"))
    parser.add_argument("--smoke", action="store_true", help="tiny settings (TL_SMOKE=1), as in CI")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # used by execute_with_time_limit
    args = parser.parse_args(argv)
    build = args.build.resolve()
    if args.one:
        execute(args.one, build)
        return
    os.environ["TL_SMOKE"] = "1" if args.smoke else "0"
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        print(f"running {notebook.name} ...", flush=True)
        seconds = execute_with_time_limit(notebook, build)
        print(f"  {seconds:5.1f} s  -> {build / 'html' / notebook.with_suffix('.html').name}", flush=True)
    print(f"\nExecuted notebooks: {build / 'notebooks'}\nHTML copies:        {build / 'html'}")
    print_report(build)


def print_report(build: Path) -> None:
    """The comparison from the shipped results cache (helpers.results.report), printed and saved to build/report.txt."""
    text = results.report(results.load_results())
    (build / "report.txt").write_text(text + "\n", encoding="utf-8")
    print("\n" + text)


if __name__ == "__main__":
    main()
