"""Distance between regions: a call from one region to another pays the round trip.

Every sandbox region runs on one machine, so a Lambda function in the primary
region writing to the secondary's table would answer as fast as a write next
door; on AWS it crosses the distance between them (eu-west-1 to ap-southeast-1:
about 180 ms a round trip), which is what makes the replicator's batching
matter and what a replication lag is made of.

How the control plane knows where a call comes from: the Lambda runtime gives
each function's environment a session token naming the function's region
(:func:`caller_token`), boto3 sends it with every request
(``X-Amz-Security-Token``), and the region called is the one in the request's
SigV4 credential scope (``Credential=<key>/<date>/<region>/<service>/...``). A
call whose two regions differ waits the round trip of
:mod:`helpers.sandbox.inter_region_latency` before it is answered, in real time
(not scaled: ``inter_region_round_trip`` in :mod:`helpers.sandbox.clock`). Calls
without a region token (the learner's own clients, whose location the sandbox does
not know) pay nothing. Stateless.
"""

from __future__ import annotations

import logging

from werkzeug.wrappers import Request, Response

from helpers.sandbox.context import SandboxContext
from helpers.sandbox.inter_region_latency import round_trip_ms

log = logging.getLogger("helpers.sandbox.distance")

TOKEN_PREFIX = "sandbox-region:"


def caller_token(region: str) -> str:
    """The session token that tells the control plane a call comes from ``region``."""
    return f"{TOKEN_PREFIX}{region}"


def caller_region(request: Request) -> str:
    token = request.headers.get("X-Amz-Security-Token", "")
    return token[len(TOKEN_PREFIX):] if token.startswith(TOKEN_PREFIX) else ""


def called_region(request: Request) -> str:
    _, found, rest = request.headers.get("Authorization", "").partition("Credential=")
    scope = rest.split(",", 1)[0].split("/")
    return scope[2] if found and len(scope) > 3 else ""


class Distance:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def start(self) -> None:
        self.ctx.add_intercept(self.intercept)

    def stop(self) -> None:
        if self.intercept in self.ctx.intercepts:
            self.ctx.intercepts.remove(self.intercept)

    def intercept(self, request: Request) -> Response | None:
        caller = caller_region(request)
        if not caller:
            return None
        rtt_s = self.ctx.clock.seconds("inter_region_round_trip",
                                       aws_s=round_trip_ms(caller, called_region(request)) / 1000)
        if rtt_s:
            # The request's own time on the wire: before moto sees it, outside any lock.
            self.ctx.stop_event.wait(rtt_s)
        return None  # only delayed; moto answers it
