"""Execute notebooks through a real Jupyter kernel many times in a row; report hangs, stalls, times and versions.

    python benchmarks/kernel_runs.py --runs 20                       # 00-05 in turn, classroom settings
    python benchmarks/kernel_runs.py --runs 20 --notebooks 01 04     # only these, alternately
    python benchmarks/kernel_runs.py --runs 60 --smoke               # tiny settings (TL_SMOKE=1)
    python benchmarks/kernel_runs.py --runs 40 --stress              # a notebook that floods the kernel's output
    python benchmarks/kernel_runs.py --runs 40 --notebooks 01 05 --nbconvert --quiet-limit 45  # a teacher's command

Each execution starts a fresh kernel (as `make demo` does) and runs every cell with nbclient: by default with the
client `make demo` uses (tools/kernel_client.py), with --plain-client nbclient's own, or with --nbconvert through
`jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=QUIET_LIMIT` in a subprocess, as a teacher
runs it (with the environment's Jupyter configuration; --stock-client overrides it with nbclient's own client).

A cell past --quiet-limit seconds is a hang. A cell that ends within STALL_MARGIN_S of the limit is not a normal run
either: a stall if its kernel had finished well before (a lost wake-up ends exactly there, when pyzmq's timed-out poll
finds the reply that was waiting all along, and the cell then "finishes" with no error), otherwise a cell whose kernel
worked up to the limit. For each, the script records the kernel's own times and, in this process, which messages of
that cell arrived and when (shell and iopub) and the kernel's CPU time. Results: a table on stdout and a JSON record
(--out, default build/kernel_runs.json). Figures from this machine are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import nbformat
from jupyter_client import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError
from nbclient.util import run_sync
from nbformat.v4 import new_code_cell
from traitlets import default

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: tools.run_notebook
from tools.run_notebook import SlicedPollExecutor  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
PACKAGES = "ipykernel jupyter_client nbclient nbconvert pyzmq tornado ipywidgets ipython torch tqdm".split()
STALL_MARGIN_S = 1.0  # a cell that ends this close to its limit was ended by the limit


def cell_outcome(
    seconds: float, kernel_seconds: float | None, quiet_limit: float, margin: float = STALL_MARGIN_S
) -> str:
    """What ended a cell that finished: its own end ("ok") or the limit. Ended by the limit is "stall" when the kernel
    had finished well before (the client slept on the reply), "limit" when the kernel worked up to it (the limit is
    too tight for this machine); neither is a normal run. `seconds`: the cell's time as the client saw it;
    `kernel_seconds`: from the kernel's busy status to its reply, by its own timestamps (None, unknown: a stall).
    """
    if seconds < quiet_limit - margin:
        return "ok"
    if kernel_seconds is not None and kernel_seconds >= quiet_limit - margin:
        return "limit"
    return "stall"


def clean(record: dict) -> bool:
    """An execution with no hang (a cell stopped by the limit) and no cell that ended at the limit."""
    return not record["hung"] and not record.get("failed") and not record["at_limit"]


def timestamp(text: str) -> float:
    """A message header's ISO time (UTC, as the kernel writes it) in seconds since the epoch."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def kernel_seconds(cell: nbformat.NotebookNode) -> float | None:
    """From the kernel's busy status to its execute_reply, as nbclient records them in the cell's metadata."""
    times = cell.get("metadata", {}).get("execution", {})
    if "iopub.status.busy" not in times or "shell.execute_reply" not in times:
        return None
    return round(timestamp(times["shell.execute_reply"]) - timestamp(times["iopub.status.busy"]), 2)


def versions() -> dict:
    return {"python": platform.python_version(), **{name: version(name) for name in PACKAGES}}


def machine() -> dict:
    return {"platform": platform.platform(), "cpus": os.cpu_count(), "threads": os.environ.get("TL_THREADS", "all")}


