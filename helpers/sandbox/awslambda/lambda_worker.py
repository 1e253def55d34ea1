"""One warm Lambda execution environment: imports the handler once, then runs events.

Started by :mod:`helpers.sandbox.awslambda.runtime` with the function's code
extracted in the working directory (Lambda's task root) and the function's
environment. It speaks length-prefixed JSON frames over two pipes whose file
descriptors are given on the command line: requests in, log lines and results
out. It is run by path (``python .../lambda_worker.py``), not with ``-m``:
importing the ``helpers`` packages would add ~0.1 s to every cold start and put
the kit on the function's import path. Only the standard library is imported
here, so a cold start costs the interpreter plus the handler's own imports, as
on Lambda.

Error payloads, log lines and the context object follow the AWS Lambda Python
runtime (awslambdaric), so code sees what it would see on AWS.
"""

from __future__ import annotations

import decimal
import importlib
import json
import logging
import os
import struct
import sys
import threading
import time
import traceback

_HEADER = struct.Struct(">I")


class Channel:
    """Frames out to the runtime; several threads may print at once."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()

    def send(self, message: dict) -> None:
        data = json.dumps(message).encode()
        frame = _HEADER.pack(len(data)) + data
        with self.lock:
            view = memoryview(frame)
            while view:
                view = view[os.write(self.fd, view):]


def read_frame(fd: int) -> dict | None:
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    body = _read_exactly(fd, _HEADER.unpack(header)[0])
    return None if body is None else json.loads(body)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(fd, remaining)
        if not chunk:
            return None  # the runtime closed the pipe: time to go
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class LogWriter:
    """sys.stdout and sys.stderr: whole lines go to the runtime as they are written,
    so lines printed before a timeout still reach the log."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.buffer = ""
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            self.buffer += text
            cut = self.buffer.rfind("\n") + 1
            if not cut:
                return len(text)
            lines, self.buffer = self.buffer[:cut], self.buffer[cut:]
        self.channel.send({"t": "log", "d": lines})
        return len(text)

    def flush(self) -> None:
        with self.lock:
            lines, self.buffer = self.buffer, ""
        if lines:
            self.channel.send({"t": "log", "d": lines})

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("the Lambda log stream has no file descriptor")


class LambdaContext:
    """The context object of the Python runtime."""

    def __init__(self, request: dict) -> None:
        env = os.environ
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = request["arn"]
        self.memory_limit_in_mb = int(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = request["id"]
        self.log_group_name = env["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = request["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _install_logging() -> _RequestIdFilter:
    # Lambda's Python runtime gives the root logger a handler writing to the log
    # stream in this format; the level stays Python's default (WARNING).
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S"))
    handler.formatter.converter = time.gmtime
    request_filter = _RequestIdFilter()
    handler.addFilter(request_filter)
    logging.getLogger().addHandler(handler)
    return request_filter


def error_payload(exc: BaseException, request_id: str = "") -> dict:
    """``{"errorMessage", "errorType", "requestId", "stackTrace"}`` as Lambda reports it
    (the runtime's own frame left out of the trace)."""
    frames = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in frames if f.filename != __file__]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def _log_error(error: dict) -> None:
    print(f"[ERROR] {error['errorType']}: {error['errorMessage']}\n"
          f"Traceback (most recent call last):\n{''.join(error['stackTrace'])}", end="")


def load_handler(spec: str):
    """Import ``module.function`` as the runtime does; an error is reported like it."""
    module_name, _, function_name = spec.rpartition(".")
    if not module_name:
        return None, {"errorMessage": f"Bad handler '{spec}': not enough values to unpack "
                      "(expected 2, got 1)", "errorType": "Runtime.MalformedHandlerName",
                      "requestId": "", "stackTrace": []}
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        return None, {"errorMessage": f"Unable to import module '{module_name}': {exc}",
                      "errorType": "Runtime.ImportModuleError", "requestId": "",
                      "stackTrace": []}
    except SyntaxError as exc:
        return None, {"errorMessage": f"Syntax error in module '{module_name}': {exc}",
                      "errorType": "Runtime.UserCodeSyntaxError", "requestId": "",
                      "stackTrace": [f'  File "{exc.filename}" Line {exc.lineno}\n'
                                     f"    {exc.text}\n"]}
    except Exception as exc:  # the module itself raised while loading
        return None, error_payload(exc)
    handler = getattr(module, function_name, None)
    if handler is None:
        return None, {"errorMessage": f"Handler '{function_name}' missing on module "
                      f"'{module_name}'", "errorType": "Runtime.HandlerNotFound",
                      "requestId": "", "stackTrace": []}
    return handler, None


def _decimal_serializer(value):
    # The runtime serialises DynamoDB's Decimal numbers as floats.
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(repr(value) + " is not JSON serializable")


def run(handler, request: dict, request_filter: _RequestIdFilter) -> dict:
    request_filter.request_id = request["id"]
    try:
        event = json.loads(request["event"] or "{}")
        result = handler(event, LambdaContext(request))
    except Exception as exc:
        error = error_payload(exc, request["id"])
        _log_error(error)
        return {"error": True, "payload": json.dumps(error)}
    try:
        return {"error": False, "payload": json.dumps(result, default=_decimal_serializer)}
    except (TypeError, ValueError) as exc:
        error = {"errorMessage": f"Unable to marshal response: {exc}",
                 "errorType": "Runtime.MarshalError", "requestId": request["id"],
                 "stackTrace": []}
        _log_error(error)
        return {"error": True, "payload": json.dumps(error)}


def _max_memory_mb() -> int:
    """Peak resident memory of this process (VmHWM; ru_maxrss would include the
    sandbox process this one was forked from)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def main(argv: list[str]) -> int:
    handler_spec, request_fd, result_fd = argv[0], int(argv[1]), int(argv[2])
    # Lambda's import path starts at the task root (the runtime starts this script
    # with -P, so its own directory is not on the path to shadow the function's modules).
    sys.path.insert(0, os.getcwd())
    channel = Channel(result_fd)
    sys.stdout = sys.stderr = LogWriter(channel)
    request_filter = _install_logging()
    started = time.monotonic()
    handler, init_error = load_handler(handler_spec)
    if init_error:
        _log_error(init_error)
    sys.stdout.flush()
    channel.send({"t": "ready", "init_error": init_error,
                  "init_ms": (time.monotonic() - started) * 1000})
    while True:
        request = read_frame(request_fd)
        if request is None:
            return 0
        if init_error:
            result = {"error": True, "payload": json.dumps({**init_error,
                                                           "requestId": request["id"]})}
        else:
            result = run(handler, request, request_filter)
        sys.stdout.flush()
        channel.send({"t": "result", "max_memory_mb": _max_memory_mb(), **result})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
