"""GET /ticket: one page of tickets, newest first.

Response body: `{"Items": [...], "Count": n, "ScannedCount": n}` as in the
original workshop, plus `"next"` when more tickets exist. Pass `next` back as
`?next=` for the following page; `?limit=` sets the page size (1-100).
"""

import base64
import binascii
import json
import re

import common
from boto3.dynamodb.types import TypeDeserializer

INDEX_NAME = "byCreatedAt"
LIST_KEY = "ticket"
DEFAULT_LIMIT = MAX_LIMIT = 100
# A page's LastEvaluatedKey on the index: the table key plus the index key.
PAGE_KEY_FIELDS = ("createdAt", "id", "listKey")

_deserializer = TypeDeserializer()


@common.api_handler
def handler(event, context):
    limit = parse_limit(common.query_param(event, "limit"))
    start_key = decode_next(common.query_param(event, "next"))
    return 200, read_page(common.table_name(), limit, start_key)


def parse_limit(raw):
    if raw is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]{1,3}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise common.ApiError(
            400, f"'limit' must be a whole number from 1 to {MAX_LIMIT} (got {raw!r})."
        )
    return int(raw)


def read_page(table, limit, start_key):
    """Query the index newest first; ask for one extra item to learn whether more exist.

    DynamoDB returns a LastEvaluatedKey whenever a page is full, even when
    nothing follows, which would make the UI fetch an empty last page.
    """
    params = {
        "TableName": table,
        "IndexName": INDEX_NAME,
        "KeyConditionExpression": "listKey = :ticket",
        "ExpressionAttributeValues": {":ticket": {"S": LIST_KEY}},
        "ScanIndexForward": False,
        "Limit": limit + 1,
    }
    if start_key:
        params["ExclusiveStartKey"] = {k: {"S": v} for k, v in start_key.items()}
    result = common.dynamodb().query(**params)

    items = [from_dynamodb(item) for item in result.get("Items", [])]
    if len(items) > limit:
        items = items[:limit]
        next_key = {field: items[-1][field] for field in PAGE_KEY_FIELDS}
    elif "LastEvaluatedKey" in result:  # the 1 MB response cap cut the page short
        next_key = from_dynamodb(result["LastEvaluatedKey"])
    else:
        next_key = None

    page = {"Items": items, "Count": len(items), "ScannedCount": len(items)}
    if next_key:
        page["next"] = encode_next(next_key)
    return page


def from_dynamodb(item):
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def encode_next(key):
    """Opaque token: urlsafe base64 of the key's JSON, without `=` padding."""
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_next(token):
    if token is None:
        return None
    bad = common.ApiError(
        400, "'next' is not a valid page token; pass back the 'next' value of the previous"
        " page unchanged, or leave it out for the first page.",
    )
    if not token or len(token) > 2048:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):  # ValueError covers bad UTF-8 and bad JSON
        raise bad from None
    if (
        not isinstance(key, dict)
        or sorted(key) != sorted(PAGE_KEY_FIELDS)
        or not all(isinstance(value, str) and value for value in key.values())
        or key["listKey"] != LIST_KEY
    ):
        raise bad
    return key
