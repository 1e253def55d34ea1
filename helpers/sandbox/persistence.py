"""The sandbox's account outlives its process: state saved as it changes, restored at start.

As on AWS, stacks, functions, tables (items and streams), APIs, zones, health
checks, certificates, buckets and queues do not vanish when the sandbox stops
or crashes. :class:`SandboxState` is the first component to start and the last
to stop (after the patch registry, :mod:`helpers.sandbox.patches`):

* **start**: restores the state file (``settings.state_file``) unless
  ``settings.fresh`` (which deletes it); a damaged file or one from another
  moto/Python/format version stops the start with one sentence naming
  ``--fresh`` (:mod:`helpers.sandbox.state_file`), never a silent empty start.
  The data plane then resumes from moto's restored backends (health checkers,
  DNS, API executor, website and Lambda runtime read them directly) and the
  stream pollers from their saved positions.
* **while running**: a control-plane request that can change state, or a stream
  poller advancing, marks the state changed; a background thread saves it at
  most once a second (so a ``kill -9`` loses at most about the last second),
  and less often when saves get long (one save may use at most a
  ``1/SAVE_SHARE`` of the time: a state of tens of thousands of items).
  A snapshot is consistent: no state-changing request is inside moto when it
  is taken (a gate, below), and no stream batch is between its invocation and
  its position update (the pollers pause), so after a restore a batch is
  delivered again only if it had not finished when the state was saved -- the
  at-least-once delivery Lambda promises, not a routine duplicate. It is taken
  by forking (:mod:`helpers.sandbox.snapshot`): requests wait only for the fork,
  the child pickles and writes.
* **stop**: a last save.

Gate: state-changing requests share it; a snapshot takes it alone for the time
of the fork (milliseconds) and gives up after ``GATE_TIMEOUT_S`` if requests
keep it busy (retried on the next round), so nothing can deadlock on it.
Reads, Lambda ``Invoke`` (its code calls the control plane itself) and
long-polling ``ReceiveMessage`` never wait for it.

``GET /_sandbox/state`` on the control plane reports where the state is kept
and its saves (for tests, benchmarks and ``workshop sandbox status``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from helpers.sandbox import admin_paths, moto_state, snapshot, state_file
from helpers.sandbox.context import SandboxContext

log = logging.getLogger("helpers.sandbox.persistence")

SAVE_EVERY_S = 1.0  # at most one save a second; a kill -9 loses at most about that
SAVE_SHARE = 4  # ...and saves take at most a quarter of the time (of one core)
GATE_TIMEOUT_S = 0.5  # longest a snapshot waits for state-changing requests to finish
POLLER_PAUSE_S = 0.5  # longest it waits for stream batches under way to finish
FAILED_SAVE_RETRY_S = 10.0
WAKE_S = 0.25  # how soon the saving thread notices the sandbox stopping

READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "TransactGet",
                      "Test", "ReceiveMessage")
_LAMBDA_INVOKE = re.compile(r"^/20\d\d-\d\d-\d\d/functions/[^/]+/invocations/?$")


def changes_state(environ: dict[str, Any], body: bytes) -> bool:
    """Whether a control-plane request can change the account's state (and must wait for a
    snapshot under way). Errs on "yes": a needless save costs milliseconds."""
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "")
    if method in ("GET", "HEAD", "OPTIONS") or admin_paths.is_admin(path):
        return False
    if _LAMBDA_INVOKE.match(path):
        return False  # the function's own requests are gated; waiting here could deadlock
    target = environ.get("HTTP_X_AMZ_TARGET", "")  # JSON protocol: "DynamoDB_20120810.GetItem"
    if target:
        return not target.rsplit(".", 1)[-1].startswith(READ_ONLY_PREFIXES)
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        return not action.startswith(READ_ONLY_PREFIXES)  # query protocol: CloudFormation, ...
    return True  # REST: POST, PUT, PATCH, DELETE


class _Gate:
    """Shared by state-changing requests, taken alone by a snapshot (which then has priority
    over new requests, for at most its timeout)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._snapshot = False  # waiting for, or holding, the gate alone

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._snapshot)
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def alone(self, timeout: float) -> Iterator[bool]:
        with self._cond:
            self._snapshot = True
            held = self._cond.wait_for(lambda: self._active == 0, timeout)
            if not held:
                self._snapshot = False
                self._cond.notify_all()
        try:
            yield held
        finally:
            if held:
                with self._cond:
                    self._snapshot = False
                    self._cond.notify_all()


