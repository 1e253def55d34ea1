"""The ticket API as a learner's browser uses it: list, page, create, health.

Every call goes through :mod:`helpers.connect.net`, so the same URL works everywhere:
an API's own ``https://{id}.execute-api.{region}.amazonaws.com/prod/`` as well
as the custom domains ``https://api.<domain>/`` and ``https://<city>.<domain>/``,
in the sandbox included (where the sandbox's DNS decides which region answers,
exactly as Route 53 does on AWS).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, NamedTuple

from helpers.base.errors import WorkshopError
from helpers.connect import net

REGION_HEADER = "X-Workshop-Region"


class ApiError(WorkshopError):
    """The API answered with an error status; the message is the API's own."""

    def __init__(self, status: int, url: str, message: str) -> None:
        super().__init__(f"{url} answered HTTP {status}: {message}")
        self.status = status
        self.url = url
        self.api_message = message


def endpoint(api_url: str, path: str) -> str:
    """``api_url`` (with or without a trailing ``/``, with or without ``/prod``) + ``path``."""
    return f"{api_url.rstrip('/')}/{path.lstrip('/')}"


def list_tickets(api_url: str, limit: int | None = None,
                 next_token: str | None = None) -> dict[str, Any]:
    """One page, newest first: ``{"Items": [...], "Count": n, "ScannedCount": n[, "next"]}``."""
    params = {k: v for k, v in (("limit", limit), ("next", next_token)) if v is not None}
    url = endpoint(api_url, "ticket")
    return _json(url, net.request("GET", url, params=params or None))


class RawAnswer(NamedTuple):
    """An HTTP answer as it came: ``status, body = tickets.raw_get(url)`` still works."""

    status: int
    body: str


class Health(NamedTuple):
    """The deep ping's answer: ``status, body, served_by = tickets.health(url)`` still works."""

    status: int
    body: Any  # the JSON answer, or the text when it is not JSON
    served_by: str | None  # the region that served it (X-Workshop-Region)


def raw_get(url: str) -> RawAnswer:
    """``(status, body text)`` exactly as sent, for byte-for-byte checks of an answer."""
    response = net.request("GET", url)
    return RawAnswer(response.status_code, response.text)


def all_tickets(api_url: str, page_size: int | None = None) -> list[dict[str, Any]]:
    """Every ticket, following ``next`` from page to page (newest first)."""
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = list_tickets(api_url, limit=page_size, next_token=token)
        items.extend(page["Items"])
        token = page.get("next")
        if not token:
            return items


def create_ticket(api_url: str, **fields: str) -> dict[str, Any]:
    """POST a ticket (``description`` is required); returns the stored item with its ``id``."""
    url = endpoint(api_url, "ticket")
    return _json(url, net.request("POST", url, json=fields))


def health(api_url: str) -> Health:
    """The deep ping: ``Health(status, body, served_by)``, the region that served it last.

    A failing health check is an answer, not an exception (module 4 wants to see
    the 500), so only an unreachable API raises.
    """
    response = net.request("GET", endpoint(api_url, "health"))
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    region = response.headers.get(REGION_HEADER)
    if region is None and isinstance(body, dict):
        region = body.get("region")
    return Health(response.status_code, body, region)


def _json(url: str, response: Any) -> Any:
    """The JSON body of a 2xx answer; otherwise raise with the API's ``message``.

    ``url`` is the public one: in the sandbox ``response.url`` is a loopback address.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 300:
        message = body.get("message") if isinstance(body, dict) else None
        raise ApiError(response.status_code, url,
                             message or (response.text[:200] or response.reason))
    if body is None:
        raise ApiError(response.status_code, url,
                             f"expected JSON, got {response.text[:200]!r}")
    return body


def stored_item(description: str, ticket_id: str | None = None,
                created_by: str = "bench") -> dict[str, dict[str, str]]:
    """A ticket as the API stores it, in DynamoDB JSON, written now (for writes that go
    straight to a table: benchmarks, the conflict demonstration of module 4.1)."""
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = {"id": ticket_id or uuid.uuid4().hex, "description": description, "assigned": "",
              "priority": "low", "status": "open", "createdBy": created_by,
              "createdOn": now.strftime("%Y-%m-%d %H:%M:%S"),
              "createdAt": stamp, "updatedAt": stamp, "listKey": "ticket"}
    return {name: {"S": value} for name, value in fields.items()}
