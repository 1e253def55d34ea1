"""A real JupyterHub on this machine, for the long tier: JupyterHub from PyPI (the `hub`
extra), its proxy from npm (`tools/hub-proxy.sh`), the dummy authenticator (any name, no
password) and the local process spawner, each learner in a home of their own under the
test's temporary folder. Each learner's server is started by the kit's TLJH recipe
(`deploy/tljh/workshop.py`: the `start` hook), so each gets a sandbox of their own.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from helpers.base.paths import REPO_ROOT
from helpers.base.polling import wait_until
from helpers.runs.dashboard import Dashboard

HUB_START_S = 60
SERVER_START_S = 240  # a learner's first server imports the kit and starts a sandbox
SERVER_STOP_S = 60


@dataclass
class Hub:
    url: str  # the proxy's public URL: http://127.0.0.1:<port>
    token: str  # an admin service's token
    homes: Path  # each learner's home is homes/<name>
    log: Path
    dashboard: Dashboard  # the instructor's: every learner's server has its WORKSHOP_ROOM

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.url}/hub/api{path}", timeout=30,
                                headers={"Authorization": f"token {self.token}"}, **kwargs)

    def start_server(self, name: str) -> None:
        created = self.api("POST", f"/users/{name}")
        assert created.status_code in (201, 409), created.text
        spawned = self.api("POST", f"/users/{name}/server")
        assert spawned.status_code in (201, 202), spawned.text

    def server_ready(self, name: str) -> bool:
        server = self.api("GET", f"/users/{name}").json()["servers"].get("", {})
        return bool(server.get("ready"))

    def stop_server(self, name: str) -> None:
        stopped = self.api("DELETE", f"/users/{name}/server")
        assert stopped.status_code in (202, 204), stopped.text
        wait_until(lambda: not self.api("GET", f"/users/{name}").json()["servers"],
                   SERVER_STOP_S, interval=0.5, what=f"{name}'s server to stop")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(tmp: Path, proxy: str, port: int, token: str) -> str:
    """The hub's config: the kit's TLJH recipe, plus what a test on one machine needs."""
    as_root = ["--allow-root"] if os.geteuid() == 0 else []  # Jupyter refuses root otherwise
    return f"""
c = get_config()
load_subconfig({str(REPO_ROOT / "deploy" / "tljh" / "workshop.py")!r})
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {_free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{_free_port()}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.auth_token = {secrets.token_hex(16)!r}
c.JupyterHub.db_url = "sqlite:///{tmp / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(tmp / 'cookie_secret')!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(tmp / 'homes' / '{username}')!r}
c.Spawner.args = {as_root!r}
c.JupyterHub.services = [{{"name": "room-test", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "room-test", "services": ["room-test"],
    "scopes": ["admin:users", "admin:servers", "access:servers", "list:users"]}}]
"""


@pytest.fixture(scope="module")
def jupyterhub(tmp_path_factory) -> Iterator[Hub]:
    proxy = subprocess.run(["bash", str(REPO_ROOT / "tools" / "hub-proxy.sh")],
                           capture_output=True, text=True, timeout=600)
    assert proxy.returncode == 0, proxy.stderr
    tmp = tmp_path_factory.mktemp("jupyterhub")
    (tmp / "homes").mkdir()
    port, token = _free_port(), secrets.token_hex(16)
    config = tmp / "jupyterhub_config.py"
    config.write_text(_config(tmp, proxy.stdout.strip().splitlines()[-1], port, token))
    bin_dir = Path(sys.executable).parent
    # The instructor's dashboard, its room named in the hub's environment as an instructor
    # would (deploy/tljh/workshop.py passes it to every learner's server).
    dashboard = Dashboard(f"hub-room-{secrets.token_hex(6)}", port=0).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKSHOP_")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", PYTHONPATH=str(REPO_ROOT),
               WORKSHOP_KIT=str(REPO_ROOT), WORKSHOP_ROOM=dashboard.room_url)
    log = tmp / "jupyterhub.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(bin_dir / "jupyterhub"), "-f", str(config)], cwd=tmp,
                                   env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    hub = Hub(f"http://127.0.0.1:{port}", token, tmp / "homes", log, dashboard)
    try:
        wait_until(lambda: _answers(hub) or process.poll() is not None, HUB_START_S,
                   interval=0.2, what="JupyterHub to answer")
        assert process.poll() is None, f"JupyterHub stopped: {log.read_text()[-3000:]}"
        yield hub
    finally:
        process.send_signal(signal.SIGTERM)  # it stops the servers and its proxy
        try:
            process.wait(timeout=SERVER_STOP_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        dashboard.stop()


def _answers(hub: Hub) -> bool:
    try:
        return hub.api("GET", "/").status_code == 200
    except requests.ConnectionError:
        time.sleep(0.1)
        return False
