"""Run one notebook's code cells in a fresh IPython shell, in this process: `python tests/notebook_runner.py NB [OUT]`.

With OUT, it also writes what each code cell printed, with the cell's tags, as JSON (tests/test_editions.py reads it).

The cells run as in JupyterLab (IPython semantics: display, the last expression of a cell shown,
widgets built and their callbacks called once), but without a kernel or its ZeroMQ sockets: fast, and
the smoke tests test the notebooks, not the messaging (make demo and tests/test_browser.py run real
kernels; benchmarks/README.md, "Hangs", is about that path). Exits 1 naming the failing cell.
"""

import json
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: figures are drawn, then closed

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402


def run(path: Path, outputs: Path | None = None) -> int:
    """Run every code cell; with `outputs`, also write what each cell printed (JSON: tags, stdout)."""
    notebook = nbformat.read(path, as_version=4)
    shell = InteractiveShell.instance()
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    printed = []
    start = time.perf_counter()
    for number, cell in enumerate(code_cells, 1):
        with capture_output(display=False) as captured:
            result = shell.run_cell(cell.source, store_history=True)
        sys.stdout.write(captured.stdout)
        printed.append({"tags": cell.metadata.get("tags", []), "source": cell.source, "stdout": captured.stdout})
        plt.close("all")
        if not result.success:
            error = result.error_in_exec or result.error_before_exec
            print(f"\n{path.name}: code cell {number} of {len(code_cells)} failed: {error!r}\n---\n{cell.source}\n---")
            return 1
    if outputs is not None:
        outputs.write_text(json.dumps(printed), encoding="utf-8")
    print(f"\n{path.name}: {len(code_cells)} code cells ran in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None))
