"""Runs the Lambda code deployed in moto, in warm local worker processes.

moto stores each function (its zip, handler, environment, timeout, reserved
concurrency) but its ``Invoke`` needs Docker. Here every function gets a pool
of worker processes (:mod:`helpers.sandbox.awslambda.lambda_worker`), each an execution
environment as on Lambda: the zip extracted once, the handler imported once
(the "cold start"), then one event at a time. The pool is keyed by the code and
configuration, so after UpdateFunctionCode/Configuration (or a stack update)
the next invoke starts fresh environments, and the old ones are drained.

Each environment is forked from one warm parent (:mod:`helpers.sandbox.awslambda.lambda_zygote`)
that has imported boto3 once, instead of a new interpreter importing it again; where
Linux's pidfds are missing, or the zygote cannot be started twice running, an
environment is a plain ``python lambda_worker.py`` as before (the sandbox log says
so). The cold start a function reports is AWS's, on the sandbox clock
(:data:`COLD_START_INIT_S`), not this machine's: the first invocation of an
environment takes at least that long, and its REPORT line's Init Duration says
so; the real time is in the sandbox log and at ``/_sandbox/lambda``.

Behaviour follows the Lambda documentation: reserved concurrency caps the
concurrent executions and 0 throttles every call (429
TooManyRequestsException); an uncaught exception gives ``FunctionError:
Unhandled`` with ``{"errorMessage", "errorType", "stackTrace"}``; a timeout
kills the environment and reports ``Task timed out after N seconds``;
``X-Amz-Log-Result`` carries the last 4 KB of the invocation's log (also
written to the function's CloudWatch log group when that group exists).
Function timeouts are not time-scaled: code runs at real speed (which of the
runtime's durations are scaled is declared in :mod:`helpers.sandbox.clock`).

Callers: the API Gateway data plane and the stream pollers call
:meth:`LambdaRuntime.invoke`; boto3's ``lambda.invoke`` (and moto's own
SNS/SQS/EventBridge deliveries) reach it through a patch of moto's
``LambdaBackend.invoke`` / ``LambdaFunction.invoke`` (``PATCHES``, installed by
:mod:`helpers.sandbox.patches`), which runs the code in the runtime started last
(``_active``).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import math
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.core.exceptions import JsonRESTError

from helpers.sandbox import admin_paths
from helpers.sandbox.awslambda.lambda_zygote import receive, send
from helpers.sandbox.clock import aws_seconds, real_seconds
from helpers.sandbox.context import SandboxContext, signing_service
from helpers.sandbox.distance import caller_token

log = logging.getLogger("helpers.sandbox.lambda")

WORKER = Path(__file__).with_name("lambda_worker.py")
ZYGOTE = Path(__file__).with_name("lambda_zygote.py")
# The Init Duration of a small Python 3.12 function (zip package, 128-256 MB) whose module
# imports boto3, as AWS reports it: about 300 ms. AWS says only that cold starts range
# "from under 100 ms to over 1 second" (AWS Compute Blog, "Understanding and Remediating
# Cold Starts: An AWS Lambda Perspective", 2022); public measurements put the Python
# runtime's own init at about 100 ms (e.g. the daily lambda-perf benchmark's hello-world)
# and importing boto3 at roughly 150-250 ms more. AWS seconds; scaled (helpers.sandbox.clock).
COLD_START_INIT_S = aws_seconds("lambda_cold_start")
ZYGOTE_START_TIMEOUT_S = 60.0  # importing boto3 on a loaded two-core machine takes seconds
ZYGOTE_REPLY_TIMEOUT_S = 10.0  # a fork or a reap answers in milliseconds
# pidfds (Linux >= 5.3) let the runtime signal and wait for a process it did not start.
FORK_SUPPORTED = hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")
MAX_WORKERS_PER_FUNCTION = 4  # the sandbox's own cap when no reserved concurrency is set
INIT_TIMEOUT_S = real_seconds("lambda_init_timeout")  # Lambda's limit for the init phase
IDLE_WORKER_S = real_seconds("lambda_idle_environment")  # an unused environment is reclaimed
LOG_TAIL_BYTES = 4096  # X-Amz-Log-Result holds the last 4 KB of the log
# Asynchronous invocations: Lambda retries a failed event twice, after 1 and 2 minutes.
ASYNC_RETRIES = ("lambda_async_retry_first", "lambda_async_retry_second")  # the clock's names
_HEADER = struct.Struct(">I")

_active: LambdaRuntime | None = None  # the runtime moto's patched invoke delegates to


@dataclass
class InvokeResult:
    status_code: int
    payload: bytes
    function_error: str | None = None  # None or "Unhandled"
    log_tail: str = ""
    duration_ms: float = 0.0
    executed_version: str = "$LATEST"


class Throttled(Exception):
    """No concurrency left for the function (reserved concurrency reached or 0)."""

    reason = "ReservedFunctionConcurrentInvocationLimitExceeded"


class FunctionNotFound(LookupError):
    pass


class InvalidRequestContent(ValueError):
    """The payload is not JSON; Lambda refuses it before running anything."""


class TooManyRequestsException(JsonRESTError):
    code = 429

    def __init__(self, reason: str) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.")
        self.description = json.dumps({"Reason": reason, "Type": "User",
                                       "message": "Rate Exceeded."})


# ---------------------------------------------------------------- the warm parent
class ZygoteGone(Exception):
    """The zygote died or stopped answering."""


class _Zygote:
    """One zygote process and the socket to it; requests go one at a time."""

    def __init__(self, cwd: Path) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-P", str(ZYGOTE), str(theirs.fileno())], cwd=cwd,
                env=_base_environment(), stdin=subprocess.DEVNULL, pass_fds=(theirs.fileno(),))
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.pid = self.proc.pid
        self.lock = threading.Lock()
        self.ready = False
        self.modules: frozenset[str] = frozenset()  # top-level modules it has imported
        self.gone: str | None = None  # why it is no longer usable
        log.info("Lambda zygote started (pid %d)", self.pid)

    def spawn(self, handler: str, cwd: Path, env: dict[str, str], fds: tuple[int, int]) -> int:
        reply = self._request({"op": "spawn", "handler": handler, "cwd": str(cwd), "env": env},
                              list(fds))
        if "pid" not in reply:
            raise ZygoteGone(f"the Lambda zygote (pid {self.pid}) could not fork: "
                             f"{reply.get('error')}")
        return reply["pid"]

    def reap(self, pid: int) -> int | None:
        """The exit status of a child that has ended (None if the zygote is gone)."""
        try:
            return self._request({"op": "reap", "pid": pid})["status"]
        except ZygoteGone:
            return None

    def shadowed_by(self, code_dir: Path) -> set[str]:
        """The modules it has imported that the function's code ships a copy of (a fork
        would give the function the zygote's)."""
        with self.lock:
            self._call(lambda: None)
        return {path.name.partition(".")[0] for path in code_dir.iterdir()} & self.modules

    def _request(self, message: dict, fds: list[int] | None = None) -> dict:
        def exchange() -> dict:
            self.sock.settimeout(ZYGOTE_REPLY_TIMEOUT_S)
            send(self.sock, message, fds)
            reply, _ = receive(self.sock)
            if reply is None:
                raise EOFError("it closed its socket")
            return reply

        with self.lock:
            return self._call(exchange)

    def _call(self, exchange: Any) -> Any:
        """``exchange()`` once the zygote is ready; any failure makes it gone (lock held)."""
        if self.gone:
            raise ZygoteGone(self.gone)
        try:
            if not self.ready:
                self.sock.settimeout(ZYGOTE_START_TIMEOUT_S)
                ready, _ = receive(self.sock)
                if ready is None:
                    raise EOFError("it exited while importing")
                self.ready, self.modules = True, frozenset(ready.get("modules", ()))
                log.info("Lambda zygote (pid %d) ready: imports done in %.0f ms",
                         self.pid, ready.get("warm_ms", 0))
            return exchange()
        except (OSError, EOFError, ValueError) as exc:
            self.gone = self._end(f"{type(exc).__name__}: {exc}")
            raise ZygoteGone(self.gone) from None

    def _end(self, reason: str) -> str:
        with contextlib.suppress(OSError):
            self.sock.close()
        try:
            code = self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        return f"the Lambda zygote (pid {self.pid}) is gone ({reason}; exit status {code})"

    def stop(self) -> None:
        """End of file on its socket ends it; its children are the pools' to end."""
        with self.lock:
            if self.gone:
                return
            self.gone = self._end("the sandbox stopped")


