"""`workshop dashboard`: the instructor's live page of the room, and the room learners report to.

One small HTTP server (the standard library's, a thread per request):

* ``GET /``: the page (:mod:`helpers.runs.dashboard_page`); ``GET /events``: its
  server-sent events, a snapshot of the board at once and at every change;
  ``GET /room.json``: the same snapshot once. These are shown only to this machine
  (loopback clients, or the server's own address): learners report to the room, they do
  not read it.
* ``POST /rooms/<token>``: a learner's kit reports its checklist
  (:mod:`helpers.checklist.room_reporter`). A wrong token is refused with 403, a body
  over :data:`~helpers.checklist.room_report.MAX_BYTES` with 413, a body that is not
  JSON or not a report (:func:`~helpers.checklist.room_report.accepted`) with 400; a
  refused report changes nothing.

The shared account or sandbox (what ``workshop status --all`` finds) is read again
every ``every`` seconds in a thread of its own, when one is given (:class:`Dashboard`'s
``read_room``). The server binds to 127.0.0.1 unless told otherwise, and says so when
it listens beyond this machine.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import json
import re
import secrets
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from helpers.base.errors import UsageError, explain
from helpers.base.say import Say, or_quiet
from helpers.checklist.model import Status
from helpers.checklist.room_report import MAX_BYTES, ReportRefused, accepted
from helpers.runs.dashboard_page import PAGE
from helpers.runs.room_board import REPORTED, Board

DEFAULT_PORT = 8765
KEEP_ALIVE_S = 15.0  # an idle event stream sends a comment this often (proxies close silence)
DRAIN_LIMIT = 1024 * 1024  # an oversized body is read (and dropped) up to this, so the
# client hears the 413 instead of a reset; beyond it the connection is closed
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def new_token() -> str:
    return secrets.token_urlsafe(16)


def token_problem(token: str) -> str | None:
    if _TOKEN.match(token):
        return None
    return ("a room token is 8 to 64 letters, digits, '-' or '_' (leave --room-token out "
            "and the dashboard makes one)")


class Dashboard:
    """The server, the board it shows and (optionally) the shared account's reader."""

    def __init__(self, token: str, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 board: Board | None = None,
                 read_room: Callable[[], Iterable[Status]] | None = None,
                 every: float = 20.0, say: Say | None = None) -> None:
        problem = token_problem(token)
        if problem:
            raise UsageError(problem)
        self.token, self.host, self.board = token, host, board or Board()
        self.read_room, self.every, self.say = read_room, every, or_quiet(say)
        self.stopping = threading.Event()
        try:
            self.httpd = _Server6((host, port), _handler(self)) if ":" in host else (
                ThreadingHTTPServer((host, port), _handler(self)))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (choose "
                             "another --port, or 0 for any free one)") from None
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._threads: list[threading.Thread] = []

    # -- addresses

    @property
    def loopback_only(self) -> bool:
        return _is_loopback(self.host)

    @property
    def every_address(self) -> bool:
        return self.host in ("0.0.0.0", "::", "")

    @property
    def page_url(self) -> str:
        host = "127.0.0.1" if self.every_address else self.host
        return f"http://{_bracketed(host)}:{self.port}/"

    @property
    def room_url(self) -> str:
        """What learners set as ``WORKSHOP_ROOM`` (an address their servers can reach)."""
        host = socket.gethostname() if self.every_address else self.host
        return f"http://{_bracketed(host)}:{self.port}/rooms/{self.token}"

    def on_this_machine(self, client: str) -> bool:
        """Is ``client`` this machine: loopback, or the one address the server is bound to?"""
        return _is_loopback(client) or client == self.httpd.server_address[0]

    # -- running

    def start(self) -> Dashboard:
        self._spawn(lambda: self.httpd.serve_forever(poll_interval=0.1), "dashboard-http")
        if self.read_room is not None:
            self._spawn(self._read_shared, "dashboard-shared-account")
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.board.wake()  # event streams notice and end
        self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> Dashboard:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _read_shared(self) -> None:
        while not self.stopping.is_set():
            try:
                self.board.read_shared(self.read_room())
            except Exception as exc:  # noqa: BLE001 - shown on the page, tried again
                reason = explain(exc) or f"{type(exc).__name__}: {exc}"
                self.board.note_shared(f"the shared account or sandbox could not be read: "
                                       f"{reason} (trying again every {self.every:g} s)")
            self.stopping.wait(self.every)

    # -- reports

    def refusal(self, token: str, size: int) -> tuple[int, str] | None:
        """Why a report posted with ``token`` and ``size`` bytes is refused before it is
        read (None: read it)."""
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return 403, ("wrong room token: this room does not take reports with it; set "
                         "WORKSHOP_ROOM to the address the instructor's `workshop dashboard` "
                         "printed")
        if size > MAX_BYTES:
            return 413, (f"a report is at most {MAX_BYTES} bytes; this body has {size}: "
                         "it is not a checklist report")
        return None

    def take(self, body: bytes) -> tuple[int, str]:
        """(HTTP status, message) for a report's body; only 202 changes the board."""
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return 400, f"the body is not JSON ({exc}): send the kit's checklist report"
        try:
            report = accepted(data)
        except ReportRefused as exc:
            return 400, str(exc)
        self.board.accept(report, REPORTED)
        return 202, f"reported: {report['participant']}"


