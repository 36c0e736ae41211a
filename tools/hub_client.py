"""A student at a JupyterHub, driven from Python: log in, start the server, run a notebook over the kernel websocket.

    python -m tools.hub_client http://127.0.0.1:8000 student2 03_reuse_the_features.ipynb

Everything goes through the hub's public URL, as a browser's requests do: the hub's REST API for the login and
the server, then jupyter_server's API under /user/<name>/ (contents, sessions, and the kernel's websocket). A
notebook runs one code cell at a time, as JupyterLab's Run All does, and stops at the first cell that fails.
tests/test_hub.py runs three students at once with it (`make hub-check`); it needs the `hub` extra.
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
import uuid
from dataclasses import dataclass, field

import nbformat
import requests
import websocket

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"  # the output a widget leaves in a notebook
CELL_LIMIT_S = 300  # per cell, as tools.run_notebook: a cell that runs longer is reported, not waited on


@dataclass
class Student:
    """One user of the hub: their name and the API token they got by logging in."""

    hub: str  # the hub's public URL, http://127.0.0.1:8000
    name: str
    token: str

    @property
    def server(self) -> str:
        return f"{self.hub}/user/{self.name}"

    def headers(self) -> dict:
        return {"Authorization": f"token {self.token}"}

    def get(self, url: str) -> requests.Response:
        return requests.get(url, headers=self.headers(), timeout=30, allow_redirects=False)


@dataclass
class CellRun:
    number: int  # counting code cells from 1
    seconds: float
    error: str = ""  # the exception's name and value, or why the cell did not finish
    widgets: int = 0  # widget views the cell displayed
    stdout: str = ""


@dataclass
class NotebookRun:
    student: str
    notebook: str
    cells: list[CellRun] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(cell.seconds for cell in self.cells)

    @property
    def errors(self) -> list[str]:
        return [f"code cell {cell.number}: {cell.error}" for cell in self.cells if cell.error]

    @property
    def widgets(self) -> int:
        return sum(cell.widgets for cell in self.cells)


def log_in(hub: str, name: str, password: str) -> Student:
    """Log in with the hub's authenticator (name and password) and get an API token for this student."""
    response = requests.post(
        f"{hub}/hub/api/users/{name}/tokens",
        json={"auth": {"username": name, "password": password}, "note": "tools.hub_client"},
        timeout=30,
    )
    response.raise_for_status()
    return Student(hub, name, response.json()["token"])


def start_server(student: Student, limit_s: float = 120) -> float:
    """Ask the hub for the student's server and wait until it answers; returns the seconds it took."""
    start, user_url = time.monotonic(), f"{student.hub}/hub/api/users/{student.name}"
    response = requests.post(f"{user_url}/server", headers=student.headers(), timeout=30)
    if response.status_code not in (201, 202, 400):  # 400: it is already running
        response.raise_for_status()
    while time.monotonic() - start < limit_s:
        user = requests.get(user_url, headers=student.headers(), timeout=30)
        if user.json().get("servers", {}).get("", {}).get("ready"):
            return time.monotonic() - start
        time.sleep(0.5)
    raise TimeoutError(f"{student.name}'s server did not start within {limit_s:.0f} s: see the hub's log")


def put_text(student: Student, path: str, text: str) -> None:
    """Write a text file into the student's folder through the contents API."""
    body = {"type": "file", "format": "text", "content": text}
    response = requests.put(f"{student.server}/api/contents/{path}", headers=student.headers(), json=body, timeout=30)
    response.raise_for_status()


def list_files(student: Student, path: str = "") -> list[str]:
    """The names in one folder of the student's own server."""
    response = student.get(f"{student.server}/api/contents/{path}")
    response.raise_for_status()
    return sorted(item["name"] for item in response.json()["content"])


def message(msg_type: str, content: dict, session: str) -> dict:
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "session": session,
        "username": "hub_client",
        "version": "5.3",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }
    return {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}


