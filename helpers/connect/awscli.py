"""An AWS call as a learner can read it: masked values and the equivalent AWS CLI command.

The CLI's names come from botocore's operation model, as the AWS CLI derives
them: ``aws <service> <xform_name(operation, '-')> --<xform_name(member, '-')>``.
Secrets are never shown and 12-digit account ids are replaced by ``${ACCOUNT_ID}`` (a
shell variable, so a pasted command still works once it is set). A structured value - the
configuration a learner sets, such as a health check's ``HealthCheckConfig`` or a record
change's ``ChangeBatch`` - is shown whole, as the JSON the AWS CLI takes, up to
:data:`WHOLE` characters; a long string (a template body, a policy document) or a larger
structure (a batch of items) is elided as ``'…'``: the command shows its shape.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from botocore import xform_name

ACCOUNT = "${ACCOUNT_ID}"
HIDDEN = "***"
SHORT = 60  # longer strings are elided: the command shows the shape, not the payload
WHOLE = 2000  # a structure (dict, list) up to this long as JSON is shown whole: configuration
_ACCOUNT_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")
_SECRET = re.compile(r"secret|password|passphrase|token|credential|privatekey|authorization",
                     re.IGNORECASE)
_PLAIN = re.compile(r"^[\w./:@=,+%-]+$")
_READS = ("Describe", "Get", "List", "Head", "Query", "Scan", "Test", "Lookup", "BatchGet",
          "Search", "Select", "Validate", "Estimate", "Preview")
# The AWS CLI names these differently from botocore (its `s3` is the high-level command set).
_CLI_SERVICE = {"s3": "s3api"}


def changes(operation: str) -> bool:
    """Does the operation change something (anything but a read)?"""
    return not operation.startswith(_READS)


def secret(name: str) -> bool:
    return bool(_SECRET.search(name))


def mask(text: str) -> str:
    """``text`` with every 12-digit account id replaced by ``${ACCOUNT_ID}``."""
    return _ACCOUNT_ID.sub(ACCOUNT, text)


def key_params(params: Mapping[str, Any]) -> list[str]:
    """The parameters as a learner reads them: ``Name=value`` for a short scalar, else the
    name alone (a payload is not shown); secrets by name only."""
    shown = []
    for name, value in params.items():
        if (isinstance(value, (str, int, float, bool)) and not secret(name)
                and len(str(value)) <= 40):
            shown.append(f"{name}={mask(str(value))}")
        else:
            shown.append(name)
    return shown


def command(service: str, operation: str, params: Mapping[str, Any], region: str | None,
            model: Any = None) -> str:
    """The AWS CLI command equivalent to the call (``model``: botocore's OperationModel, which
    tells a streaming body from other blobs)."""
    parts = ["aws", _CLI_SERVICE.get(service, service), xform_name(operation, "-")]
    members = getattr(getattr(model, "input_shape", None), "members", {}) or {}
    streaming = getattr(model, "has_streaming_input", False)
    for name, value in params.items():
        option = "--" + xform_name(name, "-")
        if isinstance(value, bool):
            parts.append(option if value else f"--no-{option[2:]}")
            continue
        shape = members.get(name)
        if isinstance(value, (bytes, bytearray)) or hasattr(value, "read") or (
                shape is not None and shape.type_name == "blob"):
            parts += [option, "FILE" if streaming else "fileb://FILE"]
            continue
        parts += [option, _value(name, value)]
    if region:
        parts += ["--region", region]
    return " ".join(parts)


def _value(name: str, value: Any) -> str:
    if secret(name):
        return HIDDEN
    if isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)):
        return str(value)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value) and len(value) <= 4:
        return " ".join(_quoted(mask(v)) if len(v) <= SHORT else "'…'" for v in value)
    else:
        text = mask(json.dumps(value, default=str, separators=(",", ":")))
        return "'…'" if len(text) > WHOLE else _quoted(text)
    text = mask(text)
    if len(text) > SHORT:
        return "'…'"
    return _quoted(text)


def _quoted(text: str) -> str:
    if _PLAIN.match(text.replace(ACCOUNT, "ACCOUNT")):
        return text
    if ACCOUNT in text:  # double quotes keep ${ACCOUNT_ID} a variable
        escaped = re.sub(r'(["\\`$])', r"\\\1", text)
        return '"' + escaped.replace("\\" + ACCOUNT, ACCOUNT) + '"'
    return shlex.quote(text)