class _Forked:
    """A worker the zygote forked, with Popen's kill/wait/returncode. Its pidfd names that
    very process whatever happens to its pid; the zygote holds the exit status (and the pid)
    until :meth:`wait` reaps it there."""

    def __init__(self, pid: int, zygote: _Zygote) -> None:
        self.pid = pid
        self.zygote = zygote
        self.returncode: int | None = None
        self.pidfd: int | None = os.pidfd_open(pid)
        self.lock = threading.Lock()

    def kill(self) -> None:
        with self.lock:
            if self.pidfd is not None:
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int | None:
        with self.lock:
            if self.pidfd is None:
                return self.returncode
            poller = select.poll()
            poller.register(self.pidfd, select.POLLIN)  # readable once the process ended
            if not poller.poll(None if timeout is None else math.ceil(timeout * 1000)):
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
            os.close(self.pidfd)
            self.pidfd = None
        self.returncode = self.zygote.reap(self.pid)
        return self.returncode


# ---------------------------------------------------------------- one environment
class _Worker:
    """A worker process and its two pipes."""

    def __init__(self, proc: subprocess.Popen | _Forked, request_fd: int, result_fd: int,
                 log_stream: str) -> None:
        self.proc = proc
        self.request_fd = request_fd
        self.result_fd = result_fd
        self.log_stream = log_stream
        self.buffer = bytearray()
        self.init_logs = ""
        self.init_ms: float | None = None  # set until the first invocation reports it
        self.forked = isinstance(proc, _Forked)
        self.init_error = False
        self.last_used = time.monotonic()
        self.alive = True
        self._ending = threading.Lock()  # kill/close may race (stop vs. a timeout)
        self._poller = select.poll()  # not select(): descriptors may exceed FD_SETSIZE
        self._poller.register(result_fd, select.POLLIN)

    def send(self, message: dict) -> None:
        data = json.dumps(message).encode()
        view = memoryview(_HEADER.pack(len(data)) + data)
        while view:
            view = view[os.write(self.request_fd, view):]

    def read(self, deadline: float) -> dict | str:
        """The next frame, or "timeout" / "exit"."""
        while True:
            if len(self.buffer) >= _HEADER.size:
                size = _HEADER.unpack_from(self.buffer)[0]
                if len(self.buffer) >= _HEADER.size + size:
                    frame = bytes(self.buffer[_HEADER.size:_HEADER.size + size])
                    del self.buffer[:_HEADER.size + size]
                    return json.loads(frame)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            if not self._poller.poll(max(1, math.ceil(remaining * 1000))):
                return "timeout"
            chunk = os.read(self.result_fd, 1 << 16)
            if not chunk:
                return "exit"
            self.buffer += chunk

    def kill(self) -> None:
        with self._ending:
            if not self.alive:
                return
            self.alive = False
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        for fd in (self.request_fd, self.result_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def close(self) -> None:
        """Graceful end: closing the request pipe makes the worker exit."""
        with self._ending:
            if not self.alive:
                return
            self.alive = False
        with contextlib.suppress(OSError):
            os.close(self.request_fd)
        try:
            self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self.result_fd)


