"""Kernels for headless runs, started two notebooks ahead.

Starting a Python kernel and importing the kit (boto3, pandas, matplotlib, the
helpers) takes two to three seconds, and a run executes eight notebooks. While
one notebook runs, :class:`KernelQueue` starts the kernels for the next two and
imports those modules in them (silently: no cell, no execution count), then
shuts finished kernels down in the background. Two, because some notebooks
(00, 02) finish in about a second, less than a kernel needs to start. A
notebook still gets a fresh kernel of its own; only the wait moves out of the way.

A kernel gets this process's environment plus the variables handed to the
queue: that is how ``workshop run`` passes the settings it resolved to the
notebooks, without changing its own environment.

Kernels talk over local IPC sockets: reachable by this user only (TCP would be
open to anyone on the machine, and the kernel warns about it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

KERNEL_NAME = "python3"
WARM_UP_TIMEOUT_S = 120
# What the notebooks import in their first cells; nothing here reads state or settings.
WARM_IMPORTS = ("import boto3, pandas, matplotlib.figure, helpers.views.charts, "
                "helpers.aws.deployment, helpers.aws.failover, helpers.views.monitor, "
                "helpers.views.progress, helpers.aws.replication, helpers.aws.tickets, "
                "helpers.views.widgets")


@dataclass
class Kernel:
    manager: Any  # jupyter_client.KernelManager
    sockets: str  # folder of the IPC sockets
    warming: threading.Thread  # imports the kit; done before the kernel is handed out

    @property
    def pid(self) -> int | None:
        """The kernel's process (None before it started)."""
        return getattr(self.manager.provisioner, "pid", None)


def _start(cwd: Path, env: dict[str, str]) -> Kernel:
    from jupyter_client.manager import KernelManager

    sockets = tempfile.mkdtemp(prefix="workshop-kernel-")
    manager = KernelManager(kernel_name=KERNEL_NAME, transport="ipc",
                            ip=os.path.join(sockets, "kernel"))
    try:
        manager.start_kernel(cwd=str(cwd), env={**os.environ, **env})
    except BaseException:
        shutil.rmtree(sockets, ignore_errors=True)
        raise
    warming = threading.Thread(target=_run_silently, args=(manager, WARM_IMPORTS), daemon=True,
                               name="kernel-warm-up")
    warming.start()
    return Kernel(manager, sockets, warming)


def tell_notebook(kernel: Kernel, notebook: Path) -> None:
    """Name the notebook to its kernel as Jupyter does (``JPY_SESSION_NAME``): a kernel
    started ahead could not be told at its start (:mod:`helpers.core.capabilities` reads it)."""
    kernel.warming.join(timeout=WARM_UP_TIMEOUT_S)
    _run_silently(kernel.manager,
                  f"import os; os.environ['JPY_SESSION_NAME'] = {str(notebook)!r}")


def _run_silently(manager: Any, code: str) -> None:
    # This client shares the kernel session's identity, so it must be gone before the
    # notebook's client connects (the kernel would route that client's replies here).
    client = manager.client()
    client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
    try:
        client.wait_for_ready(timeout=WARM_UP_TIMEOUT_S)
        sent = client.execute(code, silent=True, store_history=False)
        while client.get_shell_msg(timeout=WARM_UP_TIMEOUT_S)["parent_header"].get(
                "msg_id") != sent:
            pass
    except Exception:  # only an optimisation: the notebook imports what it needs anyway
        pass
    finally:
        client.stop_channels()


def shut_down(kernel: Kernel) -> None:
    """Stop a kernel (the hard way if it does not stop) and remove its sockets."""
    try:
        kernel.warming.join(timeout=WARM_UP_TIMEOUT_S)
        kernel.manager.shutdown_kernel()
    except BaseException as exc:  # asyncio's CancelledError included
        log.warning("shutting down a kernel failed (%r); stopping it the hard way", exc)
        with contextlib.suppress(BaseException):
            kernel.manager.kill_kernel()
    finally:
        shutil.rmtree(kernel.sockets, ignore_errors=True)


class KernelQueue:
    """Hands out fresh kernels, the next ones already starting; use as a context manager."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None, ahead: int = 2) -> None:
        self.cwd = cwd
        self.env = env or {}  # added to this process's environment in every kernel
        self.ahead = ahead  # kernels kept starting for the notebooks still to run
        self._ready: deque[Kernel] = deque()
        self._closing: list[threading.Thread] = []

    def prepare(self, notebooks: int = 1) -> None:
        """Start kernels for the first ``notebooks`` notebooks now (e.g. while the sandbox
        starts), at most ``ahead`` of them."""
        while len(self._ready) < min(self.ahead, notebooks):
            self._ready.append(_start(self.cwd, self.env))

    def take(self, still_to_run: int) -> Kernel:
        """A kernel for the notebook about to run; kernels for up to ``ahead`` of the
        ``still_to_run`` notebooks after it start meanwhile."""
        kernel = self._ready.popleft() if self._ready else _start(self.cwd, self.env)
        while len(self._ready) < min(self.ahead, still_to_run):
            self._ready.append(_start(self.cwd, self.env))
        kernel.warming.join(timeout=WARM_UP_TIMEOUT_S)
        return kernel

    @property
    def starting(self) -> int:
        """Kernels started for notebooks not yet run."""
        return len(self._ready)

    def release(self, kernel: Kernel) -> None:
        """Shut a used kernel down without waiting for it."""
        thread = threading.Thread(target=shut_down, args=(kernel,), daemon=True)
        thread.start()
        self._closing.append(thread)

    def close(self) -> None:
        while self._ready:
            shut_down(self._ready.popleft())
        for thread in self._closing:
            thread.join(timeout=30)
        self._closing.clear()

    def __enter__(self) -> KernelQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
