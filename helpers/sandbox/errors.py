"""Errors the sandbox reports to a person, each saying what to do."""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TypeVar

from helpers.base.errors import WorkshopError

T = TypeVar("T")


class SandboxError(WorkshopError):
    """A one-line, actionable problem with the sandbox."""


def bind_or_explain(what: str, port: int, bind: Callable[[], T]) -> T:
    """Run ``bind``; turn "address in use" into a sentence a learner can act on."""
    try:
        return bind()
    except OSError as exc:
        explained = _explain(what, port, exc.errno)
        if explained:
            raise SandboxError(explained) from None
        raise
    except SystemExit:
        # werkzeug's make_server prints its own message and exits when it cannot bind;
        # find out why by trying the port once more.
        raise SandboxError(_explain(what, port, _bind_errno(port)) or (
            f"the sandbox {what} could not listen on 127.0.0.1:{port}; choose another "
            f"port, e.g. `workshop sandbox up --{_flag(what)} 0` for any free port")) from None


def _explain(what: str, port: int, code: int | None) -> str | None:
    if code == errno.EADDRINUSE:
        return (f"port {port} for the sandbox {what} is already in use: stop the program "
                f"using it (`ss -ltnp 'sport = :{port}'` shows which) or choose another "
                f"port, e.g. `workshop sandbox up --{_flag(what)} 0` for any free port")
    if code == errno.EACCES:
        return (f"port {port} for the sandbox {what} needs administrator rights (ports below "
                f"1024 do): choose a port above 1024, e.g. `workshop sandbox up "
                f"--{_flag(what)} 0` for any free port")
    if code == errno.EADDRNOTAVAIL:
        return (f"cannot bind the sandbox {what} on a 127.0.0.x loopback address: this "
                "system does not route all of 127.0.0.0/8 to loopback (on macOS run "
                "`sudo ifconfig lo0 alias 127.0.0.N` for each region address)")
    return None


def _bind_errno(port: int) -> int | None:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.errno
    return None


def _flag(what: str) -> str:
    if "DNS" in what:
        return "dns-port"
    if "control" in what:
        return "endpoint-port"
    return "http-port"
