"""What one student's kernel costs: each notebook's peak memory and CPU-seconds, for sizing a class server.

    python benchmarks/sizing.py                        # notebooks 00-08 at classroom settings (about 4 minutes)
    python benchmarks/sizing.py --notebooks 01 04      # only these
    python benchmarks/sizing.py --report --students 30 --minutes 5   # the guide's table and sentences, from the runs

Each notebook runs in a fresh kernel, one at a time, with the client `make demo` uses (tools/run_notebook.py), at
classroom settings (TL_SMOKE=0) and the kernel's default threads. For the kernel process (and any process it starts):
- peak memory: the kernel's peak resident set (VmHWM in /proc/<pid>/status on Linux), and the peak of the whole
  process tree sampled every SAMPLE_S;
- CPU-seconds: user + system time of the kernel from its start to the end of the last cell (children included);
- wall seconds, from the kernel's start to the end of the last cell.
CPU-seconds and peak memory hardly depend on what else the machine runs; wall seconds do (the load average before
and after each notebook is recorded with them). An idle JupyterLab server is measured too: each student has one.

Resident memory counts the shared libraries (torch's are most of it) in every kernel, so 30 x peak RSS overstates what
30 kernels take together: a safe side for sizing. Each run is appended to a JSON record (--out, default
build/sizing.json); `--report` prints the Markdown table of docs/instructor_guide.md from all recorded runs (each
figure's range) and the class sentences, sized by each notebook's largest figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from importlib.metadata import version
from pathlib import Path

import nbformat
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: tools.run_notebook
from tools.run_notebook import TIME_LIMIT_S, SlicedPollExecutor  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
SAMPLE_S = 0.1  # how often the kernel's process tree is sampled
MIB = 2**20


class TreeSampler(threading.Thread):
    """Samples a process and its descendants: the peak of their summed resident memory."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_rss = 0
        self.children_cpu_s = 0.0  # CPU time of descendants still running at the last sample
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(SAMPLE_S):
            try:
                tree = [self.root, *self.root.children(recursive=True)]
                self.peak_rss = max(self.peak_rss, sum(p.memory_info().rss for p in tree))
                self.children_cpu_s = sum(sum(p.cpu_times()[:2]) for p in tree[1:])
            except psutil.Error:  # a child that ended between the listing and the reading
                pass

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def peak_rss_kernel(pid: int) -> int | None:
    """VmHWM: the most resident memory the process ever had, in bytes (Linux only)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def cpu_seconds(process: psutil.Process) -> float:
    """User + system time of the process and of its children that have ended."""
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def measure(path: Path) -> dict:
    """Run one notebook in a fresh kernel; what its kernel took."""
    notebook = nbformat.read(path, as_version=4)
    client = SlicedPollExecutor(timeout=TIME_LIMIT_S, kernel_name="python3")
    client.nb, client.resources = notebook, {"metadata": {"path": str(path.parent)}}  # as preprocess() sets them
    load_before = os.getloadavg()
    start = time.perf_counter()
    with client.setup_kernel():
        pid = client.km.provisioner.process.pid
        sampler = TreeSampler(pid)
        sampler.start()
        client.wait_for_reply(client.kc.kernel_info())
        kernel = psutil.Process(pid)
        started = {"wall_s": round(time.perf_counter() - start, 1), "cpu_s": round(cpu_seconds(kernel), 1)}
        started["rss_mib"] = round(kernel.memory_info().rss / MIB)
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        wall = time.perf_counter() - start
        sampler.stop()
        cpu = cpu_seconds(kernel) + sampler.children_cpu_s
        memory = kernel.memory_full_info()  # at the end: how much of it is the kernel's own (uss) and shared
        peak_kernel = peak_rss_kernel(pid) or sampler.peak_rss
    return {
        "notebook": path.name,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_rss_mib": round(peak_kernel / MIB),
        "peak_tree_rss_mib": round(max(sampler.peak_rss, peak_kernel) / MIB),
        "end_rss_mib": round(memory.rss / MIB),
        "end_pss_mib": round(memory.pss / MIB) if hasattr(memory, "pss") else None,
        "end_uss_mib": round(memory.uss / MIB),
        "started": started,  # the kernel ready, before the first cell
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def jupyterlab_server_rss(settle_s: float = 5) -> dict:
    """Resident memory of an idle JupyterLab server (one per student on a hub), settle_s after it says it is up."""
    with tempfile.TemporaryDirectory() as root:
        command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--port=0", "--allow-root"]
        server = subprocess.Popen([*command, f"--ServerApp.root_dir={root}"], stderr=subprocess.PIPE, text=True)
        try:
            for line in server.stderr:  # its log, until the line with its address
                if "http://" in line:
                    break
            else:
                raise SystemExit(f"JupyterLab did not start: {' '.join(command)} (exit {server.wait()})")
            time.sleep(settle_s)
            rss = psutil.Process(server.pid).memory_info().rss
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {"rss_mib": round(rss / MIB), "settle_s": settle_s}


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    for line in cpuinfo.read_text().splitlines() if cpuinfo.exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "threads": os.environ.get("TL_THREADS", "the kernel's default (helpers.train.set_threads: one per core)"),
    }


def versions() -> dict:
    return {"python": platform.python_version(), **{name: version(name) for name in ("torch", "ipykernel", "numpy")}}


def per_notebook(runs: list[dict]) -> dict[str, dict]:
    """Each notebook's figures over the recorded runs: {"01": {"peak_rss_mib": [...], "cpu_s": [...], ...}}."""
    figures: dict[str, dict] = {}
    for run in runs:
        for row in run["notebooks"]:
            mine = figures.setdefault(row["notebook"][:2], {"peak_rss_mib": [], "cpu_s": [], "wall_s": []})
            for name, values in mine.items():
                values.append(row[name])
    return figures


