"""A class on one server: deploy/jupyterhub/jupyterhub_config.py started on loopback with three students at once.

`make hub-check` installs what this needs (the `hub` extra, configurable-http-proxy from npm into build/hub/) and
runs it; `make test-full` runs it too, and skips it, saying why, where the hub or the proxy is not installed.

The hub and its proxy start on free local ports, with a fresh student edition and the students' folders in a
temporary folder. Each student logs in and gets a server, and all three run a notebook at once, at smoke settings
(TL_SMOKE=1): student1 opens 05 (widgets) in Chromium through the hub's login page and runs it as in
tests/test_browser.py; student2 runs 03 and student3 runs 05 over jupyter_server's REST API and the kernel's
websocket (tools/hub_client.py). Then:
- every cell finished without an error, and the widgets were displayed;
- each kernel was given the hub's CPU_LIMIT, and helpers.train.available_cores reads that many cores from it;
- no student can read another's files: another's server answers 403, a path out of one's folder 404, a
  student's folder lists only their own files, and student1's browser, sent to another's JupyterLab, ends on
  the hub's login page;
- the idle culler runs, and the hub stops cleanly on SIGTERM: the proxy, the culler, the servers and their
  kernels all end with it, and nothing listens on its port.
The times, each kernel's peak memory and the HTTP answers go to build/hub/hub_check.json.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import psutil
import pytest
import requests

from tests.lanes import CHROMIUM
from tests.test_browser import WIDGETS_EXPECTED, free_port
from tools import editions, hub_client

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "deploy" / "jupyterhub" / "jupyterhub_config.py"
JUPYTERHUB = Path(sys.executable).parent / "jupyterhub"
PROXY = REPO / "build" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
REPORT = REPO / "build" / "hub" / "hub_check.json"
PASSWORD = "class-of-three"  # the local test's DummyAuthenticator takes any password
NOTEBOOK_OF = {"student1": "05", "student2": "03", "student3": "05"}  # student1 is the one in Chromium
CPU_LIMIT = 1  # c.Spawner.cpu_limit in the config
# After the notebook, each API student's kernel reports the limit it was given, the cores helpers.train reads from it
# and the threads torch has (the notebook's train.set_threads() sets them; one that never calls it keeps all cores).
THREADS_PROBE = """import os, torch
from helpers import train
print(os.environ.get("CPU_LIMIT"), train.available_cores(), torch.get_num_threads())"""

missing = [
    what
    for what, present in [
        ("jupyterhub (pip install -e '.[hub]')", JUPYTERHUB.exists()),
        (f"configurable-http-proxy in {PROXY.parent.parent.parent.relative_to(REPO)}", PROXY.exists()),
        ("Playwright (pip install -e '.[dev]')", importlib.util.find_spec("playwright") is not None),
        ("Chromium (apt-get install chromium)", CHROMIUM is not None),
    ]
    if not present
]
if missing and os.environ.get("TL_HUB_CHECK") == "1":  # `make hub-check` installed them: missing is a failure
    raise RuntimeError(f"make hub-check could not find {', '.join(missing)}")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.full,
    pytest.mark.skipif(bool(missing), reason=f"`make hub-check` installs what is missing: {', '.join(missing)}"),
]


class Hub:
    """The hub's process and where it listens; `leftovers` after it stopped: processes of it still alive."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = folder / "hub.log"
        self.process: subprocess.Popen | None = None
        self.children: list[psutil.Process] = []
        self.leftovers: list[str] = []
        self.stop_seconds = 0.0


@contextmanager
def running_hub(folder: Path):
    """The shipped config on free loopback ports, its state in `folder`; stopped with SIGTERM on the way out."""
    hub = Hub(folder)
    editions.write_edition("student", folder / "student")  # the notebooks as they are now, not a stale build
    env = {**os.environ, "TL_HUB_DIR": str(folder / "state"), "TL_HUB_NOTEBOOKS": str(folder / "student")}
    env.update(TL_HUB_USERS=" ".join(NOTEBOOK_OF), TL_SMOKE="1")
    command = [str(JUPYTERHUB), "-f", str(CONFIG), f"--JupyterHub.bind_url={hub.url}"]
    command += [f"--JupyterHub.hub_bind_url=http://127.0.0.1:{free_port()}"]
    command += [f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}"]
    with hub.log.open("w") as log:
        # SIGINT as the default, whoever started pytest: the hub stops its servers and services with it first.
        hub.process = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        wait_for_hub(hub)
        yield hub
    finally:
        stop(hub)


