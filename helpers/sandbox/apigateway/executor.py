"""API Gateway's data plane: every deployed REST API stage, served over HTTP.

moto stores REST APIs (resources, methods, integrations, stages, deployments,
custom domain names, base path mappings) but serves none of them in server
mode. This module answers the requests that reach a region's listener:

* ``Host: {api-id}.execute-api.{region}.amazonaws.com``, path ``/{stage}/...``;
* ``Host: <custom domain name>`` of that region, through its base path
  mappings (``(none)`` maps the whole path, a named base path a prefix).

As on AWS, a stage serves its **deployment**: the resources, methods and
integrations as they were at CreateDeployment (a snapshot taken by a hook on
moto's ``RestAPI.create_deployment``, which API calls and CloudFormation both
go through; declared in ``PATCHES``, installed by :mod:`helpers.sandbox.patches`).
A changed integration therefore does nothing until the stage
points at a new deployment (module 4 relies on exactly that).

Integrations: ``AWS_PROXY`` to Lambda (the REST proxy event, version 1.0,
invoked through the sandbox Lambda runtime, with the function's resource
policy checked as AWS does) and ``MOCK`` (the request template's
``statusCode`` selects the integration response; literal response parameters
become headers). Gateway errors use API Gateway's messages and honour the
API's gateway responses (DEFAULT_4XX/5XX and specific types).
"""

from __future__ import annotations

import base64
import concurrent.futures
import fnmatch
import json
import logging
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from helpers.sandbox.clock import real_seconds
from helpers.sandbox.context import SandboxContext

log = logging.getLogger("helpers.sandbox.apigateway.executor")

EXECUTE_API_HOST = re.compile(r"^([a-z0-9-]+)\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")
LAMBDA_URI = re.compile(
    r"^arn:aws[a-z-]*:apigateway:([a-z0-9-]+):lambda:path/2015-03-31/functions/(.+)/invocations$")
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
MOCK_STATUS = re.compile(r"[\"']?statusCode[\"']?\s*:\s*[\"']?(\d{3})")
DEFAULT_INTEGRATION_TIMEOUT_MS = round(real_seconds("apigateway_integration_timeout") * 1000)
SNAPSHOT_ATTR = "sandbox_snapshot"


# ---------------------------------------------------------------- deployment snapshots
@dataclass(frozen=True)
class IntegrationResponseSnapshot:
    status_code: str
    selection_pattern: str | None
    response_parameters: dict[str, str]
    response_templates: dict[str, str | None]


@dataclass(frozen=True)
class IntegrationSnapshot:
    type: str
    uri: str
    request_templates: dict[str, str | None]
    timeout_ms: int
    responses: tuple[IntegrationResponseSnapshot, ...]


@dataclass(frozen=True)
class MethodSnapshot:
    http_method: str
    authorization_type: str | None
    integration: IntegrationSnapshot | None


@dataclass(frozen=True)
class ResourceSnapshot:
    id: str
    path: str
    methods: dict[str, MethodSnapshot]


@dataclass(frozen=True)
class GatewayResponseSnapshot:
    status_code: str | None
    response_parameters: dict[str, str]
    response_templates: dict[str, str]


@dataclass
class _Node:
    resource: ResourceSnapshot | None = None
    literals: dict[str, _Node] = field(default_factory=dict)
    param: tuple[str, _Node] | None = None
    greedy: tuple[str, _Node] | None = None