def class_needs(peak_rss_mib: float, server_mib: float, cpu_s: float, students: int, minutes: float) -> dict:
    """Memory and cores for `students` running one notebook at once, finishing within `minutes`.

    memory = students x (the kernel's peak RSS + an idle JupyterLab server's RSS); cores = students x CPU-seconds /
    (minutes x 60). Neither counts the operating system or the hub itself.
    """
    return {
        "memory_gb": students * (peak_rss_mib + server_mib) * MIB / 1e9,
        "cores": students * cpu_s / (minutes * 60),
    }


def span(values: list[float], digits: int = 0) -> str:
    low, high = f"{min(values):,.{digits}f}", f"{max(values):,.{digits}f}"
    return low if low == high else f"{low} to {high}"


def report(runs: list[dict], students: int, minutes: float) -> str:
    """The Markdown table of docs/instructor_guide.md and its class sentences: each figure's range over the runs,
    and the class's needs from the largest (memory, CPU-seconds) of each notebook."""
    server = max(run["jupyterlab_server"]["rss_mib"] for run in runs)
    figures = per_notebook(runs)
    lines = [
        "| notebook | peak memory of the kernel (MiB) | kernel CPU-seconds | wall seconds | "
        f"{students} students at once, {minutes:g} min: memory (GB) | cores |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    needs = {}
    for notebook, f in figures.items():
        needs[notebook] = class_needs(max(f["peak_rss_mib"]), server, max(f["cpu_s"]), students, minutes)
        lines.append(
            f"| {notebook} | {span(f['peak_rss_mib'])} | {span(f['cpu_s'])} | {span(f['wall_s'])} | "
            f"{needs[notebook]['memory_gb']:.1f} | {needs[notebook]['cores']:.1f} |"
        )
    sentences = []
    for why, key in (("the most memory", "peak_rss_mib"), ("the most CPU-seconds", "cpu_s")):
        notebook = max(figures, key=lambda n: max(figures[n][key]))
        f, need = figures[notebook], needs[notebook]
        sentence = (
            f"A class of {students} needs about {math.ceil(need['memory_gb'])} GB and {math.ceil(need['cores'])} "
            f"cores for notebook {notebook} ({why}) to finish in {minutes:g} minutes when all {students} run it at "
            f"once: memory = {students} x ({max(f['peak_rss_mib']):,} MiB, the kernel's peak, + {server} MiB, an "
            f"idle JupyterLab server) = {need['memory_gb']:.1f} GB; cores = {students} x {max(f['cpu_s']):.1f} "
            f"CPU-seconds / ({minutes:g} x 60 s) = {need['cores']:.1f}."
        )
        if sentence not in sentences:
            sentences.append(sentence)
    return "\n".join(lines) + "\n\n" + "\n\n".join(sentences)


def recorded_runs(path: Path) -> list[dict]:
    return json.loads(path.read_text())["runs"] if path.exists() else []


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", nargs="*", default=[f"{n:02d}" for n in range(9)], help="number prefixes")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "sizing.json", help="runs are appended here")
    parser.add_argument("--report", action="store_true", help="only print the guide's table from the recorded runs")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--minutes", type=float, default=5)
    args = parser.parse_args(argv)
    if args.report:
        print(report(recorded_runs(args.out), args.students, args.minutes))
        return
    os.environ["TL_SMOKE"] = "0"  # classroom settings, in every kernel started from here
    runs = recorded_runs(args.out)
    record = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": machine()}
    record.update(versions=versions(), jupyterlab_server=jupyterlab_server_rss(), notebooks=[])
    runs.append(record)
    print(f"an idle JupyterLab server: {record['jupyterlab_server']['rss_mib']} MiB resident", flush=True)
    for prefix in args.notebooks:
        row = measure(next(NOTEBOOKS.glob(f"{prefix}_*.ipynb")))
        record["notebooks"].append(row)
        print(
            f"{row['notebook']:<40} peak {row['peak_rss_mib']:6,} MiB  {row['cpu_s']:6.1f} CPU-s  "
            f"{row['wall_s']:6.1f} s  (load {row['load_before'][0]:.1f} -> {row['load_after'][0]:.1f})",
            flush=True,
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"runs": runs}, indent=1))
    print(f"\n{report(runs, args.students, args.minutes)}\n\n{len(runs)} runs recorded in {args.out}")


if __name__ == "__main__":
    main()
