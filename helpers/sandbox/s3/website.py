"""S3 static website hosting, served from the listener of the bucket's region.

moto stores a bucket's website configuration (the XML of PutBucketWebsite)
but serves nothing. This module answers website-endpoint requests the way S3
does (Amazon S3 User Guide, "Hosting a static website"):

* ``Host: {bucket}.s3-website-{region}.amazonaws.com`` or
  ``{bucket}.s3-website.{region}.amazonaws.com``, and a custom domain that is
  the name of a website bucket (the CNAME setup);
* GET and HEAD only; the index document for ``/`` and every ``.../`` path, a
  302 to ``path/`` when only ``path/<index>`` exists;
* objects are served only when public: the bucket policy must allow
  ``s3:GetObject`` to ``Principal: *`` (unless the public access block
  restricts public buckets), or the object's ACL grants AllUsers read where
  ACLs still count; otherwise 403 Access Denied;
* missing keys give 404 with the error document (the error document is also
  served with a 403), ``NoSuchWebsiteConfiguration`` and ``NoSuchBucket`` give
  S3's HTML error pages; redirects: ``RedirectAllRequestsTo``, routing rules
  and an object's ``x-amz-website-redirect-location``.
"""

from __future__ import annotations

import base64
import fnmatch
import html
import json
import logging
import re
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from helpers.sandbox.context import SandboxContext

log = logging.getLogger("helpers.sandbox.s3.website")

WEBSITE_HOST = re.compile(r"^(?P<bucket>.+)\.s3-website[-.](?P<region>[a-z0-9-]+)\.amazonaws\.com$")
SERVED_METADATA = ("content-type", "cache-control", "content-encoding", "content-disposition",
                   "content-language", "expires")

_STATUS_TEXT = {301: "Moved Permanently", 302: "Found", 403: "Forbidden", 404: "Not Found",
                405: "Method Not Allowed"}


@dataclass
class RoutingRule:
    key_prefix: str | None = None
    error_code: str | None = None
    protocol: str | None = None
    host_name: str | None = None
    replace_key_prefix: str | None = None
    replace_key: str | None = None
    redirect_code: str | None = None


@dataclass
class WebsiteConfig:
    index_suffix: str | None = None
    error_key: str | None = None
    redirect_all_host: str | None = None
    redirect_all_protocol: str | None = None
    rules: list[RoutingRule] = field(default_factory=list)


def parse_website_config(raw: bytes | str | None) -> WebsiteConfig | None:
    """The stored PutBucketWebsite XML as a :class:`WebsiteConfig` (None: not configured)."""
    if not raw:
        return None
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        log.warning("unreadable website configuration: %r", raw[:200])
        return None
    for el in root.iter():  # drop the namespace: {http://s3.amazonaws.com/...}Suffix -> Suffix
        el.tag = el.tag.rsplit("}", 1)[-1]

    def text(path: str, node: ET.Element = root) -> str | None:
        found = node.find(path)
        return found.text.strip() if found is not None and found.text else None

    config = WebsiteConfig(
        index_suffix=text("IndexDocument/Suffix"),
        error_key=text("ErrorDocument/Key"),
        redirect_all_host=text("RedirectAllRequestsTo/HostName"),
        redirect_all_protocol=text("RedirectAllRequestsTo/Protocol"),
    )
    for rule in root.findall("RoutingRules/RoutingRule"):
        config.rules.append(RoutingRule(
            key_prefix=text("Condition/KeyPrefixEquals", rule),
            error_code=text("Condition/HttpErrorCodeReturnedEquals", rule),
            protocol=text("Redirect/Protocol", rule),
            host_name=text("Redirect/HostName", rule),
            replace_key_prefix=text("Redirect/ReplaceKeyPrefixWith", rule),
            replace_key=text("Redirect/ReplaceKeyWith", rule),
            redirect_code=text("Redirect/HttpRedirectCode", rule),
        ))
    return config


