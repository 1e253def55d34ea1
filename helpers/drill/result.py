"""A drill's measurements: every figure, as JSON, as a table beside what it is compared with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from helpers.base.tables import whole
from helpers.drill.bound import OBJECTIVE_SECONDS
from helpers.sandbox.clock import REAL, SCALED, ClockName, describe

# What each operation of the drill's traffic is, as a route of the API.
ROUTES = {"create": "POST /ticket", "list": "GET /ticket", "health": "GET /health"}
USER_OPERATIONS = ("create", "list")  # what a user does with tickets; health is the banner's


@dataclass
class DrillResult:
    scenario: str
    description: str
    rate: float
    primary: str
    secondary: str
    time_scale: float
    theoretical_bound_seconds: float
    bound_inputs: dict[str, float]
    objective_seconds: float = OBJECTIVE_SECONDS
    detection_seconds: float | None = None
    dns_switch_seconds: float | None = None
    rto_seconds: float | None = None
    rpo_items_at_switch: int | None = None
    rpo_items_after_drain: int | None = None
    # The RPO as a window of time (real time: replication is not scaled): the acknowledged
    # writes the secondary lacked span this long, from the oldest one's acknowledgement to
    # the switch (after drain: to the drain's end); 0 when it lacked none.
    rpo_seconds_at_switch: float | None = None
    rpo_seconds_after_drain: float | None = None
    reconciled_items: int = 0
    reconciled_before_failback: int = 0
    lost_items: int | None = None
    secondary_first_request_seconds: float | None = None  # part of the RTO (a cold start?)
    failback: dict[str, float | None] = field(default_factory=dict)
    moments: dict[str, float] = field(default_factory=dict)  # seconds since the drill began
    requests: pd.DataFrame = field(default_factory=pd.DataFrame)
    probes: pd.DataFrame = field(default_factory=pd.DataFrame)
    phase: str = "done"
    notes: list[str] = field(default_factory=list)
    replication: str = "streams"  # or "global-tables"

    @property
    def rto_aws_seconds(self) -> float | None:
        """The RTO divided by the time scale: roughly what it would be on AWS's clock.

        Only the durations :mod:`helpers.sandbox.clock` declares scaled (health-check
        intervals, TTLs, a cold start's init) shrink in the sandbox, so this overstates
        what runs in real time (request latency, this machine's own work); on AWS
        (scale 1) it is the RTO itself.
        """
        if self.rto_seconds is None:
            return None
        return round(self.rto_seconds / self.time_scale, 2)

    def on_aws(self, seconds: float | None, clock: ClockName = SCALED) -> float | None:
        """A measured duration on AWS's clock: a scaled one divided by the time scale (so
        it overstates what ran in real time within it), a real-time one as it is."""
        if seconds is None:
            return None
        return round(seconds if clock == REAL else seconds / self.time_scale, 2)

    def failed_by_route(self) -> dict[str, int]:
        """Requests that failed between the fault and the first success the secondary
        served, by route: which routes the RTO measures the outage of."""
        frame = self.requests
        fault = self.moments.get("fault")
        counts = {route: 0 for route in ROUTES.values()}
        if frame.empty or fault is None:
            return counts
        end = self.moments.get("recovered", self.moments.get("restore", float("inf")))
        failed = frame[~frame["ok"].astype(bool) & (frame["t_done"] >= fault)
                       & (frame["t"] < end)]
        for op, n in failed["op"].value_counts().items():
            counts[ROUTES[op]] = int(n)
        return counts

    @property
    def user_requests_failed(self) -> bool:
        """Whether a ticket request (not only ``/health``) failed: the RTO is then a user's."""
        by_route = self.failed_by_route()
        return any(by_route[ROUTES[op]] for op in USER_OPERATIONS)

    @property
    def meets_objective(self) -> bool | None:
        rto = self.rto_aws_seconds
        return None if rto is None else rto <= self.objective_seconds

    @property
    def probes_throttled(self) -> int:
        """Probes Route 53 throttled (a rate quota of the account): recorded, their value
        unknown. Each can put off the detection or the switch the drill sees by a probe."""
        frame = self.probes
        if frame.empty or "throttled" not in frame:
            return 0
        return int(frame["throttled"].fillna(False).astype(bool).sum())

    def counts(self) -> dict[str, int]:
        frame = self.requests
        probes = {"probes": len(self.probes), "probes_throttled": self.probes_throttled}
        if frame.empty:
            return {"requests": 0, "failed": 0, "writes_acknowledged": 0, **probes}
        acked = frame[(frame["op"] == "create") & frame["ok"]]
        return {"requests": len(frame), "failed": int((~frame["ok"]).sum()), **probes,
                "writes_acknowledged": len(acked),
                **{f"served_by_{r}": int(((frame["region"] == r) & frame["ok"]).sum())
                   for r in (self.primary, self.secondary)}}

    def as_dict(self) -> dict[str, Any]:
        """Every measured figure, JSON-ready (what ``workshop drill --json`` prints)."""
        return {
            "scenario": self.scenario, "description": self.description, "rate": self.rate,
            "replication": self.replication,
            "primary": self.primary, "secondary": self.secondary,
            "time_scale": self.time_scale,
            "rto_seconds": self.rto_seconds,
            "theoretical_bound_seconds": self.theoretical_bound_seconds,
            "bound_inputs": self.bound_inputs,
            "rto_aws_seconds": self.rto_aws_seconds,
            "objective_seconds": self.objective_seconds,
            "meets_objective": self.meets_objective,
            "detection_seconds": self.detection_seconds,
            "dns_switch_seconds": self.dns_switch_seconds,
            "rpo_items_at_switch": self.rpo_items_at_switch,
            "rpo_items_after_drain": self.rpo_items_after_drain,
            "rpo_seconds_at_switch": self.rpo_seconds_at_switch,
            "rpo_seconds_after_drain": self.rpo_seconds_after_drain,
            "failed_by_route": self.failed_by_route(),
            "reconciled_items": self.reconciled_items,
            "reconciled_before_failback": self.reconciled_before_failback,
            "lost_items": self.lost_items,
            "secondary_first_request_seconds": self.secondary_first_request_seconds,
            "failback": self.failback,
            "moments": self.moments,
            "counts": self.counts(),
            "notes": self.notes,
        }

    def table(self) -> pd.DataFrame:
        """Measured figures beside what they are compared with (for a notebook or the CLI).

        Each duration gives its clock and its figure on AWS's clock: detection, the DNS
        switch, the RTO, the bound and the fail-back ran on the sandbox's scaled clock
        (divided by the time scale on AWS's, which overstates the real-time share of them);
        the RPO's window is real time (replication is not scaled), the same on AWS.
        """
        bound = self.theoretical_bound_seconds
        scaled = ("AWS's own" if self.time_scale == 1.0
                  else f"sandbox's, scale {self.time_scale:g}")
        real = "real time"
        failed = self.failed_by_route()
        routes = ", ".join(f"{route} {n}" for route, n in failed.items())
        rows = [
            ("detection (fault → health check unhealthy)", _s(self.detection_seconds), scaled,
             _s(self.on_aws(self.detection_seconds)), "", ""),
            ("DNS switch (fault → DNS answers the secondary)", _s(self.dns_switch_seconds),
             scaled, _s(self.on_aws(self.dns_switch_seconds)), "", ""),
            ("requests failed before the secondary served, by route", routes, "", "", "", ""),
            ("RTO (first failed request → first served by the secondary)",
             _s(self.rto_seconds), scaled, _s(self.rto_aws_seconds),
             f"bound {bound:.2f} s ({self.on_aws(bound):.1f} s on AWS)",
             _verdict(self.rto_seconds, bound)),
            ("RTO against the recovery time objective (its AWS figure)", _s(self.rto_seconds),
             scaled, _s(self.rto_aws_seconds),
             f"objective {self.objective_seconds / 60:.0f} min on AWS",
             _verdict(self.rto_aws_seconds, self.objective_seconds)),
            ("RPO at the switch (writes not yet in the secondary: the window they span)",
             _window(self.rpo_items_at_switch, self.rpo_seconds_at_switch), real,
             _s(self.rpo_seconds_at_switch), "", ""),
            ("RPO after replication drained",
             _window(self.rpo_items_after_drain, self.rpo_seconds_after_drain), real,
             _s(self.rpo_seconds_after_drain), "0 writes",
             _verdict(self.rpo_items_after_drain, 0)),
            ("reconciled into the primary before/at fail-back", _n(self.reconciled_items),
             "", "", "", ""),
            ("acknowledged writes missing from the primary after fail-back",
             _n(self.lost_items), "", "", "0", _verdict(self.lost_items, 0)),
            ("probes throttled by Route 53 (recorded, value unknown)",
             f"{self.probes_throttled} of {len(self.probes)}", "", "", "", ""),
        ]
        for name, key in (("fail-back: restore → healthy", "healthy_seconds"),
                          ("fail-back: restore → DNS answers the primary", "dns_seconds"),
                          ("fail-back: restore → served by the primary", "served_seconds")):
            value = self.failback.get(key)
            rows.append((name, _s(value), scaled, _s(self.on_aws(value)), "", ""))
        # The measure as the index: shown whole and in bold (a column would be cut at 50).
        return whole(pd.DataFrame(rows, columns=["measure", "measured", "clock", "on AWS",
                                                 "compared with", "verdict"]).set_index("measure"))

    def summary(self) -> str:
        rto = ("n/a" if self.rto_seconds is None
               else describe(self.rto_seconds, self.time_scale, digits=2))
        how = "" if self.replication == "streams" else f" ({self.replication})"
        return (f"drill {self.scenario}{how}: RTO {rto}, bound "
                f"{self.theoretical_bound_seconds:.2f} s; "
                f"RPO {_window(self.rpo_items_at_switch, self.rpo_seconds_at_switch)} at the "
                f"switch, {_window(self.rpo_items_after_drain, self.rpo_seconds_after_drain)} "
                f"after drain (real time); {self.reconciled_items} reconciled, "
                f"{self.lost_items} lost")


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def _window(items: int | None, seconds: float | None) -> str:
    """An RPO: the writes the secondary lacked and the window of time they span."""
    if items is None:
        return "—"
    writes = "1 write" if items == 1 else f"{items} writes"
    return writes if seconds is None else f"{writes} in {seconds:.2f} s"


def _n(value: int | None) -> str:
    return "—" if value is None else str(value)


def _verdict(value: float | None, limit: float) -> str:
    if value is None:
        return ""
    return "ok" if value <= limit else "over"
