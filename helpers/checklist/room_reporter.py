"""The learner's checklist, sent to the instructor's room (``WORKSHOP_ROOM``) when it changes.

A learner with a sandbox of their own (a JupyterHub server, Binder) is invisible to
``workshop status --all``; so each time their kit takes their own checklist
(:func:`helpers.checklist.check`: every notebook's "Your progress" cell, the index's
Refresh, ``workshop run`` after each notebook, ``workshop status``) it hands the report
(:mod:`helpers.checklist.room_report`) to :func:`offer`, which sends it when it differs
from the last one sent (or that one is a minute old: the dashboard's "last seen").

Nothing here may slow or break a notebook: :func:`offer` only queues (the newest
report replaces one still waiting), one background thread posts with a short timeout,
and a failure is logged once until the room answers again. The room is
``WORKSHOP_ROOM=http://<host>:<port>/rooms/<token>``, as ``workshop dashboard`` prints
it; the name shown is ``WORKSHOP_PARTICIPANT``, else JupyterHub's ``JUPYTERHUB_USER``,
else the participant's prefix.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from helpers.checklist.model import Status
from helpers.checklist.room_report import MAX_NAME, report_of

log = logging.getLogger(__name__)

ROOM_VARIABLE = "WORKSHOP_ROOM"
NAME_VARIABLES = ("WORKSHOP_PARTICIPANT", "JUPYTERHUB_USER")
TIMEOUT_S = 2.0  # a room that does not answer in 2 s is not waited for
HEARTBEAT_S = 60.0  # an unchanged checklist is sent again after this: "last seen"
FLUSH_AT_EXIT_S = 2.0  # a kernel shut down right after its progress cell still reports
_ROOM_URL = re.compile(r"^https?://[^/\s]+/rooms/[A-Za-z0-9_-]{8,}$")

Post = Callable[[str, bytes, float], int]


def room_problem(url: str) -> str | None:
    """Why ``url`` is not a room's address (None: it is one)."""
    if _ROOM_URL.match(url):
        return None
    return (f"{ROOM_VARIABLE}={url!r} is not a room's address: it is the "
            "http://<host>:<port>/rooms/<token> that `workshop dashboard` printed")


def participant_name(status: Status) -> str:
    """The name the dashboard shows: ``WORKSHOP_PARTICIPANT``, else ``JUPYTERHUB_USER``,
    else the participant's prefix."""
    for variable in NAME_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            return value[:MAX_NAME]
    return status.config.prefix


def post(url: str, body: bytes, timeout: float) -> int:
    """POST ``body`` as JSON; the HTTP status (raises when the room cannot be reached)."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


class Reporter:
    """Sends the newest report to one room from a background thread; never raises."""

    def __init__(self, room: str, send: Post = post, timeout: float = TIMEOUT_S,
                 heartbeat: float = HEARTBEAT_S) -> None:
        self.room, self.send, self.timeout, self.heartbeat = room, send, timeout, heartbeat
        self.sent: dict[str, Any] | None = None  # the last report the room accepted
        self.sent_at = 0.0
        self.failing = False  # logged once, until the room answers again
        self._waiting: dict[str, Any] | None = None
        self._busy = False
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None

    def offer(self, report: dict[str, Any]) -> None:
        """Queue ``report`` unless the room already has it (and that is recent)."""
        with self._lock:
            fresh = time.monotonic() - self.sent_at < self.heartbeat
            if (report == self.sent and fresh) or report == self._waiting:
                return
            self._waiting = report
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="workshop-room-reporter",
                                                daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the queued report to be sent (True: nothing waits)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._waiting is not None or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._waiting is None:
                    self._lock.wait(30.0)
                    if self._waiting is None:
                        self._thread = None  # idle: the next offer starts a new thread
                        return
                report, self._waiting, self._busy = self._waiting, None, True
            try:
                self._deliver(report)
            finally:
                with self._lock:
                    self._busy = False
                    self._lock.notify_all()

    def _deliver(self, report: dict[str, Any]) -> None:
        body = json.dumps(report).encode()
        try:
            status = self.send(self.room, body, self.timeout)
        except Exception as exc:  # noqa: BLE001 - unreachable, refused, timed out: all alike
            self._failed(f"{type(exc).__name__}: {exc}")
            return
        if 200 <= status < 300:
            with self._lock:
                self.sent, self.sent_at = report, time.monotonic()
            if self.failing:
                log.warning("the room %s takes this kit's checklist again", _shown(self.room))
            self.failing = False
        else:
            self._failed(f"the room answered HTTP {status}"
                         + (" (a wrong room token?)" if status == 403 else ""))

    def _failed(self, reason: str) -> None:
        if not self.failing:
            log.warning("could not report the checklist to the room %s: %s (the notebook "
                        "carries on; the next change is sent when the room answers)",
                        _shown(self.room), reason)
        self.failing = True


def _shown(room: str) -> str:
    """The room without its token (logs and notebooks show where, not the secret)."""
    return room.rsplit("/", 1)[0] + "/…"


_reporter: Reporter | None = None
_warned_about: str | None = None
_lock = threading.Lock()


def reporter() -> Reporter | None:
    """This process's reporter to ``$WORKSHOP_ROOM`` (None: no room, or not a room's URL)."""
    global _reporter, _warned_about
    room = os.environ.get(ROOM_VARIABLE, "").strip()
    with _lock:
        if not room:
            return None
        if _reporter is not None and _reporter.room == room:
            return _reporter
        problem = room_problem(room)
        if problem:
            if _warned_about != room:
                log.warning("%s; the checklist is not reported", problem)
                _warned_about = room
            return None
        _reporter = Reporter(room)
        return _reporter


def offer(status: Status) -> None:
    """Report ``status`` to the room, if there is one; never raises, never waits."""
    try:
        found = reporter()
        if found is not None:
            found.offer(report_of(status, participant_name(status)))
    except Exception:  # noqa: BLE001 - reporting is never a reason for a notebook to fail
        log.warning("could not build the room's report", exc_info=True)


@atexit.register
def _flush_at_exit() -> None:
    if _reporter is not None:
        _reporter.flush(FLUSH_AT_EXIT_S)
