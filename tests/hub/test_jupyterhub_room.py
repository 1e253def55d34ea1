"""A room on a real JupyterHub (long tier): three learners, each with a server the kit's
start hook started and a sandbox of their own, run notebooks 00 to 03.2 at the same time
through their own server (its REST API and kernel websocket, as JupyterLab does), and
each one's checklist shows the modules done. The instructor's dashboard, open in Chromium
the whole time, shows the three rows progressing, updated without a reload (each learner's
kit reports to the room the hub names in WORKSHOP_ROOM). Then each server stops, and its
sandbox with it. The fast stand-ins are tests/sandbox/test_start_hook.py (the same hook, run as
repo2docker runs it) and tests/unit/test_hub_recipes.py (the recipes' settings).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from helpers.base.paths import REPO_ROOT
from helpers.base.polling import wait_until
from helpers.checklist.room_report import DONE
from helpers.core import curriculum
from tests.browser.conftest import launch_browser
from workshop_cli import workshop

pytestmark = pytest.mark.long

LEARNERS = ("ada", "grace", "linus")
UNTIL = "03.2"
CELL_TIMEOUT_S = 900
REPORT = REPO_ROOT / "out" / "hub-room.json"  # times and memory, for the lead and the docs


class CellFailed(AssertionError):
    pass


class ServerKernel:
    """A notebook's kernel on a learner's Jupyter server, reached as JupyterLab reaches it:
    a session for the notebook's path (so the kernel runs in its folder and knows its
    name), then execute requests over the kernel's websocket."""

    def __init__(self, base: str, token: str, path: str) -> None:
        self.base, self.headers = base, {"Authorization": f"token {token}"}
        made = requests.post(f"{base}/api/sessions", headers=self.headers, timeout=120, json={
            "path": path, "type": "notebook", "name": Path(path).name,
            "kernel": {"name": "python3"}})
        assert made.status_code == 201, made.text
        self.session_id, self.kernel_id = made.json()["id"], made.json()["kernel"]["id"]
        import websocket  # websocket-client, Jupyter server's own dependency (the lab extra)

        self.client_session = uuid.uuid4().hex
        self.socket = websocket.create_connection(
            f"{base.replace('http', 'ws', 1)}/api/kernels/{self.kernel_id}/channels"
            f"?session_id={self.client_session}", header=self.headers, timeout=CELL_TIMEOUT_S)

    def execute(self, code: str) -> None:
        msg_id = uuid.uuid4().hex
        self.socket.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                       "session": self.client_session, "version": "5.3",
                       "date": datetime.now(UTC).isoformat()},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
        while True:
            message = json.loads(self.socket.recv())
            if (message.get("parent_header", {}).get("msg_id") == msg_id
                    and message["msg_type"] == "execute_reply"):
                content = message["content"]
                if content["status"] != "ok":
                    raise CellFailed(f"{content.get('ename')}: {content.get('evalue')}")
                return

    def close(self) -> None:
        self.socket.close()
        requests.delete(f"{self.base}/api/sessions/{self.session_id}", headers=self.headers,
                        timeout=60)


def run_notebooks(hub, name: str) -> list[dict]:
    """Notebooks 00 to UNTIL in the learner's own copy, one kernel each, closed after."""
    base = f"{hub.url}/user/{name}"
    timeline = []
    for module in curriculum.up_to(UNTIL):
        path = f"notebooks/{module.notebook}"
        model = requests.get(f"{base}/api/contents/{path}", params={"content": 1}, timeout=60,
                             headers={"Authorization": f"token {hub.token}"})
        assert model.status_code == 200, f"{name}: {path}: {model.text}"
        cells = [c for c in model.json()["content"]["cells"] if c["cell_type"] == "code"]
        started = time.monotonic()
        kernel = ServerKernel(base, hub.token, path)
        try:
            for number, cell in enumerate(cells, start=1):
                try:
                    kernel.execute(cell["source"])
                except CellFailed as exc:
                    raise CellFailed(f"{name}: {module.notebook}, code cell {number}: "
                                     f"{exc}") from None
        finally:
            kernel.close()
        timeline.append({"notebook": module.notebook, "started": started,
                         "seconds": round(time.monotonic() - started, 1)})
    return timeline


def learner_processes(hub, name: str) -> dict:
    """The learner's server (with its kernels) and sandbox (with its Lambda processes)."""
    status = hub.homes / name / ".workshop" / "sandbox.json"
    assert status.is_file(), f"the start hook started no sandbox for {name} ({status})"
    sandbox = json.loads(status.read_text())
    server = next(pid for pid in _pids() if _environ(pid).get("JUPYTERHUB_USER") == name
                  and "jupyterhub-singleuser" in _cmdline(pid))
    return {"sandbox_pid": sandbox["pid"], "endpoint_url": sandbox["endpoint_url"],
            "server_pid": server,
            "server_tree_mb": round(sum(_pss_mb(p) for p in _tree(server)), 1),
            "sandbox_tree_mb": round(sum(_pss_mb(p) for p in _tree(sandbox["pid"])), 1)}