def wait_for_hub(hub: Hub, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        assert hub.process.poll() is None, f"the hub exited with code {hub.process.returncode}; see {hub.log}"
        try:
            if requests.get(f"{hub.url}/hub/api/", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the hub did not answer at {hub.url} within {limit_s:.0f} s; see {hub.log}")


def stop(hub: Hub, limit_s: float = 90) -> None:
    """SIGTERM to the hub, as systemd stops it; then every process it had started must be gone."""
    hub.children = hub.children or psutil.Process(hub.process.pid).children(recursive=True)
    start = time.monotonic()
    hub.process.terminate()
    try:
        hub.process.wait(timeout=limit_s)
    except subprocess.TimeoutExpired:
        hub.leftovers.append(f"the hub itself, {limit_s:.0f} s after SIGTERM")
        hub.process.kill()
    hub.stop_seconds = time.monotonic() - start
    for child in hub.children:
        try:
            if child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
                hub.leftovers.append(" ".join(child.cmdline())[:160])
                child.kill()  # ours: leave nothing behind, then fail
        except psutil.NoSuchProcess:
            pass


class PeakMemory:
    """Samples the resident memory of each kernel the hub's servers run, every half second, in a thread."""

    def __init__(self, hub: Hub):
        self.hub, self.peaks, self.done = hub, {}, threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        while not self.done.wait(0.5):
            for child in psutil.Process(self.hub.process.pid).children(recursive=True):
                try:
                    if "ipykernel_launcher" in " ".join(child.cmdline()):
                        user = child.environ().get("USER", "?")
                        self.peaks[user] = max(self.peaks.get(user, 0), child.memory_info().rss / 2**20)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def notebook_name(folder: Path, number: str) -> str:
    return next(path.name for path in sorted((folder / "student").glob(f"{number}_*.ipynb")))


def run_over_api(student: hub_client.Student, notebook: str) -> dict:
    """A student without a browser: server, then the notebook over the kernel websocket, then THREADS_PROBE."""
    spawn_s = hub_client.start_server(student)
    run = hub_client.run_notebook(student, notebook, extra_code=THREADS_PROBE)
    probe = run.cells[-1].stdout.split() if not run.errors else ["", "0", "0"]  # the probe ran last, if it ran
    return {"spawn_s": spawn_s, "run": run, "cpu_limit": probe[0], "cores": int(probe[1]), "threads": int(probe[2])}


def run_in_chromium(hub: Hub, name: str, notebook: str, others: list[str]) -> dict:
    """A student in Chromium: the hub's login page, JupyterLab, Run All; then another's files, asked for."""
    from playwright import sync_api

    from tests.test_browser import (
        CHROMIUM_ARGS,
        SHOTS,
        output_problems,
        run_all_cells,
        wait_for_kernel,
        widgets_rendered,
    )

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, chromium_sandbox=False)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            start = time.monotonic()
            page.goto(f"{hub.url}/hub/login")
            page.fill("#username_input", name)
            page.fill("#password_input", PASSWORD)
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{name}/lab**", timeout=120_000)  # the hub spawns, then sends us on
            spawn_s = time.monotonic() - start
            page.goto(f"{hub.url}/user/{name}/lab/workspaces/hub-check/tree/{notebook}?reset")
            wait_for_kernel(page)
            start = time.monotonic()
            try:
                run_all_cells(page)
            except AssertionError as error:  # name the cell that stopped it, if one did
                raise AssertionError(f"{name}'s {notebook}: {error}; {output_problems(page)}") from error
            finally:
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=SHOTS / f"hub_{name}_{Path(notebook).stem}.png", full_page=True)
            run_s = time.monotonic() - start
            others_opened = {other: opens_in_browser(browser, f"{hub.url}/user/{other}/lab") for other in others}
            return {
                "spawn_s": spawn_s,
                "run_s": run_s,
                "problems": output_problems(page),
                "widgets": widgets_rendered(page),
                "js_errors": errors,
                "others_opened": others_opened,
            }
        finally:
            browser.close()


def opens_in_browser(browser, url: str) -> bool:
    """Whether a new tab of this (logged-in) browser ends on `url` after the hub's OAuth redirects. The hub refuses
    another's server by sending the browser to its login page, to log in as someone allowed in."""
    page = browser.new_page()
    try:
        response = page.goto(url)
        return response.ok and urlparse(page.url).path.startswith(urlparse(url).path)
    finally:
        page.close()


