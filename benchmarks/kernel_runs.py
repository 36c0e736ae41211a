"""Execute notebooks through a real Jupyter kernel many times in a row; report hangs, times and versions.

    python benchmarks/kernel_runs.py --runs 20                       # 00-05 in turn, classroom settings
    python benchmarks/kernel_runs.py --runs 20 --notebooks 01 04     # only these, alternately
    python benchmarks/kernel_runs.py --runs 60 --smoke               # tiny settings (TL_SMOKE=1)
    python benchmarks/kernel_runs.py --runs 40 --stress              # a notebook that floods the kernel's output

Each execution starts a fresh kernel (as `make demo` does) and runs every cell with nbclient.
A cell that produces no message for --quiet-limit seconds while the kernel uses no CPU is a hang:
the script records which messages of that cell did arrive (on the shell and iopub channels), the
kernel's CPU time, then stops the kernel and goes on. Results: a table on stdout and a JSON record
(--out, default build/kernel_runs.json). Figures from this machine are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError
from nbclient.util import run_sync

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: tools.run_notebook
from tools.run_notebook import SlicedPollExecutor  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
PACKAGES = ("ipykernel", "jupyter_client", "nbclient", "pyzmq", "tornado", "ipywidgets", "ipython", "torch", "tqdm")


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
    """Logging, but nbclient's own polls: a missed wake-up waits for the cell's whole time limit."""

    async def async_start_new_kernel_client(self):
        kc = await NotebookClient.async_start_new_kernel_client(self)
        for name in ("shell", "iopub"):
            channel = getattr(kc, f"{name}_channel")
            channel.get_msg = self._logged(channel.get_msg, name)
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)


def kernel_cpu_seconds(client: NotebookClient) -> float | None:
    """User + system CPU time of the kernel process (Linux /proc), or None where unavailable."""
    try:
        pid = client.km.provisioner.process.pid
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (AttributeError, OSError, IndexError):
        return None


def execute_once(path: Path, quiet_limit: int, plain: bool = False) -> dict:
    """One execution in a fresh kernel: its wall time, per-cell times, and where it hung if it did."""
    notebook = nbformat.read(path, as_version=4)
    client = (PlainWatchedClient if plain else WatchedClient)(timeout=quiet_limit, kernel_name="python3")
    client.nb, client.resources = notebook, {"metadata": {"path": str(path.parent)}}  # as preprocess() sets them
    start = time.perf_counter()
    record = {"notebook": path.name, "hung": False}
    cell_seconds = []
    try:
        with client.setup_kernel():
            client.wait_for_reply(client.kc.kernel_info())
            for index, cell in enumerate(notebook.cells):
                cell_start = time.perf_counter()
                client.messages.clear()
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    record.update(hung=True, cell=index, diagnosis=diagnose(client, cell_start))
                    break
                cell_seconds.append(round(time.perf_counter() - cell_start, 2))
    finally:
        record["seconds"] = round(time.perf_counter() - start, 1)
        record["cell_seconds"] = cell_seconds
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


def stress_notebook(folder: Path) -> Path:
    """What our notebooks once sent a kernel, condensed: progress widgets, redrawn figures, interact widgets."""
    from nbformat.v4 import new_code_cell, new_notebook

    imports = (
        "import torch\nimport matplotlib.pyplot as plt\nimport ipywidgets as widgets\n"
        "from tqdm.auto import tqdm\nfrom IPython.display import DisplayHandle"
    )
    cells = [new_code_cell(imports)]
    for _ in range(6):
        cells += [new_code_cell(STRESS_CELL), new_code_cell("widgets.interact(lambda k=3: print(k * 2), k=(0, 10));")]
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
    parser.add_argument("--plain-client", action="store_true", help="nbclient's own polls (no slices)")
    parser.add_argument("--quiet-limit", type=int, default=300, help="seconds a cell may run (default 300)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "kernel_runs.json")
    args = parser.parse_args(argv)
    os.environ["TL_SMOKE"] = "1" if args.smoke else "0"
    if args.stress:
        paths = [stress_notebook(Path(tempfile.mkdtemp(prefix="kernel_runs_")))]
    else:
        paths = [next(NOTEBOOKS.glob(f"{prefix}_*.ipynb")) for prefix in args.notebooks]
    summary = {"machine": machine(), "versions": versions(), "smoke": args.smoke, "stress": args.stress}
    summary.update(client="nbclient's own" if args.plain_client else "sliced polls (tools.run_notebook)", runs=[])
    print(json.dumps(summary["versions"]), flush=True)
    for run in range(args.runs):
        record = execute_once(paths[run % len(paths)], args.quiet_limit, args.plain_client)
        summary["runs"].append(record)
        status = f"HUNG at cell {record['cell']}" if record["hung"] else "ok"
        print(f"run {run + 1:3d}  {record['notebook']:<40} {record['seconds']:7.1f} s  {status}", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=1))
    hangs = sum(record["hung"] for record in summary["runs"])
    print(f"\n{hangs} hangs in {args.runs} executions; record: {args.out}")
    for name in sorted({record["notebook"] for record in summary["runs"]}):
        times = [r["seconds"] for r in summary["runs"] if r["notebook"] == name and not r["hung"]]
        if times:
            print(f"  {name:<40} {len(times):3d} runs  {min(times):6.1f} to {max(times):6.1f} s")
    return 1 if hangs else 0


if __name__ == "__main__":
    if sys.platform == "win32":
        asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())
    sys.exit(main())
