"""Fault injection: make the sandbox misbehave on request, the way AWS sometimes does.

Only the sandbox has this; nothing in ``lambda_src/`` or the helpers knows
about it, so the code under test runs exactly as deployed. With no rule set
the intercept answers nothing but its own path and costs one list check.

Rules are managed on the control plane (JSON):

* ``POST /_sandbox/faults`` with one rule or ``{"rules": [...]}`` adds rules
  (201, the rules with their ids);
* ``GET /_sandbox/faults`` lists them with their counters (``matched``, ``fired``);
* ``DELETE /_sandbox/faults`` removes them all, ``DELETE /_sandbox/faults/<id>`` one.

In Python: :class:`helpers.connect.sandbox_admin.SandboxAdmin` (``add_faults``, ``faults``,
``clear_faults``, ``remove_fault``).

A rule matches control-plane requests by ``service`` (the SigV4 signing name,
required), and optionally ``region``, ``operation`` (name or list: the
``X-Amz-Target`` operation of JSON services, the ``Action`` of query services),
``table`` (DynamoDB: ``TableName`` or a ``RequestItems`` key), ``contains`` (a
substring of the request body, e.g. a key value), ``method`` and ``path`` (a
regular expression, for REST services such as S3). Of the matching requests it
acts on every ``every``-th (default 1), after skipping the first ``after``
(default 0), at most ``times`` times (default unlimited). Actions:

``throttle``
    answer as the service does when throttled (DynamoDB
    ``ProvisionedThroughputExceededException``, others ``ThrottlingException``),
    HTTP 400; the SDKs retry it.
``error``
    answer ``status`` (default 500) with error ``code`` (default
    ``InternalServerError``) and ``message``; a 4xx code such as
    ``ValidationException`` or ``AccessDenied`` is not retried by the SDKs.
``unprocessed``
    DynamoDB ``BatchWriteItem``/``BatchGetItem``: apply the first half of the
    request and return the rest as ``UnprocessedItems``/``UnprocessedKeys``, as
    DynamoDB does under load.
``delay``
    apply the request, then hold the answer for ``seconds``: a caller with a
    shorter read timeout gives up on a request that did succeed (a timeout).
``kill``
    apply the request, then SIGKILL the execution environments of Lambda
    ``function`` that are running an invocation (a worker dying mid-batch:
    the invocation fails with ``Runtime exited with error``, as on Lambda).
``duplicate``
    not a request fault: the DynamoDB Streams poller of ``function`` delivers
    a batch that succeeded once more (at-least-once delivery).
``replica``
    not a request fault: the replica of global table ``table`` in ``region``
    (being created, or active) turns ``code`` - ``CREATION_FAILED``,
    ``REGION_DISABLED`` or ``INACCESSIBLE_ENCRYPTION_CREDENTIALS`` - with
    ``message`` as its ``ReplicaStatusDescription``; a replica that failed to be
    created has no table and can only be deleted (``ReplicaUpdates`` ``Delete``).

Example - throttle every 10th write to one table::

    POST /_sandbox/faults
    {"service": "dynamodb", "operation": "BatchWriteItem", "table": "p-tickets",
     "region": "ap-southeast-1", "action": "throttle", "every": 10}
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import math
import re
import threading
import uuid
import zlib
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

from helpers.base.errors import UsageError
from helpers.sandbox import admin_paths
from helpers.sandbox.context import SandboxContext, signing_service

log = logging.getLogger("helpers.sandbox.faults")

ACTIONS = ("throttle", "error", "unprocessed", "delay", "kill", "duplicate", "replica")
NOT_REQUESTS = ("duplicate", "replica")  # faults of something the sandbox runs, not of a call
REPLICA_FAILURES = ("CREATION_FAILED", "REGION_DISABLED", "INACCESSIBLE_ENCRYPTION_CREDENTIALS")
_REST_XML = ("s3", "route53", "cloudfront")
_ids = itertools.count(1)


class RuleError(UsageError):
    """A rule that cannot be used; the message says which field and why."""


@dataclass
class Rule:
    action: str
    service: str | None = None
    region: str | None = None
    operation: list[str] = field(default_factory=list)
    table: str | None = None
    contains: str | None = None
    method: str | None = None
    path: str | None = None
    function: str | None = None
    status: int | None = None
    code: str | None = None
    message: str | None = None
    seconds: float = 0.0
    every: int = 1
    after: int = 0
    times: int | None = None
    id: str = ""
    matched: int = 0
    fired: int = 0

    @classmethod
    def parse(cls, data: Any) -> Rule:
        """A rule from its JSON form, checking every field's type and value."""
        if not isinstance(data, dict):
            raise RuleError(f"a fault rule is a JSON object, not {type(data).__name__}")
        known = {f.name for f in fields(cls)} - {"matched", "fired"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RuleError(f"unknown field(s) {', '.join(unknown)}; known: "
                            f"{', '.join(sorted(known))}")
        action = data.get("action")
        if action not in ACTIONS:
            raise RuleError(f"'action' must be one of {', '.join(ACTIONS)} (got {action!r})")
        text = ("service", "region", "table", "contains", "method", "path", "function", "code",
                "message", "id")
        for name in text:
            if data.get(name) is not None and not isinstance(data[name], str):
                raise RuleError(f"{name!r} must be a string, not {type(data[name]).__name__}")
        operation = data.get("operation", [])
        if isinstance(operation, str):
            operation = [operation]
        if not isinstance(operation, list) or not all(isinstance(o, str) for o in operation):
            raise RuleError("'operation' must be a string or a list of strings")
        for name, low in (("every", 1), ("after", 0), ("times", 0), ("status", 400)):
            value = data.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise RuleError(f"{name!r} must be a whole number >= {low} (got {value!r})")
        if data.get("status") is not None and data["status"] > 599:
            raise RuleError(f"'status' must be an HTTP error status 400-599 (got {data['status']})")
        seconds = data.get("seconds", 0.0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not (
                0 <= seconds <= 300):
            raise RuleError(f"'seconds' must be a number of seconds 0-300 (got {seconds!r})")
        if action in ("duplicate", "kill") and not data.get("function"):
            raise RuleError(f"a {action!r} rule needs 'function': the Lambda function name")
        if action == "replica" and not (data.get("table") and data.get("region")
                                        and data.get("code") in REPLICA_FAILURES):
            raise RuleError("a 'replica' rule needs 'table', 'region' (the replica's) and "
                            f"'code', one of {', '.join(REPLICA_FAILURES)}")
        if action not in NOT_REQUESTS and not data.get("service"):
            raise RuleError("a request fault needs 'service', e.g. \"dynamodb\"")
        if action == "unprocessed" and (not operation or not set(operation) <= {
                "BatchWriteItem", "BatchGetItem"}):
            raise RuleError("'unprocessed' needs 'operation' BatchWriteItem and/or BatchGetItem")
        if data.get("path"):
            try:
                re.compile(data["path"])
            except re.error as exc:
                raise RuleError(f"'path' is not a regular expression: {exc}") from None
        rule = cls(**{**{k: v for k, v in data.items() if k in known}, "operation": operation,
                      "seconds": float(seconds)})
        rule.id = rule.id or f"fault-{next(_ids)}"
        return rule

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Call:
    """What a rule can match on in one control-plane request."""

    service: str
    region: str
    operation: str
    method: str
    path: str
    body: bytes
    payload: Any  # the JSON body, if it is JSON

    @property
    def tables(self) -> set[str]:
        if not isinstance(self.payload, dict):
            return set()
        found = set(self.payload.get("RequestItems") or {})
        if isinstance(self.payload.get("TableName"), str):
            found.add(self.payload["TableName"])
        return found


class Faults:
    """The rule set, its control-plane endpoint and the request intercept."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.rules: list[Rule] = []
        self._lock = threading.Lock()
        self._moto: Any = None

    # -- component
    def start(self) -> None:
        # First in line: a fault answers before anything else sees the request.
        self.ctx.intercepts.insert(0, self._intercept)
        self.ctx.faults = self

    def stop(self) -> None:
        with self._lock:
            self.rules = []

    # -- used by the stream pollers
    def fire_for_function(self, action: str, function_name: str) -> bool:
        """Count a chance for a non-request fault (``duplicate``) of a function."""
        if not self.rules:
            return False
        with self._lock:
            return any(self._count(rule) for rule in self.rules
                       if rule.action == action and rule.function == function_name)

    def fire_for_replica(self, table: str, region: str) -> Rule | None:
        """The ``replica`` rule that fails ``table``'s replica in ``region`` now, if any."""
        if not self.rules:
            return None
        with self._lock:
            return next((rule for rule in self.rules if rule.action == "replica"
                         and rule.table == table and rule.region == region
                         and self._count(rule)), None)

    # -- control plane
    def _intercept(self, request: Request) -> Response | None:
        rule_id = admin_paths.under(request.path, admin_paths.FAULTS)
        if rule_id is not None:
            return self._admin(request, rule_id)
        if not self.rules:
            return None
        call = _describe(request)
        if not call.service:
            return None
        with self._lock:
            rule = next((r for r in self.rules if r.action not in NOT_REQUESTS
                         and _matches(r, call) and self._count(r)), None)
        if rule is None:
            return None
        log.info("fault %s (%s) on %s %s", rule.id, rule.action, call.service,
                 call.operation or call.path)
        return self._act(rule, request, call)

    def _count(self, rule: Rule) -> bool:
        """Register one match of ``rule``; True when it fires this time (lock held)."""
        rule.matched += 1
        turn = rule.matched - rule.after
        if turn <= 0 or (turn - 1) % rule.every:
            return False
        if rule.times is not None and rule.fired >= rule.times:
            return False
        rule.fired += 1
        return True

    def _admin(self, request: Request, rule_id: str) -> Response:
        if request.method == "GET":
            with self._lock:
                return _json(200, {"rules": [r.as_dict() for r in self.rules]})
        if request.method == "DELETE":
            with self._lock:
                before = len(self.rules)
                self.rules = [r for r in self.rules if rule_id and r.id != rule_id]
                removed = before - len(self.rules)
            if rule_id and not removed:
                return _json(404, {"message": f"no fault rule {rule_id!r}"})
            return _json(200, {"removed": removed})
        if request.method != "POST" or rule_id:
            return _json(405, {"message": f"{request.method} {request.path}: use GET, POST or "
                               f"DELETE on {admin_paths.FAULTS}"})
        try:
            data = json.loads(request.get_data() or b"null")
        except ValueError as exc:
            return _json(400, {"message": f"the body is not JSON ({exc}); send a rule object "
                               "or {\"rules\": [...]}"})
        items = data.get("rules") if isinstance(data, dict) and "rules" in data else [data]
        if not isinstance(items, list):
            return _json(400, {"message": "'rules' must be a list of rule objects"})
        try:
            parsed = [Rule.parse(item) for item in items]
        except RuleError as exc:
            return _json(400, {"message": f"invalid fault rule: {exc}"})
        with self._lock:
            taken = {r.id for r in self.rules}
            clash = [r.id for r in parsed if r.id in taken]
            if clash:
                return _json(409, {"message": f"fault rule id(s) already in use: "
                                   f"{', '.join(clash)}"})
            self.rules += parsed
        return _json(201, {"rules": [r.as_dict() for r in parsed]})

    # -- actions
    def _act(self, rule: Rule, request: Request, call: _Call) -> Response:
        if rule.action == "throttle":
            code = ("ProvisionedThroughputExceededException" if call.service == "dynamodb"
                    else "Throttling" if _protocol(request, call) == "query"
                    else "ThrottlingException")
            message = ("Throughput exceeds the current capacity of your table or index. "
                       "DynamoDB is automatically scaling your table or index so please try "
                       "again shortly." if call.service == "dynamodb" else "Rate exceeded")
            return _error(request, call, 400, code, rule.message or message)
        if rule.action == "error":
            return _error(request, call, rule.status or 500, rule.code or "InternalServerError",
                          rule.message or "Internal server error (a sandbox fault)")
        if rule.action == "unprocessed":
            return self._unprocessed(request, call)
        response = self._forward(request, call.body)
        if rule.action == "delay":
            self.ctx.stop_event.wait(rule.seconds)
        elif rule.action == "kill":
            killed = kill_busy_workers(self.ctx, rule.function or "")
            log.info("fault %s killed %d environment(s) of %s", rule.id, killed, rule.function)
        return response

    def _unprocessed(self, request: Request, call: _Call) -> Response:
        payload = call.payload if isinstance(call.payload, dict) else {}
        items = payload.get("RequestItems") or {}
        kept: dict[str, Any] = {}
        left: dict[str, Any] = {}
        for table, spec in items.items():
            if call.operation == "BatchWriteItem":
                cut = math.ceil(len(spec) / 2)
                kept[table], rest = spec[:cut], spec[cut:]
                if rest:
                    left[table] = rest
            else:
                keys = spec.get("Keys", [])
                cut = math.ceil(len(keys) / 2)
                kept[table] = {**spec, "Keys": keys[:cut]}
                if keys[cut:]:
                    left[table] = {**spec, "Keys": keys[cut:]}
        body = json.dumps({**payload, "RequestItems": kept}).encode()
        response = self._forward(request, body)
        if response.status_code != 200:
            return response
        answer = json.loads(response.get_data())
        name = "UnprocessedItems" if call.operation == "BatchWriteItem" else "UnprocessedKeys"
        merged = answer.get(name) or {}
        for table, rest in left.items():
            if call.operation == "BatchWriteItem":
                merged[table] = [*merged.get(table, []), *rest]
            else:
                merged[table] = rest
        answer[name] = merged
        return _with_body(response, json.dumps(answer).encode())

    def _forward(self, request: Request, body: bytes) -> Response:
        """Pass the request on to the other intercepts and moto, as if no fault were set."""
        environ = request.environ
        for intercept in list(self.ctx.intercepts):
            if intercept == self._intercept:
                continue
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            answer = intercept(Request(environ))
            if answer is not None:
                return answer
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if self._moto is None:
            from moto.moto_server.werkzeug_app import (
                DomainDispatcherApplication,
                create_backend_app,
            )

            self._moto = DomainDispatcherApplication(create_backend_app)
        return Response.from_app(self._moto, environ)


def kill_busy_workers(ctx: SandboxContext, function_name: str) -> int:
    """SIGKILL every execution environment of ``function_name`` that is running an
    invocation; returns how many. The runtime then reports the invocation as
    ``Runtime exited with error``, as Lambda does when an environment dies."""
    runtime = ctx.lambda_runtime
    if runtime is None:
        return 0
    with runtime._lock:
        pools = list(runtime._pools.values())
    killed = 0
    for pool in pools:
        if pool.config.name != function_name:
            continue
        with pool.cond:
            busy = [w for w in pool.workers if w.alive and w not in pool.idle]
        for worker in busy:
            worker.proc.kill()  # only the process: the runtime sees it exit, as on Lambda
            killed += 1
    return killed


# ---------------------------------------------------------------- matching
def _describe(request: Request) -> _Call:
    _, found, rest = request.headers.get("Authorization", "").partition("Credential=")
    scope = rest.split(",", 1)[0].split("/")
    region = scope[2] if found and len(scope) > 3 else ""
    # The control plane buffers every body in a BytesIO; reading its value leaves the
    # stream (and the form parsing of the intercepts after this one) untouched.
    stream = request.environ.get("wsgi.input")
    body = stream.getvalue() if isinstance(stream, io.BytesIO) else b""
    target = request.headers.get("X-Amz-Target", "")
    operation = target.rsplit(".", 1)[-1] if target else ""
    payload: Any = None
    if target:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = None
    elif "x-www-form-urlencoded" in request.headers.get("Content-Type", ""):
        operation = parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
    return _Call(signing_service(request), region, operation, request.method, request.path,
                 body, payload)


def _matches(rule: Rule, call: _Call) -> bool:
    return (rule.service == call.service
            and (rule.region is None or rule.region == call.region)
            and (not rule.operation or call.operation in rule.operation)
            and (rule.table is None or rule.table in call.tables)
            and (rule.contains is None or rule.contains.encode() in call.body)
            and (rule.method is None or rule.method.upper() == call.method)
            and (rule.path is None or re.search(rule.path, call.path) is not None))


# ---------------------------------------------------------------- answers
def _protocol(request: Request, call: _Call) -> str:
    if request.headers.get("X-Amz-Target"):
        return "json"
    if "x-www-form-urlencoded" in request.headers.get("Content-Type", "") and call.operation:
        return "query"
    return "rest-xml" if call.service in _REST_XML else "rest-json"


def _error(request: Request, call: _Call, status: int, code: str, message: str) -> Response:
    """An error in the service's own wire format, so the SDK raises the usual ClientError."""
    request_id = str(uuid.uuid4())
    protocol = _protocol(request, call)
    if protocol == "json":
        prefix = "com.amazonaws.dynamodb.v20120810#" if call.service == "dynamodb" else ""
        body = json.dumps({"__type": prefix + code, "message": message})
        return Response(body, status=status, content_type="application/x-amz-json-1.0",
                        headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": code})
    if protocol == "rest-json":
        return Response(json.dumps({"message": message, "Message": message}), status=status,
                        content_type="application/json",
                        headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": code})
    if call.service == "s3":
        body = (f"<Error><Code>{code}</Code><Message>{_xml(message)}</Message>"
                f"<RequestId>{request_id}</RequestId></Error>")
    else:
        kind = "Sender" if status < 500 else "Receiver"
        body = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>"
                f"{_xml(message)}</Message></Error><RequestId>{request_id}</RequestId>"
                "</ErrorResponse>")
    return Response(body, status=status, content_type="text/xml",
                    headers={"x-amzn-RequestId": request_id})


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _with_body(response: Response, body: bytes) -> Response:
    """``response`` with a new body (and DynamoDB's CRC32 header recomputed)."""
    headers = {k: v for k, v in response.headers.items()
               if k.lower() not in ("content-length", "x-amz-crc32")}
    if "x-amz-crc32" in response.headers:  # werkzeug's Headers: names case-insensitive
        headers["x-amz-crc32"] = str(zlib.crc32(body) & 0xFFFFFFFF)
    return Response(body, status=response.status_code, headers=headers)
