"""The notebooks in a real browser: JupyterLab from .venv, driven in Debian's Chromium by Playwright.

`make test-browser` runs only this file. For each notebook it opens JupyterLab (smoke settings,
TL_SMOKE=1, on a copy of notebooks/ so nothing is saved over the sources), runs all cells and checks:
no cell raised, every widget rendered (no "Error displaying widget", no raw `IntSlider(...)` text),
no widget label or button text is cut, and (from the notebook JupyterLab saves) every solution passes
its check, as the smoke run checks it. In 05 it moves the label-budget slider and works the console
(approach, budget, one seed, the rerun button) and checks that what is displayed changes. It also
executes a small notebook with a widget through tools.run_notebook, as `make demo` does, opens its HTML
copy with every network request refused and checks that the widget renders and that the page carries the
notebook's title. Screenshots go to build/browser/.

`make test` runs here only the notebooks with widgets (tests/lanes.py), which the smoke runs then leave out;
`make test-full` runs every notebook here too.

Skipped, with the reason printed, when Playwright or Chromium is missing (`apt-get install chromium`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tests.lanes import BROWSER_NOTEBOOKS, CHROMIUM, NOTEBOOKS, notebook_params
from tests.test_notebooks_run import solutions_failing
from tools import run_notebook

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install -e '.[dev]'")

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "build" / "browser"
WIDGETS_EXPECTED = {"01": 1, "02": 1, "03": 1, "05": 3}  # interactive outputs each notebook builds, at least
assert set(WIDGETS_EXPECTED) == BROWSER_NOTEBOOKS
RUN_LIMIT_S = 240  # one notebook's "Run All" in smoke mode (each takes well under a minute)
# Without these, Chromium tries Google's services at start-up; the machine may have no network at all.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# No autosave (nothing is written back), the notebook's kernel starts without a dialog, no news prompt.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False, "autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
}
RAW_WIDGET_TEXT = re.compile(r"\b(IntSlider|SelectionSlider|Dropdown|VBox|HBox|interactive|Button)\(")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on PATH: `apt-get install chromium` (Debian)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a free local port with a token, serving a copy of notebooks/; yields its base URL."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    for plugin, values in LAB_SETTINGS.items():
        path = root / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), os.urandom(16).hex()
    env = {
        **os.environ,
        "TL_SMOKE": "1",
        "JUPYTERLAB_SETTINGS_DIR": str(root / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces"),
    }
    command = [
        str(Path(sys.executable).parent / "jupyter"),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    log = (root / "lab.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(f"{base}/api/status?token={token}", server)
        yield base, token, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def wait_for_server(url: str, server: subprocess.Popen, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {server.returncode}; its log: {server.args}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer at {url} within {limit_s} s")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, chromium_sandbox=False)
        yield chromium
        chromium.close()


def run_all_cells(page, limit_s: float = RUN_LIMIT_S) -> None:
    """JupyterLab's Run > Run All Cells, then wait until no cell is queued or running.

    JupyterLab stops at a cell that raises, leaving the rest unrun: that ends the wait too (the
    caller then finds the traceback). Prompts and outputs are read as text content: JupyterLab leaves cells
    scrolled out of view unrendered (content-visibility), and their inner text is empty.
    """
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    deadline, quiet = time.monotonic() + limit_s, 0
    while time.monotonic() < deadline:
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_text_contents()
        busy = any("[*]" in text for text in prompts)
        quiet = 0 if busy else quiet + 1
        if quiet >= 3 and any(re.search(r"\[\d+\]", text) for text in prompts):
            return
        time.sleep(1)
    raise AssertionError(f"Run All did not finish in {limit_s:.0f} s")


def open_notebook(page, lab, name: str) -> None:
    """The notebook alone in a workspace of its own (`reset`: no tabs restored from an earlier test)."""
    base, token, _ = lab
    page.goto(f"{base}/lab/workspaces/{Path(name).stem}/tree/notebooks/{name}?reset&token={token}")
    wait_for_kernel(page)


def wait_for_kernel(page) -> None:
    """The notebook JupyterLab opens is shown, and its kernel is idle (tests/test_hub.py opens one through a hub)."""
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
    try:  # the committed notebooks name no kernel, so JupyterLab may ask which one to start
        page.get_by_role("button", name="Select", exact=True).click(timeout=10_000)
    except sync_api.TimeoutError:
        pass
    page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).wait_for(timeout=60_000)


def shut_down_kernels(lab) -> None:
    """Every kernel the server runs, through its REST API: each test starts from a quiet machine."""
    base, token, _ = lab
    with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=10) as response:
        kernels = json.load(response)
    for kernel in kernels:
        request = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()


def output_problems(page) -> list[str]:
    """Tracebacks, widgets that failed to display, widget reprs shown as text, cut labels."""
    problems = []
    for text in page.locator(".jp-OutputArea-output").all_text_contents():  # every cell's, in view or not
        if "Traceback (most recent call last)" in text or "Error displaying widget" in text:
            problems.append(text[:500])
        elif RAW_WIDGET_TEXT.search(text):
            problems.append(f"a widget shown as text: {text[:200]}")
    cut = page.evaluate(
        """() => [...document.querySelectorAll('.jp-OutputArea .widget-label, .jp-OutputArea .widget-button')]
            .filter(e => e.offsetWidth > 0 && e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""
    )
    problems += [f"widget text cut: {text!r}" for text in cut]
    return problems


