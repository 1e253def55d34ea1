"""Running the sandbox as a background process: up, status, down, and a test fixture.

The sandbox process writes a status file once every component is ready; the
client side (boto3 endpoint, DNS server, HTTP port) reads only that file. The
account's state is kept beside the status file (:func:`state_file.beside`), so
each status file -- the workshop home's, a test's temporary one -- has its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from helpers.base import environ
from helpers.base.paths import REPO_ROOT, sandbox_status_file
from helpers.sandbox import state_file
from helpers.sandbox.context import SandboxSettings
from helpers.sandbox.errors import SandboxError

START_TIMEOUT_S = 60
# A stop ends with the last save of the state; a loaded machine may need this long.
STOP_TIMEOUT_S = 30


def read_status(status_file: Path | None = None) -> dict[str, Any] | None:
    """The running sandbox's info, or None when none is running."""
    path = status_file or sandbox_status_file()
    try:
        info = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if not _alive(info.get("pid", -1)) or not _answers(info["endpoint_url"]):
        return None
    return info


_checked: dict[str, tuple[float, dict[str, Any]]] = {}
_RECHECK_S = 1.0


def require_status() -> dict[str, Any]:
    """The running sandbox's info, or a SandboxError saying how to start one.

    Clients call this for every request, so a positive answer is reused for a
    second before the process and endpoint are checked again.
    """
    path = sandbox_status_file()
    try:
        key = f"{path}@{path.stat().st_mtime_ns}"  # a restarted sandbox rewrites the file
    except FileNotFoundError:
        key = ""
    hit = _checked.get(key)
    if hit and time.monotonic() - hit[0] < _RECHECK_S:
        return hit[1]
    info = read_status(path)
    if info is not None:
        _checked[key] = (time.monotonic(), info)
    if info is None:
        raise SandboxError(
            "no sandbox is running: start one with `workshop sandbox up` "
            "(or choose AWS with `--mode aws`)"
        )
    return info


def up(settings: SandboxSettings | None = None, status_file: Path | None = None,
       stop_with_parent: bool = False, stop_with_pid: int = 0) -> dict[str, Any]:
    """Start the sandbox in the background (or return the one already running).

    It restores the state kept beside ``status_file`` (``settings.state_file`` if given),
    or discards it with ``settings.fresh``; with ``settings.persist`` off it keeps none.
    It stops (saving its state) when this process ends with ``stop_with_parent``, or when
    process ``stop_with_pid`` does (a notebook server's start hook: the `start` script).
    """
    settings = settings or SandboxSettings()
    path = status_file or sandbox_status_file()
    running = read_status(path)
    if running is not None:
        return {**running, "already_running": True}
    if settings.state_file is None and settings.persist:
        settings = replace(settings, state_file=state_file.beside(path))
    path.unlink(missing_ok=True)
    log_path = path.with_suffix(".log")
    cmd = [
        sys.executable, "-m", "helpers.sandbox", "serve",
        "--status-file", str(path),
        "--time-scale", str(settings.time_scale),
        "--endpoint-port", str(settings.endpoint_port),
        "--http-port", str(settings.http_port),
        "--dns-port", str(settings.dns_port),
        "--resolver-port", str(settings.resolver_port),
    ]
    if settings.state_file is not None:
        cmd += ["--state-file", str(settings.state_file)]
    if settings.fresh:
        cmd.append("--fresh")
    if not settings.quotas:
        cmd.append("--no-quotas")
    if stop_with_parent or stop_with_pid:
        cmd += ["--parent-pid", str(stop_with_pid or os.getpid())]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
    deadline = started + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SandboxError(_last_error_line(log_path) or
                               f"the sandbox stopped while starting; see {log_path}")
        info = read_status(path)
        if info is not None and info.get("pid") == proc.pid:
            return {**info, "start_seconds": round(time.monotonic() - started, 3)}
        time.sleep(0.05)
    proc.kill()
    raise SandboxError(f"the sandbox did not become ready within {START_TIMEOUT_S} s; "
                       f"see {log_path}")


def down(status_file: Path | None = None, timeout: float = STOP_TIMEOUT_S,
         forget: bool = False) -> bool:
    """Stop the background sandbox (it saves its state first); ``forget`` then deletes the
    saved state. Returns False if none was running."""
    path = status_file or sandbox_status_file()
    try:
        pid = json.loads(path.read_text())["pid"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        pid = None
    stopped = pid is not None and _stop(pid, timeout)
    path.unlink(missing_ok=True)
    if forget:
        state_file.beside(path).unlink(missing_ok=True)
    return stopped


def _stop(pid: int, timeout: float) -> bool:
    stopped = False
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        stopped = True
    return stopped


@contextlib.contextmanager
def running_sandbox(settings: SandboxSettings | None = None,
                    current: bool = True) -> Iterator[dict[str, Any]]:
    """A fresh sandbox for the duration of a ``with`` block (tests, one-off runs).

    With ``current`` (the default), clients created inside the block reach it, because
    ``WORKSHOP_SANDBOX_FILE`` points at its status file; without, nothing process-wide
    changes and only clients given its ``endpoint_url`` reach it (a second sandbox beside
    the current one). The process also stops if this one dies. Its state is kept beside
    that status file, in a temporary directory of its own (never in the workshop home),
    and deleted with it.
    """
    with tempfile.TemporaryDirectory(prefix="workshop-sandbox-") as tmp:
        path = Path(tmp) / "sandbox.json"
        info = up(settings, status_file=path, stop_with_parent=True)
        if not current:
            try:
                yield info
            finally:
                down(path)
            return
        try:
            with environ.scoped({"WORKSHOP_SANDBOX_FILE": str(path)}):
                yield info
        finally:
            down(path)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (ours, not yet reaped) is not alive.
    with contextlib.suppress(ChildProcessError, OSError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


# A live process that is slow to answer is busy, not gone: a rehearsed room on two cores keeps
# the sandbox's endpoint seconds behind, and calling it "not running" then fails a notebook.
ANSWER_TIMEOUT_S = 10


def _answers(endpoint_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint_url}/moto-api/", timeout=ANSWER_TIMEOUT_S):
            return True
    except OSError:
        return False


def _last_error_line(log_path: Path) -> str:
    try:
        lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    except FileNotFoundError:
        return ""
    # The sandbox prints "error: <sentence>"; the command that reports it adds its own.
    return lines[-1].removeprefix("error: ") if lines else ""