def isolation_problems(students: dict[str, hub_client.Student], answers: dict[str, set]) -> list[str]:
    """Each student writes a file of their own; then each tries to read the others', directly and by '..'.

    `answers` collects the HTTP statuses each way of asking got."""
    for name, student in students.items():
        hub_client.put_text(student, f"private-{name}.txt", f"only {name} reads this")
    problems = []
    for name, student in students.items():
        listed = [item for item in hub_client.list_files(student) if item.startswith("private-")]
        if listed != [f"private-{name}.txt"]:
            problems.append(f"{name}'s folder lists {listed}")
        for other in students:
            if other == name:
                continue
            status = student.get(f"{student.hub}/user/{other}/api/contents/private-{other}.txt").status_code
            answers.setdefault("another's server", set()).add(status)
            if status not in (403, 404):
                problems.append(f"{name} asked {other}'s server for {other}'s file: HTTP {status}")
            status = student.get(f"{student.server}/api/contents/..%2F{other}%2Fprivate-{other}.txt").status_code
            answers.setdefault("'..' on one's own", set()).add(status)
            if status not in (400, 403, 404):
                problems.append(f"{name} reached {other}'s file through '..' on their own server: HTTP {status}")
    return problems


def rounded(report):
    """Seconds to a tenth, in a nested dict."""
    if isinstance(report, dict):
        return {key: rounded(value) for key, value in report.items()}
    return round(report, 1) if isinstance(report, float) else report


def test_three_students_share_one_hub(tmp_path):
    started = time.monotonic()
    with running_hub(tmp_path) as hub:
        students = {name: hub_client.log_in(hub.url, name, PASSWORD) for name in NOTEBOOK_OF}
        browser_student, *api_students = NOTEBOOK_OF
        with PeakMemory(hub) as memory, ThreadPoolExecutor(len(api_students)) as pool:
            api_runs = {
                name: pool.submit(run_over_api, students[name], notebook_name(tmp_path, NOTEBOOK_OF[name]))
                for name in api_students
            }
            notebook = notebook_name(tmp_path, NOTEBOOK_OF[browser_student])
            in_browser = run_in_chromium(hub, browser_student, notebook, api_students)
            api_runs = {name: future.result() for name, future in api_runs.items()}
        hub.children = psutil.Process(hub.process.pid).children(recursive=True)
        culler = [child for child in hub.children if "jupyterhub_idle_culler" in " ".join(child.cmdline())]
        answers: dict[str, set] = {}
        problems = isolation_problems(students, answers)
    total_s = time.monotonic() - started

    report = {
        "total_s": round(total_s, 1),
        "hub_stop_s": round(hub.stop_seconds, 1),
        browser_student: {k: in_browser[k] for k in ("spawn_s", "run_s", "widgets")} | {"notebook": notebook},
        **{
            name: {
                "spawn_s": r["spawn_s"],
                "run_s": r["run"].seconds,
                "notebook": r["run"].notebook,
                "torch_threads": r["threads"],  # a notebook that never calls train.set_threads() keeps all cores
            }
            for name, r in api_runs.items()
        },
        "peak_kernel_mib": {name: round(mib) for name, mib in memory.peaks.items()},
        "http_status_for_others_files": {way: sorted(statuses) for way, statuses in answers.items()},
        "browser_opened_others_lab": in_browser["others_opened"],
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(rounded(report), indent=1))
    print(json.dumps(rounded(report)))

    assert in_browser["problems"] == [], f"{browser_student}'s {notebook} in Chromium: {in_browser['problems']}"
    assert in_browser["js_errors"] == [], f"{browser_student}'s JupyterLab: {in_browser['js_errors']}"
    expected = WIDGETS_EXPECTED[NOTEBOOK_OF[browser_student]]
    assert in_browser["widgets"] >= expected, f"{browser_student}: only {in_browser['widgets']} widgets rendered"
    for name, result in api_runs.items():
        run = result["run"]
        assert run.errors == [], f"{name}'s {run.notebook}: {run.errors}"
        assert run.widgets >= WIDGETS_EXPECTED[NOTEBOOK_OF[name]], f"{name}'s {run.notebook}: {run.widgets} widgets"
        limit, cores = result["cpu_limit"], result["cores"]
        assert float(limit) == CPU_LIMIT and cores == CPU_LIMIT, f"{name}'s kernel: CPU_LIMIT={limit}, {cores} cores"
    opened = [other for other, opened in in_browser["others_opened"].items() if opened]
    assert opened == [], f"{browser_student}'s browser opened the JupyterLab of {opened}"
    assert problems == []
    assert culler, "the idle culler was not running as a service of the hub"
    assert hub.process.returncode == 0, f"the hub exited with {hub.process.returncode}; see {hub.log}"
    assert hub.leftovers == [], f"still running after the hub stopped: {hub.leftovers}"
    with pytest.raises(requests.ConnectionError):  # nothing listens on the hub's address any more
        requests.get(hub.url, timeout=2)
    shutil.rmtree(tmp_path / "state" / "home", ignore_errors=True)  # the students' copies: 9 notebooks each