@dataclass
class ApiSnapshot:
    """What one deployment serves."""

    api_id: str
    resources: list[ResourceSnapshot]
    gateway_responses: dict[str, GatewayResponseSnapshot]
    _root: _Node = field(default_factory=_Node, repr=False)

    def __post_init__(self) -> None:
        for resource in self.resources:
            node = self._root
            for part in _segments(resource.path):
                if part.startswith("{") and part.endswith("+}"):
                    node.greedy = node.greedy or (part[1:-2], _Node())
                    node = node.greedy[1]
                elif part.startswith("{") and part.endswith("}"):
                    node.param = node.param or (part[1:-1], _Node())
                    node = node.param[1]
                else:
                    node = node.literals.setdefault(part, _Node())
            node.resource = resource

    def match(self, http_method: str, path: str
              ) -> tuple[ResourceSnapshot, MethodSnapshot, dict[str, str]] | None:
        """The resource and method for a request path (literal beats {param} beats {proxy+})."""
        return _match(self._root, _segments(path), http_method, {})


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _match(node: _Node, parts: list[str], http_method: str, params: dict[str, str]):
    if not parts:
        method = _method_of(node.resource, http_method)
        return (node.resource, method, params) if method else None
    head, rest = parts[0], parts[1:]
    child = node.literals.get(head)
    if child is not None:
        found = _match(child, rest, http_method, params)
        if found:
            return found
    if node.param is not None:
        name, child = node.param
        found = _match(child, rest, http_method, {**params, name: head})
        if found:
            return found
    if node.greedy is not None:
        name, child = node.greedy
        method = _method_of(child.resource, http_method)
        if method:
            return child.resource, method, {**params, name: "/".join(parts)}
    return None


def _method_of(resource: ResourceSnapshot | None, http_method: str) -> MethodSnapshot | None:
    if resource is None:
        return None
    return resource.methods.get(http_method) or resource.methods.get("ANY")


def snapshot(api: Any) -> ApiSnapshot:
    """Copy what a deployment freezes out of moto's mutable RestAPI."""
    resources = []
    for resource in list(api.resources.values()):
        methods = {}
        for verb, method in list(resource.resource_methods.items()):
            methods[verb] = MethodSnapshot(verb, method.authorization_type,
                                           _integration_snapshot(method.method_integration))
        resources.append(ResourceSnapshot(resource.id, resource.get_path(), methods))
    gateway_responses = {
        kind: GatewayResponseSnapshot(
            str(g.status_code) if g.status_code else None,
            dict(g.response_parameters or {}), dict(g.response_templates or {}))
        for kind, g in list(api.gateway_responses.items())
    }
    return ApiSnapshot(api.id, resources, gateway_responses)


def _integration_snapshot(integration: Any) -> IntegrationSnapshot | None:
    if integration is None:
        return None
    responses = tuple(
        IntegrationResponseSnapshot(str(r.status_code), r.selection_pattern,
                                    dict(r.response_parameters or {}),
                                    dict(r.response_templates or {}))
        for r in (integration.integration_responses or {}).values())
    try:
        timeout_ms = int(integration.timeout_in_millis or DEFAULT_INTEGRATION_TIMEOUT_MS)
    except (TypeError, ValueError):
        timeout_ms = DEFAULT_INTEGRATION_TIMEOUT_MS
    return IntegrationSnapshot(integration.integration_type, integration.uri or "",
                               dict(integration.request_templates or {}), timeout_ms, responses)


# ---------------------------------------------------------------- moto patches
# Installed by helpers.sandbox.patches.
def _wrap_create_deployment(original: Any) -> Any:
    """Snapshot every deployment as it is created (API, CLI and CloudFormation alike)."""

    def create_deployment(self, name, description, stage_variables=None):
        deployment = original(self, name, description, stage_variables)
        setattr(deployment, SNAPSHOT_ATTR, snapshot(self))
        return deployment

    create_deployment.__wrapped__ = original  # type: ignore[attr-defined]
    return create_deployment


# A domain name owns its base path mappings, from creation to deletion: moto keeps them
# in a dict that only the first CreateBasePathMapping fills, so GetBasePathMappings on a
# new domain fails with a KeyError (500; AWS answers an empty list), and a deleted
# domain's mappings would come back with a new domain of the same name. These run inside
# helpers.sandbox.apigateway.domains' wrappers of the same methods (order 1 to its 2).
def _wrap_create_domain_name(create: Any) -> Any:
    def create_domain_name(self, domain_name, *args, **kwargs):
        created = create(self, domain_name, *args, **kwargs)
        self.base_path_mappings[domain_name] = {}
        return created

    return create_domain_name