class WebsiteHost:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def start(self) -> None:
        """Nothing to start: requests arrive through the HTTP front."""

    def stop(self) -> None:
        """Nothing to stop."""

    def _buckets(self) -> dict[str, Any]:
        return self.ctx.global_backend("s3").buckets

    def handle(self, region: str, request: Request) -> Response | None:
        host = (request.host or "").rsplit(":", 1)[0].lower().rstrip(".")
        match = WEBSITE_HOST.match(host)
        if match:
            if match["region"] != region:
                return None  # that endpoint's name does not lead to this region
            bucket_name = match["bucket"]
            bucket = self._buckets().get(bucket_name)
            if bucket is None:
                return _error_page(404, "NoSuchBucket", "The specified bucket does not exist",
                                   [("BucketName", bucket_name)])
            if bucket.region_name != region:
                endpoint = f"{bucket_name}.s3-website-{bucket.region_name}.amazonaws.com"
                return _error_page(301, "PermanentRedirect",
                                   "The bucket you are attempting to access must be addressed "
                                   "using the specified endpoint. Please send all future "
                                   "requests to this endpoint.",
                                   [("Bucket", bucket_name), ("Endpoint", endpoint)])
        else:
            # A custom domain (CNAME to the website endpoint) names its bucket by the Host.
            bucket = self._buckets().get(host)
            if bucket is None or bucket.region_name != region or not bucket.website_configuration:
                return None
        return self._serve(request, bucket)

    def _serve(self, request: Request, bucket: Any) -> Response:
        config = parse_website_config(bucket.website_configuration)
        if config is None:
            return _error_page(404, "NoSuchWebsiteConfiguration",
                               "The specified bucket does not have a website configuration",
                               [("BucketName", bucket.name)])
        if request.method not in ("GET", "HEAD"):
            return _error_page(405, "MethodNotAllowed",
                               "The specified method is not allowed against this resource.",
                               [("Method", request.method), ("ResourceType", "OBJECT")])
        path = request.path
        if config.redirect_all_host:
            protocol = config.redirect_all_protocol or "http"
            query = f"?{request.query_string.decode()}" if request.query_string else ""
            return _redirect(301, f"{protocol}://{config.redirect_all_host}{path}{query}")
        key = unquote(path.lstrip("/"))
        for rule in config.rules:
            if rule.error_code is None and _prefix_matches(rule, key):
                return _redirect_for(rule, key, request)
        if config.index_suffix and (key == "" or key.endswith("/")):
            key += config.index_suffix
        obj = _get_key(bucket, key) if key else None
        folder_index = f"{key}/{config.index_suffix}"
        if (obj is None and config.index_suffix and key and not key.endswith("/")
                and _get_key(bucket, folder_index) is not None and _public(bucket, folder_index)):
            return _redirect(302, f"{path}/")  # a "folder" without its slash
        if obj is not None and not _public(bucket, key, obj):
            return self._failure(request, bucket, config, 403, key, "AccessDenied",
                                 "Access Denied", [])
        if obj is None:
            if not _public(bucket, key):  # without s3:ListBucket a missing key is a 403 too
                return self._failure(request, bucket, config, 403, key, "AccessDenied",
                                     "Access Denied", [])
            return self._failure(request, bucket, config, 404, key, "NoSuchKey",
                                 "The specified key does not exist.", [("Key", key)])
        redirect = getattr(obj, "website_redirect_location", None)
        if redirect:
            return _redirect(301, redirect)
        return _object_response(request, obj, 200)

    def _failure(self, request: Request, bucket: Any, config: WebsiteConfig, status: int,
                 key: str, code: str, message: str, extra: list[tuple[str, str]]) -> Response:
        for rule in config.rules:
            if rule.error_code == str(status) and _prefix_matches(rule, key):
                return _redirect_for(rule, key, request)
        if config.error_key:
            error_obj = _get_key(bucket, config.error_key)
            if error_obj is not None and _public(bucket, config.error_key, error_obj):
                return _object_response(request, error_obj, status)
            nested = ("AccessDenied", "Access Denied") if error_obj is not None else (
                "NoSuchKey", "The specified key does not exist.")
            return _error_page(status, code, message, extra,
                               error_document=(nested[0], nested[1], config.error_key))
        return _error_page(status, code, message, extra)


# ---------------------------------------------------------------- access
def _get_key(bucket: Any, key: str) -> Any:
    """The current version of a key (None when missing or deleted)."""
    obj = bucket.keys.get(key)
    return obj if obj is not None and hasattr(obj, "value") else None


def _public(bucket: Any, key: str, obj: Any = None) -> bool:
    """May an anonymous caller GetObject this key (what website endpoints require)?"""
    block = getattr(bucket, "public_access_block", None)
    arn = f"arn:aws:s3:::{bucket.name}/{key}"
    allowed = False
    if bucket.policy and not (block and block.restrict_public_buckets):
        try:
            policy = json.loads(bucket.policy)
        except ValueError:
            policy = {}
        statements = policy.get("Statement", [])
        statements = [statements] if isinstance(statements, dict) else statements
        for statement in statements:
            if not _statement_matches(statement, arn):
                continue
            if statement.get("Effect") == "Deny":
                return False
            if statement.get("Effect") == "Allow" and not statement.get("Condition"):
                allowed = True
    if allowed:
        return True
    acl = getattr(obj, "acl", None)
    ownership = json.dumps(getattr(bucket, "ownership_rule", None), default=str)
    acls_count = not (block and block.ignore_public_acls) and "BucketOwnerEnforced" not in ownership
    return bool(acls_count and acl is not None and getattr(acl, "public_read", False))