@dataclass(frozen=True)
class _Config:
    """What a function's environments are built from; any change means new ones."""

    arn: str
    region: str
    name: str
    version: str
    code_digest: str
    handler: str
    runtime: str
    timeout: float
    memory_mb: int
    env: tuple[tuple[str, str], ...]


class _Pool:
    def __init__(self, config: _Config) -> None:
        self.config = config
        self.idle: list[_Worker] = []
        self.busy = 0
        self.closed = False
        self.cond = threading.Condition()
        self.workers: set[_Worker] = set()  # idle and busy, to stop them all at the end

    def close(self, kill_busy: bool = False) -> None:
        """Drain: idle workers end now, busy ones when their invocation returns
        (or at once with ``kill_busy``, when the sandbox stops)."""
        with self.cond:
            self.closed = True
            idle, self.idle = self.idle, []
            busy = [w for w in self.workers if w not in idle] if kill_busy else []
            self.cond.notify_all()
        for worker in idle:
            worker.close()
        for worker in busy:
            worker.kill()


# ---------------------------------------------------------------- the runtime
class LambdaRuntime:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._pools: dict[str, _Pool] = {}  # function ARN (with version) -> current pool
        self._lock = threading.Lock()
        self._code_root: Path | None = None
        self._reaper: threading.Thread | None = None
        self._zygote: _Zygote | None = None
        self._zygote_lock = threading.Lock()
        self._forking = FORK_SUPPORTED  # off for good when a restarted zygote fails too
        self._cold_starts: deque[dict[str, Any]] = deque(maxlen=1000)
        self._prepared = False  # the zygote was asked to start

    # -- component
    def start(self) -> None:
        global _active
        _active = self
        # The zygote starts on the first request that can create or invoke a function.
        self.ctx.add_intercept(self._before_lambda)
        self.ctx.add_intercept(self._stats_intercept)
        self._reaper = threading.Thread(target=self._reap_idle, name="lambda-reaper",
                                        daemon=True)
        self._reaper.start()

    def stop(self) -> None:
        global _active
        if _active is self:
            _active = None
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close(kill_busy=True)
        with self._zygote_lock:
            zygote, self._zygote, self._forking = self._zygote, None, False
        if zygote is not None:
            zygote.stop()
        if self._code_root is not None:
            shutil.rmtree(self._code_root, ignore_errors=True)

    # -- public API
    def invoke(self, region: str, function_name_or_arn: str, payload: bytes = b"",
               invocation_type: str = "RequestResponse") -> InvokeResult:
        """Invoke as Lambda's Invoke API does. Raises Throttled, FunctionNotFound or
        InvalidRequestContent where Lambda answers with an error status."""
        from moto.awslambda.exceptions import LambdaClientError

        try:
            fn = self.ctx.backend("lambda", region).get_function(function_name_or_arn)
        except LambdaClientError as exc:
            raise FunctionNotFound(f"Function not found: {function_name_or_arn}") from exc
        return self.invoke_function(fn, payload, invocation_type)

    def invoke_function(self, fn: Any, payload: bytes | str = b"",
                        invocation_type: str = "RequestResponse") -> InvokeResult:
        """Invoke a moto LambdaFunction object."""
        if isinstance(payload, str):
            payload = payload.encode()
        payload = payload or b"{}"
        try:
            json.loads(payload)
        except ValueError as exc:
            raise InvalidRequestContent(f"Could not parse request body into json: {exc}") from None
        version = str(fn.version)
        if invocation_type == "DryRun":
            return InvokeResult(204, b"", executed_version=version)
        if invocation_type == "Event":
            threading.Thread(target=self._invoke_async, args=(fn, payload), daemon=True,
                             name=f"lambda-event-{fn.function_name}").start()
            return InvokeResult(202, b"", executed_version=version)
        return self._invoke_sync(fn, payload)

    def stats(self) -> dict[str, dict[str, int]]:
        with self._lock:
            pools = dict(self._pools)
        return {arn: {"idle": len(p.idle), "busy": p.busy} for arn, p in pools.items()}

    def environments(self) -> dict[str, Any]:
        """The zygote, every live environment's process, and the cold starts so far: what
        ``/_sandbox/lambda`` answers (``workshop bench`` measures their memory)."""
        with self._lock:
            pools = list(self._pools.values())
        workers = []
        for pool in pools:
            with pool.cond:
                workers += [{"function": pool.config.name, "pid": w.proc.pid,
                             "forked": w.forked} for w in pool.workers if w.alive]
        zygote = self._zygote
        return {"zygote_pid": zygote.pid if zygote is not None and not zygote.gone else None,
                "workers": workers, "cold_starts": list(self._cold_starts),
                "cold_start_init_ms": COLD_START_INIT_S * 1000,
                "time_scale": self.ctx.time_scale}

    def _before_lambda(self, request: Any) -> None:
        if not self._prepared and signing_service(request) in ("lambda", "cloudformation"):
            self._prepared = True
            self.prepare()

    def prepare(self) -> None:
        """Start the zygote now (it imports while the stacks are created), not on the
        first cold start."""
        with contextlib.suppress(OSError):
            self._zygote_now()

    # -- invocation
    def _invoke_async(self, fn: Any, payload: bytes) -> None:
        """Event invocations run in the background; failures are retried twice."""
        for delay in (0.0, *map(self.ctx.clock.seconds, ASYNC_RETRIES)):
            if delay and self.ctx.stop_event.wait(delay):
                return
            try:
                if self._invoke_sync(fn, payload).function_error is None:
                    return
            except Throttled:
                continue
            except Exception:  # noqa: BLE001 - a background event must not kill the thread
                log.exception("asynchronous invocation of %s failed", fn.function_name)
                return

    def _invoke_sync(self, fn: Any, payload: bytes) -> InvokeResult:
        config = self._config(fn)
        pool = self._pool(config)
        limit = _reserved(fn)
        if limit == 0:
            raise Throttled()
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        worker = self._acquire(pool, limit)
        try:
            result = self._run(worker, config, request_id, payload)
        except BaseException:
            worker.kill()
            self._release(pool, None)
            raise
        keep = worker.alive and not worker.init_error
        if not keep:
            worker.kill()
        self._release(pool, worker if keep else None)
        result.duration_ms = round((time.monotonic() - started) * 1000, 2)
        return result

    def _run(self, worker: _Worker, config: _Config, request_id: str,
             payload: bytes) -> InvokeResult:
        started = time.monotonic()
        deadline = started + config.timeout
        request = {"id": request_id, "arn": config.arn, "event": payload.decode(),
                   "deadline_ms": time.time() * 1000 + config.timeout * 1000}
        lines = [worker.init_logs, f"START RequestId: {request_id} Version: {config.version}\n"]
        worker.init_logs = ""
        init_ms, worker.init_ms = worker.init_ms, None
        outcome: dict | str
        try:
            worker.send(request)
        except OSError:
            outcome = "exit"
        else:
            while True:
                outcome = worker.read(deadline)
                if isinstance(outcome, dict) and outcome.get("t") == "log":
                    lines.append(outcome["d"])
                    continue
                break
        duration_ms = (time.monotonic() - started) * 1000
        status = None
        if outcome == "timeout":
            worker.kill()
            status = "timeout"
            message = (f"{_utc_stamp()} {request_id} Task timed out after "
                       f"{config.timeout:.2f} seconds")
            lines.append(message + "\n")
            payload_out = json.dumps({"errorMessage": message}).encode()
            error = "Unhandled"
        elif outcome == "exit":
            worker.kill()
            status = "error"
            code = worker.proc.returncode
            message = (f"RequestId: {request_id} Error: Runtime exited with error: "
                       f"exit status {code}")
            lines.append(message + "\n")
            payload_out = json.dumps({"errorType": "Runtime.ExitError",
                                      "errorMessage": message}).encode()
            error = "Unhandled"
        else:
            payload_out = outcome["payload"].encode()
            error = "Unhandled" if outcome["error"] else None
        memory = outcome.get("max_memory_mb", 0) if isinstance(outcome, dict) else 0
        report = (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
                  f"Billed Duration: {math.ceil(duration_ms)} ms\tMemory Size: "
                  f"{config.memory_mb} MB\tMax Memory Used: {memory or config.memory_mb} MB\t")
        if init_ms is not None:
            report += f"Init Duration: {init_ms:.2f} ms\t"
        if status:
            report += f"Status: {status}"
        lines += [f"END RequestId: {request_id}\n", report + "\n"]
        text = "".join(lines)
        self._write_logs(config, worker.log_stream, text)
        tail = text.encode()[-LOG_TAIL_BYTES:].decode(errors="ignore")
        return InvokeResult(200, payload_out, error, tail, executed_version=config.version)

    # -- pools and workers
    def _config(self, fn: Any) -> _Config:
        env = tuple(sorted((str(k), str(v)) for k, v in (fn.environment_vars or {}).items()))
        return _Config(
            arn=fn.function_arn, region=fn.region, name=fn.function_name,
            version=str(fn.version), code_digest=getattr(fn, "code_digest", "") or "",
            handler=fn.handler or "", runtime=fn.run_time or "python3.12",
            timeout=float(fn.timeout or 3), memory_mb=int(fn.memory_size or 128), env=env)

    def _pool(self, config: _Config) -> _Pool:
        stale = None
        with self._lock:
            pool = self._pools.get(config.arn)
            if pool is None or pool.config != config:
                stale, pool = pool, _Pool(config)
                self._pools[config.arn] = pool
        if stale is not None:
            stale.close()  # the code or configuration changed: drain the old environments
        return pool

    def _acquire(self, pool: _Pool, reserved: int | None) -> _Worker:
        limit = min(reserved, MAX_WORKERS_PER_FUNCTION) if reserved else MAX_WORKERS_PER_FUNCTION
        with pool.cond:
            while True:
                if pool.idle:
                    pool.busy += 1
                    return pool.idle.pop()
                if pool.busy < limit:
                    pool.busy += 1
                    break
                if reserved is not None and pool.busy >= reserved:
                    raise Throttled()  # Lambda throttles rather than queues a sync call
                if self.ctx.stop_event.is_set():
                    raise Throttled()
                pool.cond.wait(0.5)
        try:
            worker = self._spawn(pool.config)
        except BaseException:
            self._release(pool, None)
            raise
        with pool.cond:
            pool.workers.add(worker)
        return worker

    def _release(self, pool: _Pool, worker: _Worker | None) -> None:
        with pool.cond:
            pool.busy -= 1
            pool.workers = {w for w in pool.workers if w.alive}
            if worker is not None:
                worker.last_used = time.monotonic()
                if pool.closed:
                    worker.close()
                else:
                    pool.idle.append(worker)
            pool.cond.notify()

    def _spawn(self, config: _Config) -> _Worker:
        code_dir = self._code_dir(config)
        log_stream = (f"{datetime.now(UTC):%Y/%m/%d}/[{config.version}]"
                      f"{uuid.uuid4().hex}")
        request_r, request_w = os.pipe()
        result_r, result_w = os.pipe()
        started = time.monotonic()
        try:
            proc, forked_at = self._start_process(config, code_dir,
                                       self._environment(config, code_dir, log_stream),
                                       (request_r, result_w))
        except BaseException:
            for fd in (request_r, request_w, result_r, result_w):
                os.close(fd)
            raise
        os.close(request_r)
        os.close(result_w)
        worker = _Worker(proc, request_w, result_r, log_stream)
        logs = []
        deadline = time.monotonic() + max(INIT_TIMEOUT_S, config.timeout)
        while True:
            frame = worker.read(deadline)
            if isinstance(frame, dict) and frame.get("t") == "log":
                logs.append(frame["d"])
                continue
            break
        if not isinstance(frame, dict):
            worker.kill()
            raise RuntimeError(f"the Lambda worker for {config.name} did not start ({frame}); "
                               "see the sandbox log")
        worker.init_logs = "".join(logs)
        worker.init_error = bool(frame.get("init_error"))
        # The cold start takes AWS's time on the sandbox clock, whatever this machine took:
        # the difference is waited out, and the reported Init Duration is AWS's figure.
        ready_at = time.monotonic()
        real_s = ready_at - started
        modelled_s = self.ctx.clock.seconds("lambda_cold_start")
        if real_s < modelled_s:
            self.ctx.stop_event.wait(modelled_s - real_s)
        worker.init_ms = modelled_s * 1000
        cold_start = {"function": config.name, "forked": worker.forked,
                      "ready_ms": round((ready_at - forked_at) * 1000, 1),
                      "handler_import_ms": round(frame.get("init_ms", 0.0), 1),
                      "reported_init_ms": round(worker.init_ms, 2)}
        self._cold_starts.append(cold_start)
        log.info("cold start of %s: %s, ready in %.0f ms (handler import %.0f ms); "
                 "reported Init Duration %.0f ms (AWS's %.0f ms x time scale %g)",
                 config.name, "forked" if worker.forked else "new interpreter",
                 cold_start["ready_ms"], cold_start["handler_import_ms"], worker.init_ms,
                 COLD_START_INIT_S * 1000, self.ctx.time_scale)
        return worker

    def _start_process(self, config: _Config, code_dir: Path, env: dict[str, str],
                       fds: tuple[int, int]) -> tuple[subprocess.Popen | _Forked, float]:
        """A fork of the zygote (restarted once if it died), else a new interpreter; and
        when it was asked for (after any wait for the zygote's own start)."""
        for attempt in (1, 2):
            try:
                zygote = self._zygote_now()
            except OSError as exc:
                log.warning("could not start the Lambda zygote (%s)", exc)
                break
            if zygote is None:
                break
            try:
                shadowed = zygote.shadowed_by(code_dir)
                if shadowed:
                    log.info("%s ships its own %s: its environments start as new "
                             "interpreters, so that its code imports them", config.name,
                             ", ".join(sorted(shadowed)))
                    break
                forked_at = time.monotonic()
                return _Forked(zygote.spawn(config.handler, code_dir, env, fds),
                               zygote), forked_at
            except ZygoteGone as exc:
                with self._zygote_lock:
                    if self._zygote is zygote:
                        self._zygote = None
                    if attempt == 2:
                        self._forking = False
                log.warning("%s; %s", exc, "starting a new one" if attempt == 1 else
                            "Lambda environments start as new interpreters from now on")
        started = time.monotonic()
        return subprocess.Popen(
            # -P: the worker's own directory stays off the function's import path.
            [sys.executable, "-P", str(WORKER), config.handler, *map(str, fds)],
            cwd=code_dir, env=env, stdin=subprocess.DEVNULL, pass_fds=fds), started

    def _zygote_now(self) -> _Zygote | None:
        """The running zygote, started if there is none (None when forking is off)."""
        with self._zygote_lock:
            if self._zygote is None and self._forking and not self.ctx.stop_event.is_set():
                self._zygote = _Zygote(self._code_root_dir())
            return self._zygote

    def _environment(self, config: _Config, code_dir: Path, log_stream: str) -> dict[str, str]:
        env = _base_environment()
        env.update(dict(config.env))
        env.update({
            "_HANDLER": config.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": config.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "LAMBDA_TASK_ROOT": str(code_dir),
            "LAMBDA_RUNTIME_DIR": str(WORKER.parent),
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            # Names the function's region, so a call to another region pays the distance
            # (helpers.sandbox.distance); opaque to the function, as Lambda's token is.
            "AWS_SESSION_TOKEN": caller_token(config.region),
            # boto3 inside the function reaches the sandbox, and reads no local AWS config.
            "AWS_ENDPOINT_URL": self.ctx.endpoint_url,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        })
        return env

    def _code_root_dir(self) -> Path:
        with self._lock:
            if self._code_root is None:
                self._code_root = Path(tempfile.mkdtemp(prefix="sandbox-lambda-"))
            return self._code_root

    def _code_dir(self, config: _Config) -> Path:
        """The function's zip extracted once per code version (keyed by its sha256)."""
        root = self._code_root_dir()
        with self._lock:
            target = root / (config.code_digest or "no-code")
            if target.exists():
                return target
            fn = self.ctx.backend("lambda", config.region).get_function(config.arn)
            staging = Path(tempfile.mkdtemp(dir=root))
            code = getattr(fn, "code_bytes", b"") or b""
            if code:
                with zipfile.ZipFile(io.BytesIO(code)) as archive:
                    archive.extractall(staging)
            staging.rename(target)
            return target

    def _write_logs(self, config: _Config, stream: str, text: str) -> None:
        """Copy the invocation's log to CloudWatch Logs when the function's log group
        exists (the kit's roles cannot create one, so none is created here)."""
        try:
            logs = self.ctx.backend("logs", config.region)
            group = logs.groups.get(f"/aws/lambda/{config.name}")
            if group is None:
                return
            if stream not in group.streams:
                group.create_log_stream(stream)
            now = int(time.time() * 1000)
            events = [{"timestamp": now, "message": line}
                      for line in text.splitlines() if line.strip()]
            if events:
                group.put_log_events(stream, events)
        except Exception:  # noqa: BLE001 - logging must never fail an invocation
            log.debug("could not write logs for %s", config.name, exc_info=True)

    def _stats_intercept(self, request: Any) -> Any:
        if request.path != admin_paths.LAMBDA:
            return None
        from werkzeug.wrappers import Response

        return Response(json.dumps(self.environments()), mimetype="application/json")

    def _reap_idle(self) -> None:
        while not self.ctx.stop_event.wait(30):
            cutoff = time.monotonic() - IDLE_WORKER_S
            with self._lock:
                pools = list(self._pools.values())
            for pool in pools:
                with pool.cond:
                    old = [w for w in pool.idle if w.last_used < cutoff]
                    pool.idle = [w for w in pool.idle if w.last_used >= cutoff]
                    pool.workers.difference_update(old)
                for worker in old:
                    worker.close()