def _wrap_delete_domain_name(delete: Any) -> Any:
    def delete_domain_name(self, domain_name, *args, **kwargs):
        deleted = delete(self, domain_name, *args, **kwargs)
        self.base_path_mappings.pop(domain_name, None)
        return deleted

    return delete_domain_name


# AWS refuses to delete a deployment while a stage points at it; moto refuses it for as
# long as the stage it was created for exists, even after the stage moved to another one.
def _wrap_delete_deployment(original: Any) -> Any:
    def delete_deployment(self, deployment_id):
        from moto.apigateway.exceptions import StageStillActive

        deployment = self.deployments.get(deployment_id)
        if deployment is None or not deployment.stage_name:
            return original(self, deployment_id)
        if any(stage.deployment_id == deployment_id for stage in self.stages.values()):
            raise StageStillActive()
        return self.deployments.pop(deployment_id)

    return delete_deployment


PATCHES = (
    ("moto.apigateway.models:RestAPI.create_deployment", _wrap_create_deployment),
    ("moto.apigateway.models:RestAPI.delete_deployment", _wrap_delete_deployment),
    ("moto.apigateway.models:APIGatewayBackend.create_domain_name",
     _wrap_create_domain_name, 1),
    ("moto.apigateway.models:APIGatewayBackend.delete_domain_name",
     _wrap_delete_domain_name, 1),
)


# ---------------------------------------------------------------- the component
@dataclass
class _Call:
    """One request on its way through a stage."""

    region: str
    request: Request
    api: Any
    stage: Any
    snap: ApiSnapshot
    stage_path: str  # the path inside the stage, e.g. /ticket
    event_path: str  # `path` of the proxy event
    context_path: str  # requestContext.path
    host: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    apigw_id: str = field(default_factory=lambda: base64.b64encode(
        secrets.token_bytes(12)).decode()[:15] + "=")
    started: float = field(default_factory=time.time)

    def headers(self) -> Headers:
        return Headers({"x-amzn-RequestId": self.request_id, "x-amz-apigw-id": self.apigw_id,
                        "X-Amzn-Trace-Id": _trace_id(self.started)})


