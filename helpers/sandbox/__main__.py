"""`python -m helpers.sandbox serve ...`: the sandbox process itself."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from helpers.sandbox.context import SandboxSettings
from helpers.sandbox.errors import SandboxError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the sandbox in the foreground")
    serve.add_argument("--status-file", type=Path, required=True)
    serve.add_argument("--time-scale", type=float, default=SandboxSettings.time_scale)
    serve.add_argument("--endpoint-port", type=int, default=0)
    serve.add_argument("--http-port", type=int, default=0)
    serve.add_argument("--dns-port", type=int, default=0)
    serve.add_argument("--resolver-port", type=int, default=0,
                       help="port of the caching resolver clients use (0: any free port)")
    serve.add_argument("--no-quotas", action="store_true",
                       help="lift AWS's account quotas (for unit tests only)")
    serve.add_argument("--state-file", type=Path, default=None,
                       help="keep the account's state in this file (restored at start)")
    serve.add_argument("--fresh", action="store_true",
                       help="discard the saved state instead of restoring it")
    serve.add_argument("--parent-pid", type=int, default=0,
                       help="stop when this process ends (tests; a notebook server's start hook)")
    args = parser.parse_args(argv)
    # jsonschema checks the "iri" string format with rfc3987-syntax when it is installed
    # (Jupyter brings it), and importing it builds a grammar: 2 s of the sandbox's first
    # CloudFormation or API Gateway call, for a format no request of the kit carries.
    # Marking the module absent makes jsonschema skip that one checker.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    from helpers.sandbox.server import SandboxServer

    try:
        settings = SandboxSettings(time_scale=args.time_scale, endpoint_port=args.endpoint_port,
                                   http_port=args.http_port, dns_port=args.dns_port,
                                   resolver_port=args.resolver_port, quotas=not args.no_quotas,
                                   state_file=args.state_file, fresh=args.fresh)
        server = SandboxServer(settings).start()
    except (SandboxError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    info = {**server.info(), "pid": os.getpid()}
    tmp = args.status_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2))
    tmp.replace(args.status_file)
    logging.getLogger("helpers.sandbox").info("ready: %s", json.dumps(info))
    while not stop.wait(0.5):
        if args.parent_pid and not _parent_alive(args.parent_pid):
            break
    server.stop()  # the state is saved by now
    # Leave without the interpreter's own finalization: it garbage-collects moto's object
    # graph for seconds (8 s measured for an idle sandbox), and `sandbox down` SIGKILLs a
    # sandbox that takes longer than 10 s to stop.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _parent_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