def _statement_matches(statement: dict[str, Any], object_arn: str) -> bool:
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        principal = principal.get("AWS")
    principals = [principal] if isinstance(principal, str) else list(principal or [])
    if "*" not in principals:
        return False
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else list(actions)
    if not any(fnmatch.fnmatchcase("s3:getobject", a.lower()) for a in actions):
        return False
    resources = statement.get("Resource", [])
    resources = [resources] if isinstance(resources, str) else list(resources)
    return any(fnmatch.fnmatchcase(object_arn, r) for r in resources)


# ---------------------------------------------------------------- responses
def _amz_headers() -> dict[str, str]:
    return {"x-amz-request-id": secrets.token_hex(8).upper(),
            "x-amz-id-2": base64.b64encode(secrets.token_bytes(48)).decode(),
            "Server": "AmazonS3"}


def _object_response(request: Request, obj: Any, status: int) -> Response:
    headers = Headers(_amz_headers())
    headers["ETag"] = obj.etag
    headers["Last-Modified"] = obj.last_modified_RFC1123
    for name, value in obj.metadata.items():
        lower = name.lower()
        if lower in SERVED_METADATA or lower.startswith("x-amz-meta-"):
            headers[_header_name(name)] = value
    headers.setdefault("Content-Type", "binary/octet-stream")
    if status == 200 and request.if_none_match and request.if_none_match.contains(
            obj.etag.strip('"')):
        del headers["Content-Type"]
        return Response(status=304, headers=headers)
    body = b"" if request.method == "HEAD" else obj.value
    response = Response(body, status=status, headers=headers)
    if request.method == "HEAD":
        response.headers["Content-Length"] = str(obj.size)
    return response


def _header_name(name: str) -> str:
    """``content-type`` -> ``Content-Type`` (moto may keep metadata names lower-case)."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _error_page(status: int, code: str, message: str, extra: list[tuple[str, str]],
                error_document: tuple[str, str, str] | None = None) -> Response:
    headers = _amz_headers()
    title = f"{status} {_STATUS_TEXT.get(status, '')}".strip()
    items = [("Code", code), ("Message", message), *extra,
             ("RequestId", headers["x-amz-request-id"]), ("HostId", headers["x-amz-id-2"])]
    lines = ["<html>", f"<head><title>{title}</title></head>", "<body>", f"<h1>{title}</h1>",
             "<ul>", *(f"<li>{k}: {html.escape(v)}</li>" for k, v in items), "</ul>"]
    if error_document:
        nested_code, nested_message, key = error_document
        lines += ["<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document"
                  "</h3>", "<ul>", f"<li>Code: {nested_code}</li>",
                  f"<li>Message: {html.escape(nested_message)}</li>",
                  f"<li>Key: {html.escape(key)}</li>", "</ul>"]
    lines += ["<hr/>", "</body>", "</html>", ""]
    if status == 301 and extra:
        endpoint = dict(extra).get("Endpoint")
        if endpoint:
            headers["Location"] = f"http://{endpoint}/"
    return Response("\n".join(lines), status=status, headers=headers,
                    content_type="text/html; charset=utf-8")


def _redirect(status: int, location: str) -> Response:
    headers = {**_amz_headers(), "Location": location}
    return Response(b"", status=status, headers=headers)


def _prefix_matches(rule: RoutingRule, key: str) -> bool:
    return rule.key_prefix is None or key.startswith(rule.key_prefix)


def _redirect_for(rule: RoutingRule, key: str, request: Request) -> Response:
    if rule.replace_key is not None:
        new_key = rule.replace_key
    elif rule.replace_key_prefix is not None and rule.key_prefix is not None:
        new_key = rule.replace_key_prefix + key[len(rule.key_prefix):]
    elif rule.replace_key_prefix is not None:
        new_key = rule.replace_key_prefix + key
    else:
        new_key = key
    host = rule.host_name or request.host
    protocol = rule.protocol or "http"
    return _redirect(int(rule.redirect_code or 301), f"{protocol}://{host}/{new_key}")