class ApiExecutor:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=256, thread_name_prefix="apigw-invoke")

    def stop(self) -> None:
        if self._pool:
            self._pool.shutdown(wait=False, cancel_futures=True)

    # -- routing by Host
    def handle(self, region: str, request: Request) -> Response | None:
        host = (request.host or "").rsplit(":", 1)[0].lower().rstrip(".")
        if not host:
            return None
        backend = self.ctx.backend("apigateway", region)
        match = EXECUTE_API_HOST.match(host)
        if match:
            api_id, host_region = match.groups()
            if host_region != region or api_id.startswith("d-"):
                return None  # that name does not lead to this region; a bare d-… name is 403
            api = backend.apis.get(api_id)
            if api is None:
                return None
            if getattr(api, "disableExecuteApiEndpoint", False):
                return _error(403, "Forbidden", "ForbiddenException")
            stage_name, stage_path = _split_first(request.path)
            return self._serve(region, request, api, stage_name, stage_path, host,
                               event_path=stage_path, context_path=request.path)
        domain = backend.domain_names.get(host) or backend.domain_names.get(_wildcard(host))
        if domain is None:
            return None
        return self._serve_domain(region, request, backend, domain.domain_name, host)

    def _serve_domain(self, region: str, request: Request, backend: Any, domain_name: str,
                      host: str) -> Response:
        mappings = backend.base_path_mappings.get(domain_name) or {}
        path = request.path
        chosen, rest = None, path
        for base_path, mapping in mappings.items():
            prefix = "/" + base_path.strip("/")
            if base_path in ("(none)", "") or not (
                    path == prefix or path.startswith(prefix + "/")):
                continue
            if chosen is None or len(prefix) > len("/" + chosen.base_path.strip("/")):
                chosen, rest = mapping, path[len(prefix):] or "/"
        if chosen is None:
            chosen = mappings.get("(none)") or mappings.get("")
            rest = path
        if chosen is None:
            return _error(403, "Forbidden", "ForbiddenException")
        api = backend.apis.get(chosen.rest_api_id)
        if api is None:
            return _error(403, "Forbidden", "ForbiddenException")
        if chosen.stage:
            stage_name, stage_path = chosen.stage, rest
        else:  # a mapping without a stage exposes every stage under its name
            stage_name, stage_path = _split_first(rest)
        return self._serve(region, request, api, stage_name, stage_path, host,
                           event_path=path, context_path=path)

    # -- a stage
    def _serve(self, region: str, request: Request, api: Any, stage_name: str,
               stage_path: str, host: str, event_path: str, context_path: str) -> Response:
        stage = api.stages.get(stage_name) if stage_name else None
        deployment = api.deployments.get(stage.deployment_id) if stage else None
        if deployment is None:
            return _error(403, "Forbidden", "ForbiddenException")
        snap = getattr(deployment, SNAPSHOT_ATTR, None)
        if snap is None:  # made before the hook was installed: the best guess is now
            snap = snapshot(api)
            setattr(deployment, SNAPSHOT_ATTR, snap)
        call = _Call(region, request, api, stage, snap, stage_path, event_path, context_path,
                     host)
        found = snap.match(request.method, stage_path)
        if found is None:
            return self._gateway_error(call, "MISSING_AUTHENTICATION_TOKEN", 403,
                                       "Missing Authentication Token",
                                       "MissingAuthenticationTokenException")
        resource, method, params = found
        integration = method.integration
        if integration is None:
            return self._gateway_error(call, "DEFAULT_5XX", 500, "Internal server error",
                                       "InternalServerErrorException")
        if integration.type == "AWS_PROXY":
            return self._lambda_proxy(call, resource, method, integration, params)
        if integration.type == "MOCK":
            return self._mock(call, integration)
        log.warning("%s %s: %s integrations are not served by the sandbox (only AWS_PROXY to "
                    "Lambda and MOCK)", request.method, request.path, integration.type)
        return self._gateway_error(call, "DEFAULT_5XX", 500, "Internal server error",
                                   "InternalServerErrorException")

    # -- AWS_PROXY
    def _lambda_proxy(self, call: _Call, resource: ResourceSnapshot, method: MethodSnapshot,
                      integration: IntegrationSnapshot, params: dict[str, str]) -> Response:
        internal_error = ("DEFAULT_5XX", 500, "Internal server error",
                          "InternalServerErrorException")
        uri = STAGE_VARIABLE.sub(lambda m: str(call.stage.variables.get(m.group(1), "")),
                                 integration.uri)
        parsed = LAMBDA_URI.match(uri)
        if not parsed:
            log.warning("AWS_PROXY integration URI %r is not a Lambda invocation URI", uri)
            return self._gateway_error(call, *internal_error)
        function = parsed.group(2)
        function_region = function.split(":")[3] if function.startswith("arn:") else call.region
        verb = "*" if method.http_method == "ANY" else method.http_method
        source_arn = (f"arn:aws:execute-api:{call.region}:{self.ctx.account_id}:{call.api.id}/"
                      f"{call.stage.name}/{verb}{resource.path}")
        denied = self._permission_problem(function_region, function, source_arn)
        if denied:
            log.warning("API %s cannot invoke %s: %s (AWS answers 500 Internal server error)",
                        call.api.id, function, denied)
            return self._gateway_error(call, *internal_error)
        event = proxy_event(call, resource, method, params, self.ctx.account_id)
        runtime = self.ctx.lambda_runtime
        if runtime is None or self._pool is None:
            return self._gateway_error(call, *internal_error)
        future = self._pool.submit(runtime.invoke, function_region, function,
                                   json.dumps(event).encode())
        try:
            result = future.result(timeout=integration.timeout_ms / 1000)
        except concurrent.futures.TimeoutError:
            return self._gateway_error(call, "INTEGRATION_TIMEOUT", 504,
                                       "Endpoint request timed out", "")
        except Exception as exc:
            if _is_throttle(exc):
                return self._gateway_error(call, "THROTTLED", 429, "Rate Exceeded",
                                           "ThrottlingException")
            log.warning("invoking %s failed: %s", function, exc)
            return self._gateway_error(call, *internal_error)
        return self._proxy_result(call, function, result)

    def _proxy_result(self, call: _Call, function: str, result: Any) -> Response:
        bad_gateway = ("DEFAULT_5XX", 502, "Internal server error",
                       "InternalServerErrorException")
        if getattr(result, "function_error", None):
            log.info("%s failed (%s): API Gateway answers 502\n%s", function,
                     result.function_error, getattr(result, "log_tail", "") or "")
            return self._gateway_error(call, *bad_gateway)
        status_code = getattr(result, "status_code", 200)
        if status_code not in (200, 202, 204):
            log.warning("invoking %s returned status %s", function, status_code)
            return self._gateway_error(call, "DEFAULT_5XX", 500, "Internal server error",
                                       "InternalServerErrorException")
        try:
            response = lambda_proxy_response(result.payload)
        except ValueError as exc:
            log.info("Malformed Lambda proxy response from %s: %s", function, exc)
            return self._gateway_error(call, *bad_gateway)
        status, headers, body = response
        out = call.headers()
        for name, value in headers:
            out.add(name, value)
        if "content-type" not in out:
            out["Content-Type"] = "application/json"
        return Response(body, status=status, headers=out)

    def _permission_problem(self, region: str, function: str, source_arn: str) -> str | None:
        """Why API Gateway may not invoke the function (its resource policy), or None."""
        try:
            fn = self.ctx.backend("lambda", region).get_function(function)
        except Exception:
            return "the function does not exist"
        statements = list(getattr(getattr(fn, "policy", None), "statements", None) or [])
        arns = {function, getattr(fn, "function_arn", function)}
        for statement in statements:
            if _allows(statement, arns, source_arn, self.ctx.account_id):
                return None
        return (f"no statement in its resource policy allows apigateway.amazonaws.com "
                f"to invoke it from {source_arn}")

    # -- MOCK
    def _mock(self, call: _Call, integration: IntegrationSnapshot) -> Response:
        templates = integration.request_templates
        template = templates.get(call.request.mimetype or "application/json")
        if template is None:
            template = templates.get("application/json")
        status = 200
        if template:
            found = MOCK_STATUS.search(template)
            if found:
                status = int(found.group(1))
        chosen = None
        for response in integration.responses:
            if response.selection_pattern and re.fullmatch(response.selection_pattern,
                                                           str(status)):
                chosen = response
                break
        if chosen is None:
            chosen = next((r for r in integration.responses if not r.selection_pattern), None)
        if chosen is None:
            log.info("MOCK integration of %s %s: no integration response for status %s",
                     call.request.method, call.request.path, status)
            return self._gateway_error(call, "DEFAULT_5XX", 500, "Internal server error",
                                       "InternalServerErrorException")
        out = call.headers()
        for name, value in chosen.response_parameters.items():
            literal = _literal(value)
            if name.startswith("method.response.header.") and literal is not None:
                out.add(name[len("method.response.header."):], literal)
        content_type, body = "application/json", ""
        if chosen.response_templates:
            content_type = ("application/json" if "application/json" in chosen.response_templates
                            else next(iter(chosen.response_templates)))
            body = chosen.response_templates.get(content_type) or ""
        if "content-type" not in out:
            out["Content-Type"] = content_type
        return Response(body, status=int(chosen.status_code), headers=out)

    # -- gateway errors
    def _gateway_error(self, call: _Call, kind: str, status: int, message: str,
                       error_type: str) -> Response:
        out = call.headers()
        if error_type:
            out["x-amzn-ErrorType"] = error_type
        body = json.dumps({"message": message})
        responses = call.snap.gateway_responses
        custom = responses.get(kind) or responses.get(
            "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX")
        if custom is not None:
            if custom.status_code and kind in responses:
                status = int(custom.status_code)
            for name, value in custom.response_parameters.items():
                literal = _literal(value)
                if name.startswith("gatewayresponse.header.") and literal is not None:
                    out[name[len("gatewayresponse.header."):]] = literal
            template = custom.response_templates.get("application/json")
            if template:
                body = (template.replace("$context.error.messageString", json.dumps(message))
                        .replace("$context.error.message", message)
                        .replace("$context.requestId", call.request_id))
        out["Content-Type"] = "application/json"
        return Response(body, status=status, headers=out)