class SandboxState:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.path: Path | None = ctx.settings.state_file
        self.restored_from: float | None = None  # saved_at of the restored state
        self._gate = _Gate()
        self._changed = threading.Event()
        self._save_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._saves = 0
        self._last_started = 0.0  # monotonic start of the last save (or attempt)
        self._last: dict[str, Any] = {}  # the last save's figures
        self._error: str | None = None

    # -- component
    def start(self) -> None:
        self.ctx.state = self
        if self.path is None:
            return
        if self.ctx.settings.fresh:
            self.path.unlink(missing_ok=True)
        else:
            self._restore()
        self.ctx.add_intercept(self._status_intercept)
        self._thread = threading.Thread(target=self._save_loop, name="sandbox-state",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Runs after every other component stopped: the last save sees their final state."""
        if self._thread is None:
            return
        self.ctx.stop_event.set()
        self._thread.join(timeout=5)
        if self._changed.is_set():
            self.save()

    # -- what the other components call
    @contextlib.contextmanager
    def guard(self, environ: dict[str, Any], body: bytes) -> Iterator[None]:
        """Around every control-plane request moto handles."""
        if self._thread is None or not changes_state(environ, body):
            yield
            return
        with self._gate.shared():
            try:
                yield
            finally:
                self._changed.set()

    def changed(self) -> None:
        """Data-plane state changed outside a request (a stream position)."""
        self._changed.set()

    def info(self) -> dict[str, Any]:
        return {"file": str(self.path) if self.path else None,
                "restored_from": self.restored_from, "saves": self._saves,
                "pending": self._changed_since_save(), "error": self._error, **self._last}

    # -- saving
    def _changed_since_save(self) -> bool:
        """True until a save that began after the last change is on disk."""
        return self._changed.is_set() or self._save_lock.locked()

    def _save_loop(self) -> None:
        stop = self.ctx.stop_event
        while not stop.is_set():
            if not self._changed.wait(WAKE_S) or stop.is_set():
                continue
            gap = max(SAVE_EVERY_S, SAVE_SHARE * self._last.get("save_ms", 0) / 1000)
            since = time.monotonic() - self._last_started
            if since < gap and stop.wait(gap - since):
                return
            try:
                if not self.save():
                    continue  # the gate stayed busy: next round
            except Exception as exc:  # noqa: BLE001 - keep the sandbox up; say why in status
                self._error = f"{type(exc).__name__}: {exc}"
                log.exception("saving the sandbox state to %s failed", self.path)
                stop.wait(FAILED_SAVE_RETRY_S)

    def save(self) -> bool:
        """Take a consistent snapshot and write it; False if requests kept the gate busy."""
        assert self.path is not None
        with self._save_lock:
            started = self._last_started = time.monotonic()  # also paces retries
            head = state_file.header()
            pollers = self.ctx.stream_pollers
            pause = pollers.paused(POLLER_PAUSE_S) if pollers else contextlib.nullcontext()
            with pause, self._gate.alone(GATE_TIMEOUT_S) as held:
                if not held:
                    return False
                self._changed.clear()  # changes from now on need another save
                head["saved_at"] = time.time()
                # Read here, not in the forked child: it takes the pollers' lock.
                checkpoints = (pollers.checkpoints() if pollers
                               else dict(self.ctx.stream_checkpoints))
                account = self.ctx.account_id
                try:
                    save = snapshot.start(self.path, head, lambda: {
                        "moto": moto_state.capture(account),
                        "stream_checkpoints": checkpoints})
                except BaseException:
                    self._changed.set()
                    raise
                frozen = time.monotonic()
            try:
                size = save.wait(self.path)
            except BaseException:
                self._changed.set()
                raise
            self._saves += 1
            self._error = None
            self._last = {"last_saved_at": head["saved_at"], "bytes": size,
                          # how long state-changing requests waited, and the whole save
                          "requests_waited_ms": round((frozen - started) * 1000, 1),
                          "save_ms": round((time.monotonic() - started) * 1000, 1)}
            return True

    # -- restoring
    def _restore(self) -> None:
        assert self.path is not None
        saved = state_file.read(self.path)
        if saved is None:
            return
        started = time.monotonic()
        # The restored objects need moto patched before any request (the stream pollers look
        # for mappings right away): the registry installs it all now, as it would later. And
        # before unpickling, which imports moto's modules too: two threads importing the same
        # modules in different orders is what Python's import locks call a deadlock.
        from helpers.sandbox import patches

        patches.install()
        try:
            value = moto_state.loads(saved.payload)
            captured, checkpoints = value["moto"], value["stream_checkpoints"]
        except Exception as exc:  # noqa: BLE001 - whatever is wrong, the answer is the same
            raise state_file.damaged(self.path, f"{type(exc).__name__}: {exc}") from None
        moto_state.restore(captured, self.ctx.account_id)
        self.ctx.stream_checkpoints = dict(checkpoints)
        self.restored_from = saved.header["saved_at"]
        log.info("restored the state saved at %s from %s in %.2f s",
                 time.strftime("%H:%M:%S", time.localtime(self.restored_from)), self.path,
                 time.monotonic() - started)

    def _status_intercept(self, request: Any) -> Any:
        if request.path != admin_paths.STATE:
            return None
        from werkzeug.wrappers import Response

        return Response(json.dumps(self.info()), mimetype="application/json")