def execute(ws: websocket.WebSocket, code: str, session: str, limit_s: float) -> tuple[dict, list[dict]]:
    """Send one execute_request; return its reply and the iopub messages it caused, once the kernel is idle again."""
    request = message("execute_request", {"code": code, "silent": False, "store_history": True}, session)
    request["content"].update(user_expressions={}, allow_stdin=False, stop_on_error=True)
    ws.send(json.dumps(request))
    reply, outputs, idle = None, [], False
    deadline = time.monotonic() + limit_s
    while reply is None or not idle:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no reply and idle status within {limit_s:.0f} s")
        ws.settimeout(left)
        frame = ws.recv()
        if isinstance(frame, bytes):  # a message with binary buffers: widget state, never a cell's reply
            continue
        msg = json.loads(frame)
        if msg["parent_header"].get("msg_id") != request["header"]["msg_id"]:
            continue
        if msg["channel"] == "shell" and msg["msg_type"] == "execute_reply":
            reply = msg["content"]
        elif msg["msg_type"] == "status":
            idle = msg["content"]["execution_state"] == "idle"
        elif msg["channel"] == "iopub":
            outputs.append(msg)
    return reply, outputs


def run_cell(ws: websocket.WebSocket, number: int, code: str, session: str, limit_s: float) -> CellRun:
    start = time.monotonic()
    try:
        reply, outputs = execute(ws, code, session, limit_s)
    except (TimeoutError, websocket.WebSocketTimeoutException) as error:
        return CellRun(number, time.monotonic() - start, error=f"did not finish: {error}")
    cell = CellRun(number, time.monotonic() - start)
    for msg in outputs:
        content = msg["content"]
        if msg["msg_type"] == "stream":
            cell.stdout += content["text"]
        elif msg["msg_type"] in ("display_data", "execute_result") and WIDGET_VIEW in content.get("data", {}):
            cell.widgets += 1
        elif msg["msg_type"] == "error":
            cell.error = f"{content['ename']}: {content['evalue']}"
    if reply["status"] != "ok" and not cell.error:
        cell.error = f"{reply.get('ename', reply['status'])}: {reply.get('evalue', '')}"
    return cell


def run_notebook(student: Student, path: str, extra_code: str = "", cell_limit_s: float = CELL_LIMIT_S) -> NotebookRun:
    """Run every code cell of a notebook in the student's folder in a new kernel, then `extra_code` if given.

    Stops at the first cell that raises or does not finish; the kernel is shut down at the end either way.
    """
    response = student.get(f"{student.server}/api/contents/{path}")
    response.raise_for_status()
    notebook = nbformat.from_dict(response.json()["content"])
    cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"] + ([extra_code] if extra_code else [])
    body = {"path": path, "type": "notebook", "name": path, "kernel": {"name": "python3"}}
    session = requests.post(f"{student.server}/api/sessions", headers=student.headers(), json=body, timeout=60)
    session.raise_for_status()
    session_id, kernel_id = session.json()["id"], session.json()["kernel"]["id"]
    url = f"{student.server.replace('http', 'ws', 1)}/api/kernels/{kernel_id}/channels?session_id={session_id}"
    ws = websocket.create_connection(url, header=[f"Authorization: token {student.token}"], timeout=60)
    run = NotebookRun(student.name, path)
    try:
        execute(ws, "pass", session_id, limit_s=120)  # the kernel has started when it answers
        for number, code in enumerate(cells, 1):
            run.cells.append(run_cell(ws, number, code, session_id, cell_limit_s))
            if run.cells[-1].error:
                break
    finally:
        ws.close()
        requests.delete(f"{student.server}/api/sessions/{session_id}", headers=student.headers(), timeout=60)
    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.hub_client", description=__doc__.split("\n")[0])
    parser.add_argument("hub", help="the hub's public URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("name", help="the student to log in as")
    parser.add_argument("notebook", help="a notebook in the student's folder, e.g. 03_reuse_the_features.ipynb")
    parser.add_argument("--password", default="", help="the student's password (any, with the local test's hub)")
    args = parser.parse_args(argv)
    student = log_in(args.hub, args.name, args.password)
    print(f"{student.name}: server ready in {start_server(student):.1f} s")
    run = run_notebook(student, args.notebook)
    print(f"{run.notebook}: {len(run.cells)} code cells in {run.seconds:.1f} s, {run.widgets} widgets")
    if run.errors:
        raise SystemExit("\n".join(run.errors))


if __name__ == "__main__":
    main()