# ---------------------------------------------------------------- proxy event and result
def proxy_event(call: _Call, resource: ResourceSnapshot, method: MethodSnapshot,
                params: dict[str, str], account_id: str) -> dict[str, Any]:
    """The Lambda proxy integration input, payload format 1.0 (REST APIs)."""
    request = call.request
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = value
    source_ip = request.remote_addr or "127.0.0.1"
    headers.setdefault("X-Forwarded-For", source_ip)
    headers.setdefault("X-Forwarded-Port", "443")
    headers.setdefault("X-Forwarded-Proto", "https")
    headers.setdefault("X-Amzn-Trace-Id", _trace_id(call.started))
    query = request.args
    raw = request.get_data(cache=True)
    binary = _is_binary(request.mimetype, call.api)
    if not raw:
        body, is_b64 = None, False
    elif binary:
        body, is_b64 = base64.b64encode(raw).decode(), True
    else:
        body, is_b64 = raw.decode("utf-8", errors="replace"), False
    epoch_ms = int(call.started * 1000)
    return {
        "resource": resource.path,
        "path": call.event_path or "/",
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: query.getlist(k)[-1] for k in query} or None,
        "multiValueQueryStringParameters": {k: query.getlist(k) for k in query} or None,
        "pathParameters": dict(params) or None,
        "stageVariables": dict(call.stage.variables or {}) or None,
        "requestContext": {
            "resourceId": resource.id,
            "resourcePath": resource.path,
            "httpMethod": request.method,
            "extendedRequestId": call.apigw_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(call.started)),
            "path": call.context_path,
            "accountId": account_id,
            "protocol": "HTTP/1.1",
            "stage": call.stage.name,
            "domainPrefix": call.host.split(".", 1)[0],
            "requestTimeEpoch": epoch_ms,
            "requestId": call.request_id,
            "identity": {
                "cognitoIdentityPoolId": None, "accountId": None, "cognitoIdentityId": None,
                "caller": None, "sourceIp": source_ip, "principalOrgId": None,
                "accessKey": None, "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None, "userArn": None,
                "userAgent": request.headers.get("User-Agent"), "user": None,
            },
            "domainName": call.host,
            "deploymentId": call.stage.deployment_id,
            "apiId": call.api.id,
        },
        "body": body,
        "isBase64Encoded": is_b64,
    }


