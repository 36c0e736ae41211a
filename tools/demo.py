"""Execute every notebook headless at classroom settings; write executed copies, HTML and timings to a build folder.

python -m tools.demo --build build [--smoke]     # run them all; append this run to build/timings.json
python -m tools.demo --times                     # the recorded classroom runs: each notebook's range
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from nbclient.exceptions import CellExecutionError, CellTimeoutError

from helpers import cost, results
from helpers.core import write_text_atomically
from tools import run_notebook
from tools.run_notebook import TIME_LIMIT_S

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
PACKAGES = ("torch", "ipykernel", "jupyter_client", "nbclient", "pyzmq", "tornado", "ipywidgets", "nbconvert")
BUDGET_S = 90  # what a notebook may take at classroom settings (printed when it is exceeded)


def execute_with_time_limit(notebook: Path, build: Path) -> float:
    """Execute one notebook in a fresh kernel; a cell that runs past TIME_LIMIT_S stops the demo.

    No retry: a notebook that overruns is a bug to find (benchmarks/kernel_runs.py records which
    messages of the stuck cell arrived), not to hide. nbclient bounds every wait (kernel start, each
    cell's reply, its output), and shuts the kernel down on the way out.
    """
    start = time.perf_counter()
    try:
        run_notebook.execute(notebook, build, timeout=TIME_LIMIT_S)
    except CellTimeoutError:
        raise SystemExit(
            f"A cell of {notebook.name} ran past {TIME_LIMIT_S} s and was stopped. To see where it stalls, run "
            f"`python benchmarks/kernel_runs.py --runs 1 --notebooks {notebook.name[:2]}`."
        ) from None
    except CellExecutionError as error:
        raise SystemExit(f"{notebook.name} failed:\n{error}") from None
    return time.perf_counter() - start


def package_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def run_all(build: Path, smoke: bool) -> dict:
    """Every notebook in order; returns the timing record of this run."""
    os.environ["TL_SMOKE"] = "1" if smoke else "0"
    matmul_before = cost.matmul_flops_per_second() / 1e9
    print(f"this machine: float32 matmul {matmul_before:.0f} GFLOP/s, {os.cpu_count()} CPU cores\n", flush=True)
    seconds = {}
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        print(f"running {notebook.name} ...", flush=True)
        seconds[notebook.name] = round(execute_with_time_limit(notebook, build), 1)
        over = f"  (over the {BUDGET_S} s a notebook should take)" if seconds[notebook.name] > BUDGET_S else ""
        html = build / "html" / notebook.with_suffix(".html").name
        print(f"  {seconds[notebook.name]:5.1f} s  -> {html}{over}", flush=True)
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "smoke": smoke,
        "machine": {**cost.hardware_fingerprint(), "node": platform.node()},
        "threads": os.environ.get("TL_THREADS") or "one per core",
        "matmul_gflops": {"before": round(matmul_before, 1), "after": round(cost.matmul_flops_per_second() / 1e9, 1)},
        "versions": package_versions(),
        "seconds": seconds,
        "total_seconds": round(sum(seconds.values()), 1),
    }


def record_timings(record: dict, path: Path) -> None:
    """Append this run to the timings file (a JSON list), written atomically."""
    runs = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    write_text_atomically(path, json.dumps([*runs, record], indent=1) + "\n")


def timing_ranges(path: Path) -> str:
    """Each notebook's range over the recorded classroom runs, with the machines' matmul rates."""
    runs = [run for run in json.loads(path.read_text(encoding="utf-8")) if not run["smoke"]] if path.exists() else []
    if not runs:
        return f"No classroom runs recorded in {path}; run `make demo` first."
    names = sorted({name for run in runs for name in run["seconds"]})
    lines = [f"{len(runs)} classroom runs recorded in {path}:"]
    for name in names:
        times = [run["seconds"][name] for run in runs if name in run["seconds"]]
        lines.append(f"  {name:<40} {min(times):6.1f} to {max(times):6.1f} s")
    totals = [run["total_seconds"] for run in runs]
    rates = [run["matmul_gflops"]["before"] for run in runs]
    lines.append(f"  {'all':<40} {min(totals):6.1f} to {max(totals):6.1f} s")
    lines.append(f"  matmul {min(rates):.0f} to {max(rates):.0f} GFLOP/s, on {runs[-1]['machine']['processor']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=Path("build"))
    parser.add_argument("--smoke", action="store_true", help="tiny settings (TL_SMOKE=1), as in CI")
    parser.add_argument("--times", action="store_true", help="print the recorded classroom runs' ranges")
    args = parser.parse_args(argv)
    build = args.build.resolve()
    timings = build / "timings.json"
    if args.times:
        print(timing_ranges(timings))
        return
    record = run_all(build, args.smoke)
    record_timings(record, timings)
    print(f"\nExecuted notebooks: {build / 'notebooks'}\nHTML copies:        {build / 'html'}")
    print(
        f"Timings:            {timings}\n\nAll notebooks: {record['total_seconds']:.0f} s on this machine "
        f"(matmul {record['matmul_gflops']['before']:.0f} GFLOP/s). On another machine, expect roughly these "
        "times scaled by this rate over yours (`make benchmark` measures it)."
    )
    print_report(build)


def print_report(build: Path) -> None:
    """The comparison from the shipped results cache (helpers.results.report), printed and saved to build/report.txt."""
    text = results.report(results.load_results())
    (build / "report.txt").write_text(text + "\n", encoding="utf-8")
    print("\n" + text)


if __name__ == "__main__":
    main()
