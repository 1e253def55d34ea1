"""Living within an account's API quotas: wait out a quota's window, and say so.

Some AWS operations have fixed, account-wide quotas a whole room shares (API
Gateway creates or deletes one custom domain per 30 s per account, whatever the region).
The SDK's own retries would wait silently and give up after a few attempts; a
learner should see what the kit is waiting for, and the kit should keep trying
for as long as a room could need. Everything else is left to botocore's
adaptive retries (helpers.connect.session). Waits are scaled by the sandbox clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from helpers.base.say import Say
from helpers.connect import net

T = TypeVar("T")

THROTTLED = {"TooManyRequestsException", "Throttling", "ThrottlingException",
             "PriorRequestNotComplete"}


def within_quota(call: Callable[[], T], *, window_s: float, patience_s: float,
                 waiting_for: str, quota: str, say: Say) -> T:
    """``call()`` (made with a client without retries), waiting out each throttle.

    After a throttle it waits the service's ``Retry-After`` if it named one, else
    ``window_s`` (AWS seconds, scaled in the sandbox), telling ``say`` what it waits for
    (``waiting_for``, e.g. "to create custom domain api.example.com (eu-west-1)") and why
    (``quota``); it gives up with the service's error after ``patience_s``.
    """
    scale = net.time_scale()
    waited = 0.0
    while True:
        try:
            return call()
        except ClientError as exc:
            if (exc.response["Error"]["Code"] not in THROTTLED
                    or waited >= patience_s * scale):
                raise
            pause = _retry_after(exc) or window_s * scale
        # No number of seconds: the same run prints the same lines (notebook outputs).
        say(f"waiting {waiting_for}: {quota}")
        time.sleep(pause)
        waited += pause


def _retry_after(exc: ClientError) -> float | None:
    """API Gateway's Retry-After (botocore parses it into ``retryAfterSeconds``)."""
    value: Any = exc.response.get("retryAfterSeconds") or exc.response.get(
        "ResponseMetadata", {}).get("HTTPHeaders", {}).get("retry-after")
    try:
        return float(value) if value else None
    except (TypeError, ValueError):
        return None
