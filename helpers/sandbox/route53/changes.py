"""Route 53 change batches are PENDING before they are INSYNC, as on AWS.

moto answers every ChangeResourceRecordSets with the same change id, already
``INSYNC``. Route 53 answers ``PENDING`` ("the changes in this request have not
propagated to all Amazon Route 53 DNS servers managing the hosted zone. This is
the initial status of all change batch requests") and GetChange reports
``INSYNC`` once they have; AWS states propagation "within 60 seconds" (Route 53
FAQ), the figure used here, scaled (:mod:`helpers.sandbox.clock`,
``route53_change_pending``).

While a change to a record set is PENDING (``prior_request_not_complete``, the
same window), another change to the same record set (zone, name, type, set
identifier) is refused with ``PriorRequestNotComplete`` (HTTP 400), as Route 53
refuses a request it cannot process before the previous one; the SDKs retry it
as a throttle. The DNS server answers the new records at once (a client may see
them on some name servers before INSYNC on AWS too).

Changes are kept in memory only: after a sandbox restart an unknown change id is
INSYNC (moto's own answer), which it would be by then on AWS as well.

moto internals used: ``moto.route53.responses.Route53.change_resource_record_sets``
and ``get_change`` (wrapped: ``PATCHES``, installed by :mod:`helpers.sandbox.patches`),
``moto.core.responses.ActionResult``.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from helpers.sandbox.clock import aws_seconds
from helpers.sandbox.context import SandboxContext
from helpers.sandbox.route53.dns_records import normalize_name

PROPAGATION_S = aws_seconds("route53_change_pending")  # AWS's figure (Route 53 FAQ: 60 s)
KEEP_S = 3600.0  # how long a change's id is remembered after it is INSYNC


@dataclass
class _Change:
    id: str
    insync_at: float  # time.monotonic()
    refused_until: float  # time.monotonic(): a change to its record sets is refused until then
    record_sets: frozenset[tuple[str, str, str, str]]
    submitted_at: Any  # the datetime moto put in the answer


_active: Route53Changes | None = None  # the changes the patched responses keep


# ---------------------------------------------------------------- moto patches
# Installed by helpers.sandbox.patches; moto's own answers while no sandbox runs.
def _prior_request_not_complete() -> Exception:
    from moto.route53.exceptions import Route53ClientError

    class PriorRequestNotComplete(Route53ClientError):
        def __init__(self) -> None:
            super().__init__("PriorRequestNotComplete", "The request was rejected because "
                             "Route 53 was still processing a prior request.")

    return PriorRequestNotComplete()


def _wrap_change_resource_record_sets(original: Any) -> Any:
    def change_resource_record_sets(response: Any) -> Any:
        changes = _active
        if changes is None:
            return original(response)
        from moto.core.responses import ActionResult

        zone_id = str(response._get_param("HostedZoneId")).split("/")[-1]
        keys = frozenset(_record_set_key(zone_id, c.get("ResourceRecordSet") or {})
                         for c in response._get_param("ChangeBatch.Changes") or [])
        if changes.pending_for(keys):
            raise _prior_request_not_complete()
        result = original(response)
        info = dict(result.result["ChangeInfo"])
        change = changes.submit(keys, info.get("SubmittedAt"))
        info.update(Id=f"/change/{change.id}", Status="PENDING")
        return ActionResult({**result.result, "ChangeInfo": info})

    return change_resource_record_sets


def _wrap_get_change(original: Any) -> Any:
    def get_change(response: Any) -> Any:
        result = original(response)
        changes = _active
        change_id = str(response._get_param("Id")).split("/")[-1]
        change = changes.get(change_id) if changes is not None else None
        if change is None:
            return result
        from moto.core.responses import ActionResult

        status = "PENDING" if time.monotonic() < change.insync_at else "INSYNC"
        info = {**result.result["ChangeInfo"], "Id": f"/change/{change.id}",
                "Status": status}
        if change.submitted_at is not None:
            info["SubmittedAt"] = change.submitted_at
        return ActionResult({**result.result, "ChangeInfo": info})

    return get_change


PATCHES = (
    ("moto.route53.responses:Route53.change_resource_record_sets",
     _wrap_change_resource_record_sets),
    ("moto.route53.responses:Route53.get_change", _wrap_get_change),
)


class Route53Changes:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._changes: dict[str, _Change] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def start(self) -> None:
        global _active
        _active = self

    def stop(self) -> None:
        global _active
        if _active is self:
            _active = None

    # ----------------------------------------------------------------------

    def submit(self, keys: frozenset[tuple[str, str, str, str]], submitted_at: Any) -> _Change:
        now = time.monotonic()
        change = _Change(id=f"C{next(self._ids):04d}{secrets.token_hex(6).upper()}",
                         insync_at=now + self.ctx.clock.seconds("route53_change_pending"),
                         refused_until=now + self.ctx.clock.seconds("prior_request_not_complete"),
                         record_sets=keys,
                         submitted_at=submitted_at)
        with self._lock:
            self._changes = {k: c for k, c in self._changes.items()
                             if now - max(c.insync_at, c.refused_until) < KEEP_S}
            self._changes[change.id] = change
        return change

    def get(self, change_id: str) -> _Change | None:
        with self._lock:
            return self._changes.get(change_id)

    def pending_for(self, keys: frozenset[tuple[str, str, str, str]]) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(now < c.refused_until and c.record_sets & keys
                       for c in self._changes.values())


def _record_set_key(zone_id: str, record_set: dict[str, Any]) -> tuple[str, str, str, str]:
    return (zone_id, normalize_name(str(record_set.get("Name", ""))),
            str(record_set.get("Type", "")).upper(), str(record_set.get("SetIdentifier") or ""))