def test_three_learners_each_with_their_own_sandbox_run_the_notebooks(jupyterhub):
    hub = jupyterhub
    started = time.monotonic()
    for name in LEARNERS:
        hub.start_server(name)
    for name in LEARNERS:
        wait_until(lambda n=name: hub.server_ready(n), 240, interval=1,
                   what=f"{name}'s server to start (log: {hub.log})")
    ready_s = round(time.monotonic() - started, 1)
    before = {name: learner_processes(hub, name) for name in LEARNERS}
    # Each learner's own sandbox: three processes, three endpoints, homes apart.
    assert len({p["sandbox_pid"] for p in before.values()}) == len(LEARNERS)
    assert len({p["endpoint_url"] for p in before.values()}) == len(LEARNERS)

    done_modules = [m.id for m in curriculum.MODULES if m in curriculum.up_to(UNTIL)]
    with launch_browser() as browser:
        page = browser.new_page()
        loads: list[str] = []
        page.on("load", lambda p: loads.append(p.url))
        page.goto(hub.dashboard.page_url)
        seen: list[dict] = []  # each different state of the board, as the page showed it
        with ThreadPoolExecutor(len(LEARNERS)) as pool:
            futures = {name: pool.submit(run_notebooks, hub, name) for name in LEARNERS}
            while not all(f.done() for f in futures.values()):
                board = board_on(page)
                if not seen or board != seen[-1]:
                    seen.append(board)
                time.sleep(1)  # a person's glance: the page updates itself in between
            runs = {name: future.result() for name, future in futures.items()}
        ran_s = round(time.monotonic() - started - ready_s, 1)
        # The last reports arrive right after the last cells: the page shows them unasked.
        wait_until(lambda: all(board_on(page).get(name, {}).get(m) == DONE
                               for name in LEARNERS for m in done_modules), 60, interval=1,
                   what="the dashboard to show every learner's modules done")
        seen.append(board_on(page))
        page.screenshot(path=str(REPORT.parent / "hub-dashboard.png"))
    assert loads == [hub.dashboard.page_url], loads  # one load: the rest came live
    # The rows progressed while the notebooks ran: each learner was seen part-way.
    for name in LEARNERS:
        part_way = [b[name] for b in seen if name in b
                    and 0 < sum(b[name].get(m) == DONE for m in done_modules) < len(done_modules)]
        assert part_way, (name, seen)

    # All three progressed at once: each one's first notebook ran before anyone had finished.
    last_start = max(run[0]["started"] for run in runs.values())
    first_end = min(run[-1]["started"] + run[-1]["seconds"] for run in runs.values())
    assert last_start < first_end, runs
    for name in LEARNERS:
        status = workshop("status", "--json",
                          env={"WORKSHOP_HOME": str(hub.homes / name / ".workshop")})
        assert status.returncode == 0, status.stderr
        checklist = json.loads(status.stdout)
        assert set(done_modules) <= set(checklist["done"]), (name, checklist["done"])
    after = {name: learner_processes(hub, name) for name in LEARNERS}

    for name in LEARNERS:
        hub.stop_server(name)
    for name in LEARNERS:  # each sandbox stops with its server, saving the learner's work
        wait_until(lambda n=name: not _alive(after[n]["sandbox_pid"]), 60, interval=0.2,
                   what=f"{name}'s sandbox to stop with the server")
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps({
        "learners": len(LEARNERS), "until": UNTIL, "servers_ready_seconds": ready_s,
        "notebooks_seconds": ran_s, "dashboard_states_seen": len(seen),
        "per_learner": {name: {"notebooks": runs[name], "after_start": before[name],
                               "after_notebooks": after[name]} for name in LEARNERS}},
        indent=2) + "\n")


def board_on(page) -> dict[str, dict[str, str]]:
    """What the dashboard page shows now: each participant's mark per module."""
    return page.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll("tr[data-participant]")].map(row => [
            row.dataset.participant,
            Object.fromEntries([...row.querySelectorAll("td[data-module]")].map(
                cell => [cell.dataset.module, cell.dataset.mark]))]))""")


# ------------------------------------------------------------------ processes, from /proc


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(item.decode(errors="replace").partition("=")[::2]
                for item in raw.split(b"\0") if item)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):  # ended meanwhile
                queue += [int(c) for c in (task / "children").read_text().split()]
    return found


def _pss_mb(pid: int) -> float:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0  # ended meanwhile
    line = next((x for x in rollup.splitlines() if x.startswith("Pss:")), "Pss: 0 kB")
    return int(line.split()[1]) / 1024


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
