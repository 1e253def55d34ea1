"""Shared helpers for the workshop's Lambda functions (boto3 only).

Every handler ships in the same zip, so anything two functions need lives here:
the DynamoDB client, JSON logging, and API Gateway responses with the headers
the web UI relies on.
"""

import base64
import functools
import json
import os
import threading
import time
import traceback
from decimal import Decimal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# Adaptive retries back off (and slow down) on throttling by themselves; the
# short timeouts keep an unreachable endpoint from eating the whole invocation.
CLIENT_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 5},
    connect_timeout=3,
    read_timeout=10,
)

_clients = {}
_clients_lock = threading.Lock()  # threads (and tests) may race to create a client


def dynamodb(region=None):
    """Low-level DynamoDB client for `region` (default: the function's own).

    Clients are created on first use and kept for the life of the execution
    environment, so warm invocations skip the set-up cost.
    """
    region = region or aws_region()
    with _clients_lock:
        if region not in _clients:
            _clients[region] = boto3.client("dynamodb", region_name=region, config=CLIENT_CONFIG)
        return _clients[region]


def reset_clients():
    """Forget cached clients (tests call this so no client outlives its mock)."""
    with _clients_lock:
        _clients.clear()


def aws_region():
    """The region this function runs in (Lambda sets AWS_REGION)."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""


def table_name():
    name = os.environ.get("TABLE_NAME")
    if not name:
        raise RuntimeError("TABLE_NAME is not set; the stack passes it to every function.")
    return name


# ---------------------------------------------------------------- logging


def log(level, message, **fields):
    """Print one JSON line: CloudWatch Logs Insights can filter on every field."""
    print(json.dumps({"level": level, "message": message, **fields}, default=str))


# ---------------------------------------------------------------- API responses


class ApiError(Exception):
    """Raise to answer with `{"message": ...}` and an HTTP error status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _json_default(value):
    # DynamoDB numbers arrive as Decimal, which json cannot write.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(body):
    # Compact separators: `{"Items":[],"Count":0,"ScannedCount":0}` byte for byte.
    return json.dumps(body, separators=(",", ":"), default=_json_default)


def response(status, body):
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": "application/json",
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
            "Access-Control-Expose-Headers": "X-Workshop-Region",
            "X-Workshop-Region": aws_region(),
        },
        "body": to_json(body),
    }


def header(event, name):
    """A request header's value; HTTP header names are case-insensitive."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def query_param(event, name):
    return (event.get("queryStringParameters") or {}).get(name)


def api_handler(func):
    """Wrap `func(event, context) -> (status, body)` as an API Gateway proxy handler.

    It never raises: an exception that escapes a proxy integration reaches the
    caller as a bare 502, so every failure becomes a JSON error instead.
    """

    @functools.wraps(func)
    def handler(event, context=None):
        event = event or {}
        started = time.monotonic()
        try:
            status, body = func(event, context)
        except ApiError as err:
            status, body = err.status, {"message": err.message}
        except (ClientError, BotoCoreError) as err:
            code = err.response["Error"]["Code"] if isinstance(err, ClientError) else "Error"
            log("ERROR", "AWS request failed", error_code=code, error=str(err),
                traceback=traceback.format_exc())
            message = f"AWS request failed ({code}); see the function's logs."
            status, body = 500, {"message": message}
        except Exception as err:
            log("ERROR", "unexpected error", error=repr(err), traceback=traceback.format_exc())
            status, body = 500, {"message": "Internal error; see the function's logs."}
        fields = {"error": body.get("message")} if status >= 400 else {}
        log("INFO" if status < 500 else "ERROR", "request handled",
            method=event.get("httpMethod"), path=event.get("path"), status=status,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            request_id=getattr(context, "aws_request_id", None), **fields)
        return response(status, body)

    return handler
