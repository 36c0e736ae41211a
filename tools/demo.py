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
import statistics
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
REFERENCE_GFLOPS = 116  # the float32 matmul rate of the design's reference machine, where all nine take <= 5 min


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
    """Every notebook in order; returns the timing record of this run.

    The matmul rate is sampled before each notebook and after the last: on a shared VM it moved from
    101 to 181 GFLOP/s from one second to the next (2026-12-05), so one sample says little about the
    machine a run had. The record keeps every sample; their median is the rate to scale by.
    """
    os.environ["TL_SMOKE"] = "1" if smoke else "0"
    rates = [matmul_gflops()]
    print(f"this machine: float32 matmul {rates[0]:.0f} GFLOP/s, {os.cpu_count()} CPU cores\n", flush=True)
    seconds = {}
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        if seconds:
            rates.append(matmul_gflops())
        print(f"running {notebook.name} ...", flush=True)
        seconds[notebook.name] = round(execute_with_time_limit(notebook, build), 1)
        over = f"  (over the {BUDGET_S} s a notebook should take)" if seconds[notebook.name] > BUDGET_S else ""
        html = build / "html" / notebook.with_suffix(".html").name
        print(f"  {seconds[notebook.name]:5.1f} s  -> {html}{over}", flush=True)
    rates.append(matmul_gflops())
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "smoke": smoke,
        "machine": {**cost.hardware_fingerprint(), "node": platform.node()},
        "threads": os.environ.get("TL_THREADS") or "one per core",
        "matmul_gflops": {
            "before": rates[0],
            "after": rates[-1],
            "samples": rates,
            "median": round(statistics.median(rates), 1),
        },
        "versions": package_versions(),
        "seconds": seconds,
        "total_seconds": round(sum(seconds.values()), 1),
    }


def matmul_gflops() -> float:
    """One sample of the float32 matmul rate, in GFLOP/s (about half a second)."""
    return round(cost.matmul_flops_per_second(repeats=5) / 1e9, 1)


def at_reference(record: dict) -> float:
    """The run's total seconds scaled to the design's reference machine: seconds x median rate / REFERENCE."""
    rate = record["matmul_gflops"].get("median", record["matmul_gflops"]["before"])
    return record["total_seconds"] * rate / REFERENCE_GFLOPS


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
    rates = [run["matmul_gflops"].get("median", run["matmul_gflops"]["before"]) for run in runs]
    scaled = [at_reference(run) for run in runs]
    lines.append(f"  {'all':<40} {min(totals):6.1f} to {max(totals):6.1f} s")
    processor = runs[-1]["machine"]["processor"]
    lines.append(f"  matmul {min(rates):.0f} to {max(rates):.0f} GFLOP/s (each run's median), on {processor}")
    lines.append(f"  all, scaled to {REFERENCE_GFLOPS} GFLOP/s: {min(scaled):.0f} to {max(scaled):.0f} s")
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
    rate = record["matmul_gflops"]
    print(
        f"Timings:            {timings}\n\nAll notebooks: {record['total_seconds']:.0f} s on this machine, whose "
        f"float32 matmul ran at {rate['median']:.0f} GFLOP/s (median of {len(rate['samples'])} samples, "
        f"{min(rate['samples']):.0f} to {max(rate['samples']):.0f}); at the reference's {REFERENCE_GFLOPS} GFLOP/s "
        f"that is about {at_reference(record):.0f} s. On another machine, scale these times by the median rate "
        "over yours (`make benchmark` measures it)."
    )
    print_report(build)


def print_report(build: Path) -> None:
    """The comparison from the shipped results cache (helpers.results.report), printed and saved to build/report.txt."""
    text = results.report(results.load_results())
    (build / "report.txt").write_text(text + "\n", encoding="utf-8")
    print("\n" + text)


if __name__ == "__main__":
    main()