def _handler(dashboard: Dashboard) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "workshop-dashboard"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            pass  # the instructor's terminal shows refusals, not every request

        # -- reading the room: this machine only

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path.startswith("/rooms/"):
                self._answer(405, {"message": "POST the kit's checklist report here; the "
                                   "dashboard page is / on the instructor's machine"},
                             {"Allow": "POST"})
                return
            if path not in ("/", "/events", "/room.json"):
                self._answer(404, {"message": f"no page {path}: the dashboard is at /"})
                return
            if not dashboard.on_this_machine(self.client_address[0]):
                self._answer(403, {"message": "the dashboard is shown only on the instructor's "
                                   "machine (open it there, or through an SSH tunnel: "
                                   f"ssh -L {dashboard.port}:127.0.0.1:{dashboard.port} ...)"})
                return
            if path == "/":
                self._send(200, PAGE.encode(), "text/html; charset=utf-8")
            elif path == "/room.json":
                self._answer(200, dashboard.board.snapshot())
            else:
                self._events()

        def _events(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.close_connection = True  # HTTP/1.0: the stream ends with the connection
            snapshot: dict[str, Any] | None = dashboard.board.snapshot()
            seen = -1
            try:
                self.wfile.write(b"retry: 2000\n\n")
                while not dashboard.stopping.is_set():
                    if snapshot is None:
                        self.wfile.write(b": still here\n\n")
                    else:
                        data = json.dumps(snapshot, separators=(",", ":"))
                        self.wfile.write(f"event: room\ndata: {data}\n\n".encode())
                        seen = snapshot["version"]
                    self.wfile.flush()
                    snapshot = dashboard.board.wait_change(seen, KEEP_ALIVE_S)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                pass  # the page went away

        # -- reports: from anywhere, with the token

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0]
            if not path.startswith("/rooms/"):
                self._answer(404, {"message": "reports go to /rooms/<token>"})
                return
            token = path[len("/rooms/"):]
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                self.close_connection = True
                self._answer(411, {"message": "a report needs a Content-Length"})
                return
            size = int(length)
            refused = dashboard.refusal(token, size)
            if refused:
                self._drain(size)
                status, message = refused
            else:
                status, message = dashboard.take(self.rfile.read(size))
            if status != 202:
                dashboard.say(f"refused a report from {self.client_address[0]}: "
                              f"{status} {message}")
            self._answer(status, {"message": message})

        def _drain(self, size: int) -> None:
            """Read a refused body away (up to a limit) so the client hears the answer."""
            left = min(size, DRAIN_LIMIT)
            while left > 0:
                chunk = self.rfile.read(min(left, 64 * 1024))
                if not chunk:
                    break
                left -= len(chunk)
            self.close_connection = True

        # -- answers

        def _answer(self, status: int, payload: Any,
                    headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json", headers)

        def _send(self, status: int, body: bytes, content_type: str,
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6  # --host ::1, --host ::


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def command(args: argparse.Namespace, read_room: Callable[[], Iterable[Status]] | None) -> int:
    """Serve the dashboard until Ctrl-C; ``read_room``: the shared account's checklists."""
    if args.every <= 0:
        raise UsageError(f"--every is a number of seconds above 0, not {args.every:g}")
    token = args.room_token or new_token()
    dashboard = Dashboard(token, args.host, args.port, read_room=read_room, every=args.every,
                          say=lambda line: print(line, flush=True))
    with dashboard:
        print(f"dashboard: {dashboard.page_url}   (open it in a browser on this machine)")
        print(f"learners:  WORKSHOP_ROOM={dashboard.room_url}")
        if dashboard.loopback_only:
            print(f"listening on {args.host} only: reports reach it from this machine alone; "
                  "to take them from learners' own servers, start it with --host 0.0.0.0 "
                  "(or this machine's address)")
        else:
            print(f"listening on {args.host}:{dashboard.port}, reachable from other machines: "
                  "reports need the room token; the page is shown on this machine only")
        print("shared account: " + (f"read every {args.every:g} s (what `workshop status "
                                    "--all` finds)" if read_room else "not read (--no-shared)"))
        print("Ctrl-C stops it", flush=True)
        try:
            dashboard.stopping.wait()
        except KeyboardInterrupt:
            print("dashboard stopped", file=sys.stderr)
    return 0
