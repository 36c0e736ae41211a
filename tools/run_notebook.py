"""Execute one notebook through a Jupyter kernel; write the executed copy and an HTML page that works offline.

python -m tools.run_notebook NOTEBOOK --build build

`make demo` (tools/demo.py) calls `execute` for each notebook, each in a fresh kernel.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from nbconvert import HTMLExporter
from nbconvert.preprocessors import ExecutePreprocessor
from traitlets import default

from helpers.core import write_text_atomically
from tools.kernel_client import WakingKernelManager

WIDGETS_EMBED = Path(__file__).resolve().parent / "vendor" / "html-manager" / "embed.js"
TIME_LIMIT_S = 300  # per cell: a notebook takes at most about 90 s at classroom settings on 2 cores


class SlicedPollExecutor(ExecutePreprocessor):
    """nbconvert's ExecutePreprocessor with the kernel client of tools/kernel_client.py, which cannot miss a reply.

    The same client the Jupyter config of `make install` gives `jupyter nbconvert --execute` (benchmarks/README.md,
    "Hangs"): sends that leave a waiting poll awake, and waits that end in a real poll every second.
    """

    @default("kernel_manager_class")
    def _kernel_manager_class_default(self) -> type[KernelManager]:
        return WakingKernelManager


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
