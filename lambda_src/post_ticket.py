"""POST /ticket: validate a JSON ticket, store it with a new id, return it.

Request body (JSON object):
  description  required, 1-1000 characters
  assigned     optional, up to 100 characters
  createdBy    optional, up to 100 characters
  priority     optional, low | medium | high | urgent (default medium)
  status       optional, open | in-progress | resolved | closed (default open)
"""

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime

import common

MAX_BODY_BYTES = 10 * 1024
LIST_KEY = "ticket"  # every ticket shares it, so the byCreatedAt index lists them all
PRIORITIES = ("low", "medium", "high", "urgent")
STATUSES = ("open", "in-progress", "resolved", "closed")
# field -> (required, max length, allowed values, default)
FIELDS = {
    "description": (True, 1000, None, None),
    "assigned": (False, 100, None, ""),
    "createdBy": (False, 100, None, ""),
    "priority": (False, None, PRIORITIES, "medium"),
    "status": (False, None, STATUSES, "open"),
}
JSON_TYPE_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean",
                   int: "number", float: "number", type(None): "null"}


@common.api_handler
def handler(event, context):
    check_content_type(common.header(event, "Content-Type"))
    ticket = validate(parse_body(event))
    return 200, save(common.table_name(), ticket)


def check_content_type(value):
    # Parameters such as `; charset=utf-8` are fine; only the media type matters.
    if value is not None and value.split(";")[0].strip().lower() != "application/json":
        raise common.ApiError(400, f"Content-Type must be application/json (got {value!r}).")


def parse_body(event):
    body = event.get("body")
    if not isinstance(body, str) or not body:
        raise common.ApiError(
            400, 'The request body is empty; send a JSON object such as {"description": "..."}.'
        )
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise common.ApiError(
                400, "The request body is marked base64 but is not valid base64."
            ) from None
    else:
        raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise common.ApiError(
            400, f"The request body is {len(raw)} bytes; at most {MAX_BODY_BYTES} are allowed."
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise common.ApiError(400, "The request body must be UTF-8 encoded JSON.") from None
    except (ValueError, RecursionError) as err:  # RecursionError: absurdly deep nesting
        raise common.ApiError(
            400, f"The request body is not valid JSON ({err}); send a JSON object."
        ) from None
    if not isinstance(data, dict):
        raise common.ApiError(
            400, f"The request body must be a JSON object, not {json_type(data)}."
        )
    return data


def validate(data):
    """Return the ticket's fields with defaults filled in; raise ApiError listing every problem."""
    problems = []
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        problems.append(
            f"unknown field(s) {', '.join(unknown)}; allowed fields are {', '.join(FIELDS)}"
        )
    ticket = {}
    for name, (required, max_length, allowed, default) in FIELDS.items():
        if name not in data:
            if required:
                problems.append(f"'{name}' is required: a string of 1 to {max_length} characters")
            else:
                ticket[name] = default
            continue
        value = data[name]
        problem = check_field(name, value, max_length, allowed)
        if problem:
            problems.append(problem)
        else:
            ticket[name] = value
    if problems:
        raise common.ApiError(400, "Invalid ticket: " + "; ".join(problems) + ".")
    return ticket


def check_field(name, value, max_length, allowed):
    if not isinstance(value, str):
        return f"'{name}' must be a string, not {json_type(value)}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # e.g. a lone "\ud800" escape
        return f"'{name}' contains characters that are not valid Unicode"
    if allowed is not None and value not in allowed:
        return f"'{name}' must be one of {', '.join(allowed)} (got {value!r})"
    if name == "description" and not value.strip():
        return "'description' must not be blank"
    if max_length is not None and len(value) > max_length:
        return f"'{name}' is {len(value)} characters long; at most {max_length} are allowed"
    return None


def json_type(value):
    return JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def save(table, ticket):
    """Store the ticket under a fresh id and return the stored item."""
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = {
        **ticket,
        "createdOn": now.strftime("%Y-%m-%d %H:%M:%S"),
        "createdAt": stamp,
        "updatedAt": stamp,
        "listKey": LIST_KEY,
    }
    client = common.dynamodb()
    for _ in range(3):
        item = {"id": uuid.uuid4().hex, **fields}
        try:
            # The condition makes a collision fail instead of overwriting a ticket
            # (the original used a timestamp as id, which concurrent posts shared).
            client.put_item(
                TableName=table,
                Item={name: {"S": value} for name, value in item.items()},
                ConditionExpression="attribute_not_exists(id)",
            )
            return item
        except client.exceptions.ConditionalCheckFailedException:
            common.log("WARNING", "ticket id already taken; drawing a new one", id=item["id"])
    raise RuntimeError("Could not draw an unused ticket id in 3 attempts.")
