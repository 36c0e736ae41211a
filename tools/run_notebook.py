"""Execute one notebook through a Jupyter kernel; write the executed copy and an HTML page that works offline.

python -m tools.run_notebook NOTEBOOK --build build

`make demo` (tools/demo.py) calls `execute` for each notebook, each in a fresh kernel.
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from queue import Empty

import nbformat
from nbclient.util import run_sync
from nbconvert import HTMLExporter
from nbconvert.preprocessors import ExecutePreprocessor

from helpers.core import write_text_atomically

WIDGETS_EMBED = Path(__file__).resolve().parent / "vendor" / "html-manager" / "embed.js"
TIME_LIMIT_S = 300  # per cell: a notebook takes at most about 90 s at classroom settings on 2 cores
POLL_SLICE_S = 1.0  # the longest a client waits on a socket's wake-up before it looks for itself


# --- a kernel client that cannot miss a message -------------------------------------------------
#
# The hang (benchmarks/README.md, "Hangs"): with the kernel idle and the cell's iopub "idle" received,
# the client sat in nbclient's wait for the cell's execute_reply while that reply was already in the
# client's shell socket (zmq.EVENTS said POLLIN). zmq.asyncio wakes a waiting poll from the socket's
# ZMQ_FD, which is edge-triggered: an edge consumed elsewhere (pyzmq #2173 reports zmq.EVENTS reads
# doing it) is never signalled again, and nbclient's poll, whose only timeout is the cell's whole time
# limit (900 s in our old demo, none by default), sleeps on. When a poll's timeout fires, pyzmq runs a
# real zmq_poll, which does see the message: so the fix is to wait in slices of POLL_SLICE_S, each of
# which ends in such a poll. A missed wake-up then costs at most a second.


def sliced(get_msg: Callable[..., Awaitable[dict]]) -> Callable[..., Awaitable[dict]]:
    """A channel's get_msg that waits at most POLL_SLICE_S at a time, until `timeout` (None: no limit)."""

    async def get_msg_in_slices(timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE_S if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await get_msg(timeout=min(POLL_SLICE_S, left))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get_msg_in_slices


class SlicedPollExecutor(ExecutePreprocessor):
    """nbconvert's ExecutePreprocessor whose shell and iopub channels wait in slices (see `sliced`)."""

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        for channel in (kc.shell_channel, kc.iopub_channel):
            channel.get_msg = sliced(channel.get_msg)
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)  # nbclient binds the sync one itself


def notebook_title(nb: nbformat.NotebookNode) -> str:
    """The first Markdown heading, without its '#': the HTML page's title."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("#"):
            return cell.source.splitlines()[0].lstrip("#").strip()
    return "Transfer Lab"


def to_html(nb: nbformat.NotebookNode) -> str:
    """An HTML page whose widgets render from their saved state with no network.

    nbconvert's default page loads require.js and MathJax from cdnjs and the widget manager from unpkg;
    here the widget manager is the vendored standalone build, copied beside the page (write_html_assets).
    """
    nothing = "data:text/javascript,"  # require.js and MathJax: no notebook here needs them
    exporter = HTMLExporter(widget_renderer_url="widgets-embed.js", require_js_url=nothing, mathjax_url=nothing)
    return exporter.from_notebook_node(nb, resources={"metadata": {"name": notebook_title(nb)}})[0]


def write_html_assets(html_dir: Path) -> None:
    html_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(WIDGETS_EMBED, html_dir / "widgets-embed.js")


def execute(notebook: Path, build: Path, timeout: int = TIME_LIMIT_S) -> tuple[Path, Path, float]:
    """Run one notebook in its own folder; write the executed .ipynb and .html atomically."""
    nb = nbformat.read(notebook, as_version=4)
    start = time.perf_counter()
    SlicedPollExecutor(timeout=timeout, kernel_name="python3").preprocess(
        nb, {"metadata": {"path": str(notebook.parent)}}
    )
    seconds = time.perf_counter() - start
    executed = build / "notebooks" / notebook.name
    html = build / "html" / notebook.with_suffix(".html").name
    write_text_atomically(executed, nbformat.writes(nb))
    write_html_assets(html.parent)
    write_text_atomically(html, to_html(nb))
    return executed, html, seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.run_notebook", description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--build", type=Path, default=Path("build"))
    args = parser.parse_args(argv)
    execute(args.notebook.resolve(), args.build.resolve())


if __name__ == "__main__":
    main()