class WatchedClient(SlicedPollExecutor):
    """The client `make demo` uses, logging every message it takes from the kernel, with its arrival time.

    --plain-client swaps in nbclient's own client, whose polls wait on the socket's wake-up alone.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.messages: list[tuple[float, str, str, str]] = []  # (seconds, channel, msg_type, state)

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        for name in ("shell", "iopub"):
            channel = getattr(kc, f"{name}_channel")
            channel.get_msg = self._logged(channel.get_msg, name)
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _logged(self, get_msg, channel: str):
        async def get_and_log(*args, **kwargs):
            msg = await get_msg(*args, **kwargs)
            state = msg["content"].get("execution_state", "") if msg["msg_type"] == "status" else ""
            self.messages.append((time.perf_counter(), channel, msg["msg_type"], state))
            return msg

        return get_and_log


class PlainWatchedClient(WatchedClient):
    """Logging, but nbclient's own client: a missed wake-up waits for the cell's whole time limit."""

    @default("kernel_manager_class")
    def _kernel_manager_class_default(self):
        return AsyncKernelManager


def kernel_cpu_seconds(client: NotebookClient) -> float | None:
    """User + system CPU time of the kernel process (Linux /proc), or None where unavailable."""
    try:
        pid = client.km.provisioner.process.pid
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (AttributeError, OSError, IndexError):
        return None


def execute_once(path: Path, quiet_limit: int, plain: bool = False) -> dict:
    """One execution in a fresh kernel: its wall time, per-cell times, and where it hung or stalled if it did."""
    notebook = nbformat.read(path, as_version=4)
    client = (PlainWatchedClient if plain else WatchedClient)(timeout=quiet_limit, kernel_name="python3")
    client.nb, client.resources = notebook, {"metadata": {"path": str(path.parent)}}  # as preprocess() sets them
    start = time.perf_counter()
    record = {"notebook": path.name, "hung": False, "at_limit": []}
    cell_seconds = []
    try:
        with client.setup_kernel():
            client.wait_for_reply(client.kc.kernel_info())
            for index, cell in enumerate(notebook.cells):
                cell_start, cpu_start = time.perf_counter(), kernel_cpu_seconds(client)
                client.messages.clear()
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    record.update(hung=True, cell=index, diagnosis=diagnose(client, cell_start))
                    break
                seconds = round(time.perf_counter() - cell_start, 2)
                cell_seconds.append(seconds)
                outcome = cell_outcome(seconds, kernel_seconds(cell), quiet_limit)
                if outcome != "ok":  # what came, and when; what the kernel did meanwhile
                    cpu_end = kernel_cpu_seconds(client)
                    cpu = None if cpu_start is None or cpu_end is None else round(cpu_end - cpu_start, 2)
                    entry = {"cell": index, "outcome": outcome, "seconds": seconds, "kernel_s": kernel_seconds(cell)}
                    entry.update(kernel_cpu_s=cpu, messages=logged_since(client, cell_start))
                    record["at_limit"].append(entry)
    finally:
        record["seconds"] = round(time.perf_counter() - start, 1)
        record["cell_seconds"] = cell_seconds
    return record


def logged_since(client: WatchedClient, cell_start: float) -> list:
    return [(round(t - cell_start, 2), channel, kind, state) for t, channel, kind, state in client.messages]


def execute_with_nbconvert(path: Path, quiet_limit: int, stock: bool = False) -> dict:
    """One execution by `jupyter nbconvert --to notebook --execute`, as a teacher runs it, in a fresh process.

    Each cell's time as the client saw it runs from its kernel's busy status to the next cell's: a client asleep on a
    reply adds its wait there. A last cell appended to the copy makes the notebook's own last cell measurable too.
    """
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(new_code_cell("# kernel_runs.py: marks the end of the cell before"))
    command = [str(Path(sys.executable).with_name("jupyter")), "nbconvert", "--to", "notebook", "--execute"]
    command += ["--stdin", "--stdout", f"--ExecutePreprocessor.timeout={quiet_limit}"]
    if stock:
        command.append("--NotebookClient.kernel_manager_class=jupyter_client.manager.AsyncKernelManager")
    start = time.perf_counter()
    done = subprocess.run(command, input=nbformat.writes(notebook), capture_output=True, text=True, cwd=path.parent)
    record = {"notebook": path.name, "hung": "timed out" in done.stderr, "at_limit": []}
    record["seconds"] = round(time.perf_counter() - start, 1)
    if done.returncode != 0:  # a hang (CellTimeoutError) or an error in a cell
        record.update(failed=not record["hung"], diagnosis={"stderr": done.stderr[-2000:]}, cell_seconds=[])
        return record
    executed = nbformat.reads(done.stdout, as_version=4)
    timed = [(index, cell) for index, cell in enumerate(executed.cells) if "execution" in cell.metadata]
    busy = [timestamp(cell.metadata.execution["iopub.status.busy"]) for _, cell in timed]
    record["cell_seconds"] = [round(after - before, 2) for before, after in zip(busy, busy[1:])]
    for (index, cell), seconds, next_busy in zip(timed, record["cell_seconds"], busy[1:]):
        outcome = cell_outcome(seconds, kernel_seconds(cell), quiet_limit)
        if outcome != "ok":
            times = cell.metadata.execution
            kernel_done = max(timestamp(times["shell.execute_reply"]), timestamp(times["iopub.status.idle"]))
            entry = {"cell": index, "outcome": outcome, "seconds": seconds, "kernel_s": kernel_seconds(cell)}
            record["at_limit"].append(entry | {"client_wait_after_reply_s": round(next_busy - kernel_done, 2)})
    return record


def diagnose(client: WatchedClient, cell_start: float) -> dict:
    """What the client had received for the stuck cell, and whether the kernel was still computing."""
    before = kernel_cpu_seconds(client)
    time.sleep(5)
    after = kernel_cpu_seconds(client)
    return {
        "kernel_cpu_s_in_5s": None if before is None or after is None else round(after - before, 2),
        "messages": [(round(t - cell_start, 2), channel, kind, state) for t, channel, kind, state in client.messages],
    }


STRESS_CELL = """h = DisplayHandle()
x = torch.randn(64, 64)
for i in tqdm(range(1500), leave=False):  # a progress widget, updated from a monitor thread too
    x = torch.tanh(x @ x.T / 64)
    if i % 100 == 0:
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, i])
        (h.display if i == 0 else h.update)(fig)
        plt.close(fig)
