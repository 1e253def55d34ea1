"""The warm parent every Lambda execution environment is forked from (a "zygote").

Started once by :mod:`helpers.sandbox.awslambda.runtime` as a clean, single-threaded
interpreter (``python -P lambda_zygote.py <fd>``, never a fork of the threaded
sandbox process), it imports what the kit's functions import (boto3, botocore,
the standard library modules of ``lambda_src/``) and parses the service models
of the clients they create, then waits. Each new environment is a ``fork()`` of
it: copy-on-write pages instead of a fresh interpreter importing boto3 again
(seconds and ~47 MB each on a loaded two-core machine, where AWS takes a few
hundred milliseconds). The child then becomes exactly what ``python
lambda_worker.py`` was: the function's working directory and environment, its
own pipes to the runtime, the handler imported once (:func:`lambda_worker.main`).

Nothing of a function is ever imported here, only libraries, and nothing that
reads the environment is created: botocore reads region, endpoint and
credentials when a session or client is created, so a function's clients are
made in its own environment, after the fork. The one thing shared is botocore's
parsed data files (service models, endpoints), the same for every function;
see :func:`_share_botocore_data`.

Protocol, on one Unix stream socket, one request at a time: length-prefixed
JSON frames. ``{"op": "spawn", "handler", "cwd", "env"}`` carries the child's
two pipe ends as SCM_RIGHTS and is answered ``{"pid"}``; ``{"op": "reap",
"pid"}`` waits for that child and is answered ``{"status"}`` (as
``Popen.returncode``). Children are reaped only when asked, so a pid the runtime
holds cannot be reused under it. The first frame out is ``{"t": "ready", "modules"}``
(the top-level modules imported, which a function's own must not shadow). End
of file on the socket (the sandbox stopped or died) ends the zygote; its
children live on until the runtime closes their pipes, as before.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import struct
import sys
import time

_HEADER = struct.Struct(">I")
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lambda_worker.py")

# What lambda_src/ (and benchmarks/naive_replicator) import, so a handler's own imports
# are found in sys.modules. Services: the clients they create.
STDLIB = ("base64", "binascii", "dataclasses", "datetime", "decimal", "functools", "json",
          "logging", "random", "re", "threading", "traceback", "uuid",
          # what a client's first request imports (host names are IDNA-encoded)
          "encodings.idna", "stringprep", "unicodedata")
SERVICES = ("dynamodb",)


def send(sock: socket.socket, message: dict, fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode()
    frame = _HEADER.pack(len(data)) + data
    if fds:
        sent = socket.send_fds(sock, [frame], fds)
        frame = frame[sent:]
    if frame:
        sock.sendall(frame)


def receive(sock: socket.socket, max_fds: int = 0) -> tuple[dict | None, list[int]]:
    """One frame and the descriptors sent with it; ``(None, [])`` at end of file."""
    if max_fds:
        head, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, max_fds)
    else:
        head, fds = sock.recv(_HEADER.size), []
    if head:
        head += _exactly(sock, _HEADER.size - len(head))
    if len(head) < _HEADER.size:
        for fd in fds:
            os.close(fd)
        return None, []
    body = _exactly(sock, _HEADER.unpack(head)[0])
    return json.loads(body), fds


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _warm() -> None:
    """Import the functions' libraries and parse the models of their clients."""
    import importlib

    for name in STDLIB:
        importlib.import_module(name)
    import boto3
    import boto3.dynamodb.types  # noqa: F401 - get_tickets imports TypeDeserializer
    import botocore.exceptions  # noqa: F401
    from botocore.config import Config

    # A throw-away client for each service, built from explicit arguments only (the
    # zygote's environment has no AWS settings; its config files are os.devnull): it
    # imports the modules botocore loads lazily (retries, parsers, endpoint rules) and
    # parses the data files. boto3's default session stays unset.
    session = boto3.session.Session(aws_access_key_id="zygote", aws_secret_access_key="zygote",
                                    region_name="us-east-1")
    for service in SERVICES:
        session.client(service, endpoint_url="http://127.0.0.1:9",
                       config=Config(retries={"mode": "adaptive", "max_attempts": 5}))
    _share_botocore_data(session._session.get_component("data_loader"))


def _share_botocore_data(warm) -> None:
    """Every boto3 session made later whose data files are the same starts with what
    ``warm`` (a boto3 session's loader) has parsed.

    botocore caches each loaded data file per Loader (``instance_cache``), and a
    function's session makes a Loader of its own: without this each environment would
    parse dynamodb's model and the 1.2 MB endpoints.json again, ~13 MB and ~50 ms each.
    What a Loader loads depends only on its search paths (botocore's and boto3's data,
    plus ``AWS_DATA_PATH``), compared once boto3 has added its own; botocore never changes
    loaded data (all clients of one session already share it).
    """
    from boto3.session import Session

    cache, paths = dict(warm._cache), list(warm.search_paths)
    setup_loader = Session._setup_loader

    def _setup_loader(self):
        setup_loader(self)
        if list(self._loader.search_paths) == paths and not self._loader._cache:
            self._loader._cache.update(cache)

    Session._setup_loader = _setup_loader


def serve(control: socket.socket) -> list[str] | None:
    """Answer the runtime until it goes away (None); in a forked child, return the
    worker's arguments instead."""
    started = time.monotonic()
    _warm()
    # Objects made so far are never collected: the collector would otherwise write to
    # every one of them in each child, turning shared pages into copies.
    gc.collect()
    gc.freeze()
    # The top-level modules imported here: a function shipping its own module of one of
    # these names (a pinned boto3, say) would get this one instead, so the runtime starts
    # such a function as a new interpreter.
    modules = sorted({name.partition(".")[0] for name in sys.modules})
    send(control, {"t": "ready", "warm_ms": round((time.monotonic() - started) * 1000, 1),
                   "modules": modules})
    while True:
        request, fds = receive(control, max_fds=2)
        if request is None:
            return None
        if request["op"] == "reap":
            try:
                _pid, status = os.waitpid(request["pid"], 0)
                code = os.waitstatus_to_exitcode(status)
            except ChildProcessError:
                code = None
            send(control, {"status": code})
            continue
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            send(control, {"error": str(exc)})
            continue
        if pid == 0:
            control.close()
            return _become(request, fds)
        for fd in fds:
            os.close(fd)
        send(control, {"pid": pid})


def _become(request: dict, fds: list[int]) -> list[str]:
    """The forked child takes the function's place: what Popen gave a worker."""
    request_fd, result_fd = fds
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])  # putenv too: C libraries and subprocesses see it
    time.tzset()
    sys.argv = [WORKER, request["handler"], str(request_fd), str(result_fd)]
    # The zygote's objects stay frozen (never collected, never written by the collector);
    # the function's own are collected as in any interpreter.
    return sys.argv[1:]


def main(argv: list[str]) -> int:
    control = socket.socket(fileno=int(argv[0]))
    worker_args = serve(control)
    if worker_args is None:
        return 0
    # lambda_worker was imported from beside this file; the function's own module of that
    # name, if any, must be found on its task root as before.
    worker = sys.modules.pop("lambda_worker")
    return worker.main(worker_args)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(WORKER))
    import lambda_worker  # noqa: F401 - the child's main; stdlib only

    del sys.path[0]
    sys.exit(main(sys.argv[1:]))