def widgets_rendered(page) -> int:
    """Interactive outputs on the page: an `interact` or a box of controls."""
    return page.locator(".jp-OutputArea .widget-interact, .jp-OutputArea .widget-vbox").count()


def saved_cells(page, path: Path, limit_s: float = 30) -> list[dict]:
    """Save the notebook from JupyterLab (File > Save Notebook) and read each code cell back as the smoke run
    reports it: its tags, source and printed text."""
    before = path.stat().st_mtime_ns
    page.get_by_role("menuitem", name="File", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Save Notebook")).first.click()
    deadline = time.monotonic() + limit_s
    while path.stat().st_mtime_ns == before:
        assert time.monotonic() < deadline, f"JupyterLab did not save {path.name} within {limit_s:.0f} s"
        time.sleep(0.25)
    time.sleep(0.5)  # the write may still be under way
    notebook = nbformat.read(path, as_version=4)
    return [
        {
            "tags": cell.metadata.get("tags", []),
            "source": cell.source,
            "stdout": "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream"),
        }
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


@pytest.mark.parametrize("notebook", notebook_params(full_unless=BROWSER_NOTEBOOKS))
def test_notebook_runs_in_jupyterlab(lab, browser, notebook):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        open_notebook(page, lab, notebook.name)
        run_all_cells(page)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"{notebook.stem}.png", full_page=True)
        assert output_problems(page) == []
        widgets = widgets_rendered(page)
        assert widgets >= WIDGETS_EXPECTED.get(notebook.name[:2], 0), f"only {widgets} widgets rendered"
        cells = saved_cells(page, lab[2] / "notebooks" / notebook.name)
        has_solutions = any("solution" in cell.metadata.get("tags", []) for cell in nbformat.read(notebook, 4).cells)
        assert any("solution" in c["tags"] and c["stdout"] for c in cells) == has_solutions, "no solution ran"
        assert solutions_failing(cells) == []
        if notebook.name.startswith("05"):
            check_side_by_side_controls(page)
            page.screenshot(path=SHOTS / f"{notebook.stem}_after_controls.png", full_page=True)
        assert errors == [], f"JavaScript errors: {errors}"
    finally:
        page.close()
        shut_down_kernels(lab)


def image_of(output) -> str:
    return output.locator("img").first.get_attribute("src") or ""


def changes(read, act, timeout_s: float = 30) -> bool:
    """Whether what `read` returns changes within timeout_s after `act`."""
    before = read()
    act()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if read() != before:
            return True
        time.sleep(0.25)
    return False


def check_side_by_side_controls(page) -> None:
    """05: the label-budget slider redraws its plot; the console's controls change its table and summary."""
    slider_output = page.locator(".widget-interact").first
    slider_output.scroll_into_view_if_needed()
    handle = slider_output.locator(".noUi-handle, .slider-container input").first
    assert changes(lambda: image_of(slider_output), lambda: (handle.click(), page.keyboard.press("ArrowRight"))), (
        "moving the label-budget slider did not redraw the plot"
    )

    console = page.locator(".jp-OutputArea .widget-vbox").filter(has=page.locator("select")).first
    console.scroll_into_view_if_needed()
    table = console.locator(".widget-output").first
    assert changes(table.inner_text, lambda: console.locator(".widget-dropdown select").select_option("LP-FT")), (
        "choosing another approach did not change the console's table"
    )
    budget = console.locator(".widget-hslider .noUi-handle, .widget-hslider input").first
    assert changes(table.inner_text, lambda: (budget.click(), page.keyboard.press("ArrowRight"))), (
        "moving the console's label slider did not change its table"
    )
    console.locator(".widget-select-multiple select").select_option(["0"])
    table.get_by_text("(one seed: no interval)").wait_for(timeout=30_000)  # the redraw may lag the click
    assert "nan" not in table.inner_text().lower()
    fresh = console.locator(".widget-output").nth(1)
    console.locator("button").first.click()
    fresh.get_by_text("fresh run: test accuracy").wait_for(timeout=120_000)


def slider_notebook(folder: Path) -> Path:
    """A notebook of a title and one slider: the smallest that `make demo` would copy to HTML with a widget."""
    cells = [
        nbformat.v4.new_markdown_cell("# A slider, offline"),
        nbformat.v4.new_code_cell("import ipywidgets as widgets\nwidgets.interact(lambda n: n * n, n=(1, 10))"),
    ]
    path = folder / "slider.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


@pytest.mark.parametrize(
    "which", ["slider", pytest.param("03", marks=pytest.mark.full)], ids=["slider", "03_reuse_the_features"]
)
def test_html_copy_renders_widgets_offline(browser, tmp_path, which):
    """A notebook executed through a kernel and written as HTML as `make demo` does, opened with every network
    request refused: its widgets render and the page carries the notebook's title."""
    notebook = slider_notebook(tmp_path) if which == "slider" else next(p for p in NOTEBOOKS if p.name[:2] == which)
    subprocess.run(
        [sys.executable, "-m", "tools.run_notebook", str(notebook), "--build", str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "TL_SMOKE": "1"},
        check=True,
        timeout=300,
    )
    html = tmp_path / "html" / notebook.with_suffix(".html").name
    page = browser.new_page()
    refused = []

    def local_files_only(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", local_files_only)
    page.goto(html.as_uri())
    page.wait_for_selector(".widget-slider, .widget-hslider", timeout=30_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"html_offline_{notebook.stem}.png", full_page=True)
    assert page.title() == run_notebook.notebook_title(nbformat.read(notebook, as_version=4))
    assert refused == [], f"the page asked the network for {refused}"
    page.close()
