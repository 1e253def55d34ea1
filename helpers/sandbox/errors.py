"""Errors the sandbox reports to a person, each saying what to do."""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class SandboxError(RuntimeError):
    """A one-line, actionable problem with the sandbox."""


def bind_or_explain(what: str, port: int, bind: Callable[[], T]) -> T:
    """Run ``bind``; turn "address in use" into a sentence a learner can act on."""
    try:
        return bind()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise SandboxError(
                f"port {port} for the sandbox {what} is already in use: stop the program "
                f"using it (`ss -ltnp 'sport = :{port}'` shows which) or choose another "
                f"port, e.g. `workshop sandbox up --{_flag(what)} 0` for any free port"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise SandboxError(
                f"cannot bind the sandbox {what} on a 127.0.0.x loopback address: this "
                "system does not route all of 127.0.0.0/8 to loopback (on macOS run "
                "`sudo ifconfig lo0 alias 127.0.0.N` for each region address)"
            ) from None
        raise


def _flag(what: str) -> str:
    if "DNS" in what:
        return "dns-port"
    if "control" in what:
        return "endpoint-port"
    return "http-port"
