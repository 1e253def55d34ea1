"""An IAM user's access key is held to the user's policies; the sandbox's own key is not.

moto can authorise requests (``moto.core.authorization.ActionAuthenticatorMixin``), but
only for every request at once (``settings.INITIAL_NO_AUTH_ACTION_COUNT``): turned on, the
sandbox's own credentials (``testing``, no IAM user's) would be refused too. The sandbox
decides per request instead, as AWS does by principal: a request signed with the access
key of an IAM user of the account (``iam create-access-key``) is checked against that
user's policies, inline, attached and its groups' (moto's ``IAMRequest``: the signature,
then the action); any other key is the account's administrator, as ``testing`` is for the
instructor, the kit's own sandbox calls and the Lambda functions. Nothing to turn on: an
IAM user exists only once someone creates one (``workshop iam-policy --create-user``).

moto's authoriser sees every call its dispatcher answers (every call the kit makes but
S3's ``DeleteObjects``); the sandbox corrects what it gets wrong
(``docs/iam-in-the-sandbox.md`` lists each service):

* the action: moto names it ``<signing name>:<its operation>``; IAM authorises API
  Gateway's HTTP verb (``apigateway:GET``), the Tagging API as ``tag:``, and a few S3
  calls under other names (:func:`iam_action`);
* the resource: moto knows it only for S3 (bucket and object), SQS (the queue) and IAM (a
  role) and passes ``*`` for the rest, which no ARN of a statement matched, so a policy
  scoped to the participant's resources allowed nothing: an unknown resource matches any
  ``Resource`` (the action is still checked), so elsewhere resources are not enforced;
* IAM's wildcards: moto read ``?`` as a regular expression (``????``: an error);
* the answer: moto refuses in query-XML whatever the service, which botocore cannot read
  for a JSON or REST-XML one: each service's own shape and code (:func:`_in_protocol`);
* the signature of a bodiless request, which moto computed over its headers or query;
* the calls the sandbox answers itself, before moto (Route 53's ``GetHealthCheckStatus``):
  authorised by this component's intercept.

The wrappers are declared in ``PATCHES`` and installed by :mod:`helpers.sandbox.patches`;
without a running sandbox (``_active``) moto's own behaviour is kept.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse
from xml.sax.saxutils import escape

from werkzeug.exceptions import HTTPException

from helpers.sandbox.context import ACCOUNT_ID, SandboxContext, signing_service

UNKNOWN_RESOURCE = "*"  # what moto passes when it does not know a request's resource

_active: IamAuthorization | None = None


def access_key_id(authorization: str) -> str:
    """The access key id of a SigV4 ``Authorization`` header ("" if unsigned)."""
    _, found, rest = (authorization or "").partition("Credential=")
    return rest.split("/", 1)[0] if found else ""


def user_of(key_id: str) -> str | None:
    """The IAM user of the account whose access key ``key_id`` is, or None (not a user's)."""
    if not key_id:
        return None
    from moto.iam.models import iam_backends

    backend = iam_backends[ACCOUNT_ID]["aws"]
    for user in list(backend.users.values()):
        if any(key.access_key_id == key_id for key in user.access_keys):
            return user.name
    return None


# JSON services name a denial AccessDeniedException (DynamoDB, ACM, CloudWatch Logs, SQS,
# Lambda, API Gateway: each API reference's "Errors"); query and REST-XML ones AccessDenied.
_JSON_CODES = {"AccessDenied": "AccessDeniedException"}
_BOTOCORE_NAMES = {"tagging": "resourcegroupstaggingapi"}  # signing name -> botocore's


@lru_cache(maxsize=64)
def protocol(signing_name: str) -> str:
    """The wire protocol of the service a request is signed for (``json``, ``rest-xml``...)."""
    import botocore.session

    try:
        model = botocore.session.get_session().get_service_model(
            _BOTOCORE_NAMES.get(signing_name, signing_name))
    except Exception:  # noqa: BLE001 - a service botocore does not know: moto's XML
        return "query"
    # A service offering several (the Tagging API: CBOR or JSON) is spoken in the first
    # botocore supports, JSON.
    offered = model.metadata.get("protocols") or [model.protocol]
    return "json" if "json" in offered else offered[0]


def _in_protocol(error: Any, signing_name: str) -> Any:
    """moto's refusal (an XML ``ErrorResponse`` for every service but S3's own) as the
    service answers it."""
    from moto.core.exceptions import JsonRESTError

    if type(error).__module__ != "moto.core.exceptions":  # S3's: already in S3's words
        return error
    kind = protocol(signing_name)
    if kind in ("json", "rest-json"):
        found = JsonRESTError(_JSON_CODES.get(error.error_type, error.error_type), error.message)
        found.code = 400 if kind == "json" else 403  # DynamoDB's 400; Lambda's, API Gateway's 403
        return found
    if kind == "rest-xml":  # Route 53, S3 Control: one <Error>, no <Errors>
        error.description = (
            '<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type>'
            f"<Code>{escape(error.error_type)}</Code><Message>{escape(error.message)}</Message>"
            "</Error></ErrorResponse>")
    return error


# IAM's service prefix where it is not the signing name.
_IAM_PREFIXES = {"tagging": "tag"}
# S3 calls moto names otherwise than IAM authorises them (the Service Authorization
# Reference's S3 table): HeadBucket is s3:ListBucket; moto reads a bucket's
# ?publicAccessBlock as a CreateBucket (its map spells the query public_access_block).
_S3_QUERY_ACTIONS = {("publicAccessBlock", "GET"): "GetBucketPublicAccessBlock",
                     ("publicAccessBlock", "PUT"): "PutBucketPublicAccessBlock",
                     ("publicAccessBlock", "DELETE"): "PutBucketPublicAccessBlock"}
_S3_ACTIONS = {"HeadBucket": "ListBucket",
               # S3 Control (signed as s3): the account's block, not a bucket's
               "GetPublicAccessBlock": "GetAccountPublicAccessBlock",
               "PutPublicAccessBlock": "PutAccountPublicAccessBlock"}


def iam_action(signing_name: str, method: str, operation: str,
               query: dict[str, Any] | None = None) -> str:
    """The action IAM checks for a call moto names ``operation``: API Gateway's management
    API authorises the HTTP verb (``apigateway:GET``; moto: ``GetRestApis``), the Tagging
    API is ``tag:``, and a few S3 calls are named otherwise."""
    prefix = _IAM_PREFIXES.get(signing_name, signing_name)
    if signing_name == "apigateway":
        return f"{prefix}:{method.upper()}"
    if signing_name == "s3":
        found = next((action for (key, verb), action in _S3_QUERY_ACTIONS.items()
                      if key in (query or {}) and verb == method.upper()), None)
        return f"{prefix}:{found or _S3_ACTIONS.get(operation, operation)}"
    return f"{prefix}:{operation}"


def _wrap_authorize(original: Any) -> Any:
    def _authenticate_and_authorize_action(self: Any, iam_request_cls: type,
                                           resource: str = "*") -> None:
        if _active is None:
            return original(self, iam_request_cls, resource)
        if user_of(access_key_id(self.headers.get("Authorization", ""))) is None:
            return None  # the account's administrator: allowed everything
        # What moto does once its authorisation is on (the mixin's own body), corrected.
        if self.headers.get("X-Amz-Target") in type(self).PUBLIC_OPERATIONS:
            return None
        parsed = urlparse(self.uri)
        path = self.raw_path + (f"?{parsed.query}" if parsed.query else "")
        # moto signs a bodiless request's query or headers as its body (a GET to API
        # Gateway, Lambda or Route 53 never matched): with no body and no form, an empty one.
        data = self.data if self.raw_body or self.form_data else {}
        signed_for = signing_service(self)
        try:
            request = iam_request_cls(account_id=self.current_account, method=self.method,
                                      path=path, data=data, body=self.raw_body,
                                      headers=self.headers, action=self._get_action())
            # moto names the action <signing name>:<its operation>; IAM's name, as AWS checks it
            request._action = iam_action(signed_for, self.method, self._get_action(),
                                         self.querystring)
            request.check_signature()
            request.check_action_permitted(resource)
        except HTTPException as refused:
            raise _in_protocol(refused, signed_for) from None
        return None

    return _authenticate_and_authorize_action


def _wrap_check_element_matches(original: Any) -> Any:
    def _check_element_matches(self: Any, statement_element: Any, value: str) -> bool:
        if _active is not None and statement_element == "Resource" and value == UNKNOWN_RESOURCE:
            return True  # moto does not know the resource: the action alone decides
        return original(self, statement_element, value)

    return _check_element_matches


def iam_pattern(pattern: str) -> re.Pattern[str]:
    """IAM's wildcards: ``*`` any characters, ``?`` any one; everything else literal."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in pattern) + r"\Z")


def _wrap_match(original: Any) -> Any:
    def _match(pattern: str, string: str) -> re.Match[str] | None:
        if _active is None:
            return original(pattern, string)
        return iam_pattern(pattern).match(string)

    return staticmethod(_match)


PATCHES = (
    ("moto.core.authorization:ActionAuthenticatorMixin._authenticate_and_authorize_action",
     _wrap_authorize),
    ("moto.iam.access_control:IAMPolicyStatement._check_element_matches",
     _wrap_check_element_matches),
    ("moto.iam.access_control:IAMPolicyStatement._match", _wrap_match),
)


# Calls the sandbox answers itself, before moto (helpers.sandbox.route53.api): authorised
# here, as moto would have.
ANSWERED_BY_THE_SANDBOX = (
    ("route53", re.compile(r"^/2013-04-01/healthcheck/[^/]+/status/?$"), "GetHealthCheckStatus"),
    ("route53", re.compile(r"^/2013-04-01/testdnsanswer/?$"), "TestDNSAnswer"),
)


class IamAuthorization:
    """The component: while it runs, IAM users' requests are authorised."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def start(self) -> None:
        global _active
        _active = self
        self.ctx.add_intercept(self.intercept)  # before the intercepts that answer calls

    def stop(self) -> None:
        global _active
        if self.intercept in self.ctx.intercepts:
            self.ctx.intercepts.remove(self.intercept)
        if _active is self:
            _active = None

    def intercept(self, request: Any) -> Any:
        """Authorise an IAM user's call the sandbox answers itself (moto never sees it)."""
        if request.method != "GET":
            return None
        service = signing_service(request)
        action = next((name for signed, path, name in ANSWERED_BY_THE_SANDBOX
                       if signed == service and path.match(request.path)), None)
        if action is None or user_of(access_key_id(request.headers.get("Authorization"))) is None:
            return None
        from moto.iam.access_control import IAMRequest
        from werkzeug.wrappers import Response

        query = request.query_string.decode()
        try:
            checked = IAMRequest(account_id=self.ctx.account_id, method=request.method,
                                 path=request.path + (f"?{query}" if query else ""), data={},
                                 body=b"", headers=request.headers, action=action)
            checked.check_signature()
            checked.check_action_permitted(UNKNOWN_RESOURCE)
        except HTTPException as refused:
            error = _in_protocol(refused, service)
            return Response(error.description, status=error.code, mimetype="text/xml")
        return None