def lambda_proxy_response(payload: bytes | str | None
                          ) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of a Lambda proxy result; ValueError when malformed."""
    try:
        out = json.loads(payload or b"null")
    except (TypeError, ValueError):
        raise ValueError("the result is not JSON") from None
    if not isinstance(out, dict):
        raise ValueError("the result is not a JSON object")
    status = out.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"statusCode {status!r} is not an HTTP status")
    single = out.get("headers") or {}
    multi = out.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise ValueError("headers must be objects")
    headers: list[tuple[str, str]] = []
    multi_names = {k.lower() for k in multi}
    for name, values in multi.items():
        if not isinstance(values, list):
            raise ValueError(f"multiValueHeaders[{name!r}] is not a list")
        headers += [(name, _header_value(v)) for v in values]
    # A name given in both keeps only the multiValueHeaders values.
    headers += [(k, _header_value(v)) for k, v in single.items() if k.lower() not in multi_names]
    headers = [(k, v) for k, v in headers
               if k.lower() not in ("content-length", "transfer-encoding", "connection")]
    body = out.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        raise ValueError("body must be a string")
    elif out.get("isBase64Encoded") is True:
        try:
            data = base64.b64decode(body, validate=False)
        except ValueError:
            raise ValueError("body is not valid base64") from None
    else:
        data = body.encode()
    return status, headers, data


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ValueError(f"header value {value!r} is not a string")


# ---------------------------------------------------------------- small pieces
def _allows(statement: dict[str, Any], function_arns: set[str], source_arn: str,
            account_id: str) -> bool:
    if statement.get("Effect", "Allow") != "Allow":
        return False
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else list(actions)
    if not any(fnmatch.fnmatchcase("lambda:invokefunction", a.lower()) for a in actions):
        return False
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        services = principal.get("Service", [])
        services = [services] if isinstance(services, str) else list(services)
        aws = principal.get("AWS", [])
        aws = [aws] if isinstance(aws, str) else list(aws)
        if "apigateway.amazonaws.com" not in services and "*" not in aws:
            return False
    elif principal not in ("*", "apigateway.amazonaws.com"):
        return False
    resources = statement.get("Resource")
    if resources:
        resources = [resources] if isinstance(resources, str) else list(resources)
        if not any(fnmatch.fnmatchcase(arn, r) for arn in function_arns for r in resources):
            return False
    for operator, conditions in (statement.get("Condition") or {}).items():
        for key, expected in (conditions or {}).items():
            values = [expected] if isinstance(expected, str) else list(expected)
            if key.lower() == "aws:sourcearn":
                if operator in ("ArnLike", "StringLike"):
                    ok = any(fnmatch.fnmatchcase(source_arn, v) for v in values)
                elif operator in ("ArnEquals", "StringEquals"):
                    ok = source_arn in values
                else:
                    ok = False
            elif key.lower() == "aws:sourceaccount":
                ok = account_id in values
            else:
                ok = False  # a condition the sandbox cannot evaluate never allows
            if not ok:
                return False
    return True


def _is_throttle(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"Throttled", "TooManyRequestsException", "ThrottledError"})


def _is_binary(mimetype: str, api: Any) -> bool:
    types = list(getattr(api, "binaryMediaTypes", None) or [])
    return bool(mimetype) and any(fnmatch.fnmatchcase(mimetype, t.replace("~1", "/"))
                                  for t in types)


def _literal(value: Any) -> str | None:
    """``'text'`` in a response parameter is a literal; anything else is a mapping."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return None


def _split_first(path: str) -> tuple[str, str]:
    parts = path.lstrip("/").split("/", 1)
    return parts[0], "/" + (parts[1] if len(parts) > 1 else "")


def _wildcard(host: str) -> str:
    return "*." + host.split(".", 1)[1] if "." in host else host


def _trace_id(started: float) -> str:
    return f"Root=1-{int(started):08x}-{secrets.token_hex(12)}"


def _error(status: int, message: str, error_type: str) -> Response:
    return Response(json.dumps({"message": message}), status=status,
                    content_type="application/json",
                    headers={"x-amzn-RequestId": str(uuid.uuid4()),
                             "x-amzn-ErrorType": error_type})