print("done", float(x.sum()))"""


# What `interact` does, in bulk: outputs captured by an Output widget, which nbclient sends back to the kernel on the
# shell socket while it waits there for the cell's reply (the lost wake-up of tools/kernel_client.py)
OUTPUT_BURST_CELL = """out = widgets.Output()
display(out)
with out:
    for i in range(150):
        display(i)"""


def stress_notebook(folder: Path) -> Path:
    """What our notebooks once sent a kernel, condensed: progress widgets, redrawn figures, interact widgets,
    and a burst of outputs into an Output widget."""
    from nbformat.v4 import new_notebook

    imports = (
        "import torch\nimport matplotlib.pyplot as plt\nimport ipywidgets as widgets\n"
        "from tqdm.auto import tqdm\nfrom IPython.display import DisplayHandle, display"
    )
    cells = [new_code_cell(imports)]
    for _ in range(6):
        cells += [new_code_cell(STRESS_CELL), new_code_cell("widgets.interact(lambda k=3: print(k * 2), k=(0, 10));")]
        cells += [new_code_cell(OUTPUT_BURST_CELL)]
    path = folder / "stress.ipynb"
    nbformat.write(
        new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}}), path
    )
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="executions in all (notebooks taken in turn)")
    parser.add_argument("--notebooks", nargs="*", default=["00", "01", "02", "03", "04", "05"], help="number prefixes")
    parser.add_argument("--smoke", action="store_true", help="TL_SMOKE=1: tiny settings")
    parser.add_argument("--stress", action="store_true", help="run the stress notebook instead of ours")
    client = parser.add_mutually_exclusive_group()
    client.add_argument("--plain-client", action="store_true", help="nbclient's own client, in this process")
    client.add_argument("--nbconvert", action="store_true", help="`jupyter nbconvert --execute` in a subprocess")
    parser.add_argument("--stock-client", action="store_true", help="with --nbconvert: nbclient's own client")
    parser.add_argument("--quiet-limit", type=int, default=300, help="seconds a cell may run (default 300)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "kernel_runs.json")
    args = parser.parse_args(argv)
    if args.stock_client and not args.nbconvert:
        parser.error("--stock-client goes with --nbconvert (in this process, --plain-client is nbclient's own)")
    os.environ["TL_SMOKE"] = "1" if args.smoke else "0"
    if args.stress:
        paths = [stress_notebook(Path(tempfile.mkdtemp(prefix="kernel_runs_")))]
    else:
        paths = [next(NOTEBOOKS.glob(f"{prefix}_*.ipynb")) for prefix in args.notebooks]
    summary = {"machine": machine(), "versions": versions(), "smoke": args.smoke, "stress": args.stress}
    summary.update(client=client_name(args), quiet_limit=args.quiet_limit, stall_margin_s=STALL_MARGIN_S, runs=[])
    print(json.dumps(summary["versions"]), f"\nclient: {summary['client']}", flush=True)
    for run in range(args.runs):
        path = paths[run % len(paths)]
        if args.nbconvert:
            record = execute_with_nbconvert(path, args.quiet_limit, stock=args.stock_client)
        else:
            record = execute_once(path, args.quiet_limit, args.plain_client)
        summary["runs"].append(record)
        print(f"run {run + 1:3d}  {record['notebook']:<40} {record['seconds']:7.1f} s  {status(record)}", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=1))
    stalls = [c for record in summary["runs"] for c in record["at_limit"] if c["outcome"] == "stall"]
    at_limit = [c for record in summary["runs"] for c in record["at_limit"] if c["outcome"] == "limit"]
    hangs = sum(record["hung"] for record in summary["runs"])
    failed = sum(record.get("failed", False) for record in summary["runs"])
    print(
        f"\nIn {args.runs} executions: {len(stalls)} stalls (a cell ended at the {args.quiet_limit} s limit after its "
        f"kernel had finished), {hangs} hangs (stopped by the limit), {len(at_limit)} cells whose kernel worked up to "
        f"the limit, {failed} failed otherwise. Record: {args.out}"
    )
    for name in sorted({record["notebook"] for record in summary["runs"]}):
        times = [r["seconds"] for r in summary["runs"] if r["notebook"] == name and clean(r)]
        if times:
            print(f"  {name:<40} {len(times):3d} clean runs  {min(times):6.1f} to {max(times):6.1f} s")
    return 0 if all(clean(record) for record in summary["runs"]) else 1


def client_name(args: argparse.Namespace) -> str:
    if args.nbconvert:
        return "jupyter nbconvert --execute, " + ("nbclient's own client" if args.stock_client else "Jupyter config")
    return "nbclient's own" if args.plain_client else "tools.kernel_client (make demo's)"


def status(record: dict) -> str:
    words = {"stall": "STALLED", "limit": "RAN TO THE LIMIT"}
    parts = [f"{words[c['outcome']]} at cell {c['cell']} ({c['seconds']} s)" for c in record["at_limit"]]
    if record["hung"]:
        parts.append(f"HUNG at cell {record.get('cell', '?')}")
    if record.get("failed"):
        parts.append("FAILED (an error in a cell: see the record)")
    return "; ".join(parts) or "ok"


if __name__ == "__main__":
    if sys.platform == "win32":
        asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())
    sys.exit(main())