def _base_environment() -> dict[str, str]:
    """What every environment (and the zygote) starts from: nothing of the sandbox's own
    environment (AWS_PROFILE, real keys, ...) leaks in, and no AWS config file is read."""
    return {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "en_US.UTF-8", "TZ": ":UTC",
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


def _reserved(fn: Any) -> int | None:
    value = getattr(fn, "reserved_concurrency", None)
    return None if value is None or value == "" else int(value)


def _utc_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ---------------------------------------------------------------- moto's Invoke
# Installed by helpers.sandbox.patches; moto's own Invoke while no runtime runs.
def _wrap_backend_invoke(original_backend_invoke: Any) -> Any:
    def backend_invoke(self, function_name, qualifier, body, headers, response_headers):
        runtime = _active
        if runtime is None:
            return original_backend_invoke(self, function_name, qualifier, body, headers,
                                           response_headers)
        fn = self.get_function(function_name, qualifier)
        invocation_type = (headers or {}).get("X-Amz-Invocation-Type") or "RequestResponse"
        try:
            result = runtime.invoke_function(fn, body or b"", invocation_type)
        except Throttled as exc:
            raise TooManyRequestsException(exc.reason) from None
        except InvalidRequestContent as exc:
            raise JsonRESTError("InvalidRequestContentException", str(exc)) from None
        if result.function_error:
            response_headers["x-amz-function-error"] = result.function_error
        if invocation_type == "RequestResponse":
            response_headers["x-amz-log-result"] = base64.b64encode(
                result.log_tail.encode()).decode()
        response_headers["x-amz-executed-version"] = result.executed_version
        response_headers["Content-Length"] = str(len(result.payload))
        return result.payload

    return backend_invoke


def _wrap_function_invoke(original_function_invoke: Any) -> Any:
    def function_invoke(self, body, request_headers, response_headers):
        # moto's own event sources (SNS, SQS, EventBridge, ...) call this directly.
        runtime = _active
        if runtime is None:
            return original_function_invoke(self, body, request_headers, response_headers)
        invocation_type = ((request_headers or {}).get("X-Amz-Invocation-Type")
                           or "RequestResponse")
        try:
            result = runtime.invoke_function(self, body or b"", invocation_type)
        except (Throttled, InvalidRequestContent) as exc:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorMessage": str(exc) or type(exc).__name__}).encode()
        if result.function_error:
            response_headers["x-amz-function-error"] = result.function_error
        return result.payload

    return function_invoke


PATCHES = (
    ("moto.awslambda.models:LambdaBackend.invoke", _wrap_backend_invoke),
    ("moto.awslambda.models:LambdaFunction.invoke", _wrap_function_invoke),
)
