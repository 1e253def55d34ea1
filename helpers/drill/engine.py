"""Running a drill: traffic like a browser's, probes of health and DNS, the fault, the figures.

:func:`run` checks the scenario can be played (:func:`~helpers.drill.scenarios.check_ready`),
then :class:`_Drill` drives it: a traffic thread and a probe thread record what
users and Route 53 see, the scenario's fault is injected and undone, and
:meth:`_Drill._result` turns the records into a :class:`~helpers.drill.result.DrillResult`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import requests
from botocore.exceptions import ClientError

from helpers.aws import failover, pacing, replication, tickets
from helpers.aws.deployment import stack_outputs
from helpers.base import polling, ticket_ids
from helpers.base.errors import UsageError
from helpers.base.say import Say, or_quiet
from helpers.connect import net
from helpers.connect.session import client
from helpers.core import settings
from helpers.core.config import WorkshopConfig
from helpers.drill.bound import theoretical_bound
from helpers.drill.charts import LiveTimeline
from helpers.drill.result import DrillResult
from helpers.drill.scenarios import SCENARIOS, Scenario, check_ready

DEFAULT_RATE = 10.0  # requests per second
OPERATIONS = ("create", "list", "health")  # what the generator cycles through
REQUEST_TIMEOUT_S = 5
DRAIN_TIMEOUT_S = 60  # replication runs at real speed whatever the time scale
# Once failed over, keep the traffic on the secondary a while (at least this long, and until
# it has taken this many new tickets), so there is something to reconcile before fail-back.
HOLD_MIN_S = 1.0
HOLD_WRITES = 3
COLD_START_NOTE_S = 0.25
PROBE_COLUMNS = ("t", "healthy", "healthy_fraction", "dns_region", "throttled")


def run(config: WorkshopConfig | None = None, scenario: str = "bad-deploy",
        rate: float = DEFAULT_RATE, live: bool = False, progress: Say | None = None,
        replication: str = "streams") -> DrillResult:
    """Play one scenario under traffic and measure it; see :mod:`helpers.drill`.

    ``replication``: ``streams`` (the kit's replicator, notebook 03.2) or
    ``global-tables`` (a global table, notebook 04.1: checked first with
    :func:`helpers.aws.global_tables.is_global`). The RPO is measured the same way for
    both; with a global table the secondary's tickets come back to the primary by
    replication instead of :func:`reconcile`.
    """
    config = config or settings.resolve()
    if rate <= 0 or rate > 100:
        raise UsageError(f"--rate is requests per second, between 0 and 100 (got {rate})")
    check_ready(config, scenario, replication)
    return _Drill(config, SCENARIOS[scenario], rate, live, progress, replication).run()


@dataclass
class _Request:
    t: float  # sent, seconds since the drill began
    t_done: float  # answered (or failed)
    op: str
    ok: bool
    status: int | None  # None: no HTTP answer at all
    region: str | None  # X-Workshop-Region of the answer
    sent_to: str | None  # the region the client's (cached) DNS answer pointed at
    ticket_id: str | None = None
    error: str | None = None


class _Drill:
    def __init__(self, config: WorkshopConfig, scenario: Scenario, rate: float, live: bool,
                 progress: Say | None, replication: str = "streams") -> None:
        self.config = config
        self.replication = replication
        self.replicated_back = 0  # global tables: the secondary's tickets it brought back
        self.scenario = scenario
        self.rate = rate
        self.say = or_quiet(progress)
        self.primary, self.secondary = config.regions
        self.bound = theoretical_bound(config)
        self.time_scale = self.bound["time_scale"]
        self.api = failover.api_url(config)
        self.tables = {r: stack_outputs(config, "api", r)["TableName"] for r in config.regions}
        # Create the clients now: building one costs a burst of CPU that, mid-drill,
        # would stall the traffic and probe threads and show up as a gap in the timeline.
        for region in config.regions:
            client("dynamodb", region)
            client("lambda", region)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.started = time.monotonic()
        self.requests: list[_Request] = []
        self.probes: list[dict[str, Any]] = []
        self.moments: dict[str, float] = {}
        self.phase = "starting"
        self.rpo_at_switch: int | None = None
        self.rpo_window_at_switch: float | None = None
        self.rpo_window_after_drain: float | None = None
        self.notes: list[str] = []
        # Probe often enough to see sub-second flips in the sandbox, at most once a second
        # on AWS (Route 53 allows a handful of API calls per second per account).
        self.probe_interval = min(1.0, max(0.1, 2 * self.time_scale))
        self.live = LiveTimeline() if live else None

    def now(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def mark(self, name: str, at: float | None = None) -> float:
        with self.lock:
            self.moments.setdefault(name, self.now() if at is None else at)
            return self.moments[name]

    # -- the run
    def run(self) -> DrillResult:
        threads = [threading.Thread(target=self._traffic, name="drill-traffic", daemon=True),
                   threading.Thread(target=self._probe_loop, name="drill-probes", daemon=True)]
        for thread in threads:
            thread.start()
        injected = restored = False
        timeout = max(60.0, 5 * self.bound["seconds"] + 30)
        reconciled_before = reconciled_after = 0
        try:
            self._phase(f"baseline: {self.rate:g} requests/s through {self.api}")
            baseline = max(1.0, 4 * self.probe_interval, 6 / self.rate)
            self._wait(lambda: self.now() >= baseline and self._served_ok(self.primary, 0) >= 3
                       and self.probes, timeout=30,
                       what=f"the first requests to be served by {self.primary}")
            self._phase(f"fault: {self.scenario.description}")
            self.mark("fault_begin")
            self.scenario.inject(self.config)
            injected = True
            fault = self.mark("fault")
            self._wait(lambda: "dns_switch" in self.moments
                       and self._first_ok(self.secondary, fault) is not None,
                       timeout=timeout, what=f"requests to be served by {self.secondary}")
            self._phase(f"failed over: {self.secondary} serves and takes new tickets")
            held = self.now() + HOLD_MIN_S
            self._wait(lambda: self.now() >= held
                       and len(self._acknowledged(self.secondary)) >= HOLD_WRITES,
                       timeout=timeout, what=f"{HOLD_WRITES} tickets written to {self.secondary}")
            self._phase("drain: waiting for replication to deliver every acknowledged write")
            rpo_after = self._drain()
            self._phase("reconcile: copying the secondary's new tickets into the primary"
                        if self.replication == "streams" else
                        "reconcile: waiting for the global table to bring the secondary's new "
                        "tickets to the primary")
            reconciled_before = self._reconcile()
            self._phase("restore: undoing the fault; waiting for the fail-back")
            self.mark("restore_begin")
            self.scenario.restore(self.config)
            restored = True
            back = self.mark("restore")
            self._wait(lambda: self._first_ok(self.primary, back) is not None
                       and self._probe_after(back, "dns_region", self.primary) is not None
                       and self._probe_after(back, "healthy", True) is not None,
                       timeout=timeout, what=f"requests to be served by {self.primary} again")
            linger = self.now() + max(0.5, 3 / self.rate)
            self._wait(lambda: self.now() >= linger, timeout=10, what="the last requests")
        finally:
            self.stop.set()
            for thread in threads:
                thread.join(REQUEST_TIMEOUT_S + 2)
            if injected and not restored:
                with contextlib.suppress(Exception):  # the original error matters more
                    self.scenario.restore(self.config)
                self.say(f"the fault was undone ({self.scenario.name})")
        # Writes the secondary took while clients still held its address, after the first pass.
        reconciled_after = self._reconcile()
        lost = self._missing(self.primary, self._acknowledged())
        self._phase("done")
        result = self._result(final=True)
        result.rpo_items_after_drain = rpo_after
        result.rpo_seconds_after_drain = self.rpo_window_after_drain
        result.reconciled_before_failback = reconciled_before
        result.reconciled_items = reconciled_before + reconciled_after
        result.lost_items = len(lost)
        if self.replication == "global-tables":
            result.notes.append(f"the global table brought {self.replicated_back} ticket(s) "
                                "written in the secondary to the primary by itself: nothing "
                                "was copied")
        failed = result.failed_by_route()
        if any(failed.values()) and not result.user_requests_failed:
            result.notes.append(
                "only GET /health failed: this fault breaks the health route alone, so the RTO "
                "is the outage of /health (what the web UI's banner calls); ticket requests "
                f"were still served by {self.primary} until clients followed DNS")
        if lost:
            result.notes.append(f"{len(lost)} acknowledged write(s) missing from the primary: "
                                + ", ".join(sorted(lost)[:5]))
        if result.probes_throttled:
            result.notes.append(
                f"{result.probes_throttled} of {len(result.probes)} probe(s) were throttled by "
                "Route 53 (the account's GetHealthCheckStatus or overall rate): each can put off "
                "the detection or the DNS switch measured by one probe interval "
                f"({self.probe_interval:g} s)")
        if self.live:
            self.live.update(result, force=True)
        self.say(result.summary())
        return result

    def _phase(self, text: str) -> None:
        self.phase = text
        self.say(f"[{self.now():6.2f} s] {text}")
        if self.live:
            self.live.update(self._result(final=False), force=True)

    def _wait(self, condition: Callable[[], Any], timeout: float, what: str) -> None:
        def redraw() -> None:
            if self.live and self.live.due():
                self.live.update(self._result(final=False))

        polling.wait_until(condition, timeout, interval=0.05, what=what, between=redraw,
                           detail=lambda: f"last probe: {self.probes[-1] if self.probes else None}")

    # -- traffic
    def _traffic(self) -> None:
        interval = 1 / self.rate
        next_at = time.monotonic()
        count = 0
        while not self.stop.is_set():
            op = OPERATIONS[count % len(OPERATIONS)]
            count += 1
            record = self._request(op, count)
            with self.lock:
                self.requests.append(record)
            next_at = max(next_at + interval, time.monotonic() - interval)
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    def _request(self, op: str, count: int) -> _Request:
        host = self.config.api_host()
        sent_to = None
        with contextlib.suppress(Exception):
            sent_to = failover.answer_region(net.resolve_cached(host))
        t = self.now()
        try:
            if op == "create":
                response = net.request(
                    "POST", tickets.endpoint(self.api, "ticket"), timeout=REQUEST_TIMEOUT_S,
                    json={"description": f"drill {self.scenario.name} #{count}",
                          "createdBy": "drill", "priority": "low"})
            elif op == "list":
                response = net.request("GET", tickets.endpoint(self.api, "ticket"),
                                       params={"limit": 5}, timeout=REQUEST_TIMEOUT_S)
            else:
                response = net.request("GET", tickets.endpoint(self.api, "health"),
                                       timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException as exc:
            return _Request(t, self.now(), op, False, None, None, sent_to,
                            error=type(exc).__name__)
        ok = 200 <= response.status_code < 300
        ticket_id = None
        if ok and op == "create":
            try:
                ticket_id = response.json()["id"]
            except (ValueError, KeyError, TypeError):
                ok = False
        return _Request(t, self.now(), op, ok, response.status_code,
                        response.headers.get(tickets.REGION_HEADER), sent_to, ticket_id,
                        None if ok else response.text[:120])

    # -- probes
    def _probe_loop(self) -> None:
        while not self.stop.is_set():
            sample = self._probe()
            with self.lock:
                self.probes.append(sample)
            self._on_probe(sample)
            self.stop.wait(self.probe_interval)

    def _probe(self) -> dict[str, Any]:
        """One sample of what Route 53 answers and decides. A request Route 53 throttled is
        recorded as throttled (its value unknown), not retried: a retry would date the sample
        late, and a dropped one would hide why detection waited."""
        sample: dict[str, Any] = {"healthy": None, "healthy_fraction": None,
                                  "dns_region": None, "throttled": False}
        # Route 53's answer first: it follows the check's verdict at once, so asked after
        # the verdict it could show a switch the same sample's verdict has not caught up with.
        try:
            sample["dns_region"] = failover.answer_region(failover.dns_answer(self.config, "api"))
        except Exception as exc:  # noqa: BLE001 - a failed probe is a gap, not a crash
            sample["throttled"] |= _throttled(exc)
        try:
            healthy, observations = failover.health_check_status(self.config, retries=False)
            sample.update(healthy=healthy,
                          healthy_fraction=failover.healthy_fraction(observations))
        except Exception as exc:  # noqa: BLE001 - as above
            sample["throttled"] |= _throttled(exc)
        sample["t"] = self.now()
        return sample

    def _on_probe(self, sample: dict[str, Any]) -> None:
        begin = self.moments.get("fault_begin")
        if begin is None or "restore_begin" in self.moments:
            return
        if sample["healthy"] is False:
            self.mark("detected", sample["t"])
        if sample["dns_region"] == self.secondary and "dns_switch" not in self.moments:
            switch = self.mark("dns_switch", sample["t"])
            # What a client switching now would miss: acknowledged by the primary, not yet
            # in the secondary. Measured here, on the probe's thread, so no later catch-up hides it.
            try:
                acked = self._acknowledged(self.primary, until=switch)
                missing = self._missing(self.secondary, acked)
                self.rpo_at_switch = len(missing)
                self.rpo_window_at_switch = self._window(missing, switch)
            except Exception as exc:  # noqa: BLE001 - reported, not fatal
                self.notes.append(f"could not measure the RPO at the switch: {exc}")

    # -- data questions
    def _served_ok(self, region: str, since: float) -> int:
        with self.lock:
            return sum(r.ok and r.region == region and r.t >= since for r in self.requests)

    def _first_ok(self, region: str, since: float) -> float | None:
        with self.lock:
            return next((r.t_done for r in self.requests
                         if r.ok and r.region == region and r.t >= since), None)

    def _probe_after(self, since: float, column: str, value: Any) -> float | None:
        with self.lock:
            return next((p["t"] for p in self.probes if p["t"] >= since and p[column] == value),
                        None)

    def _acknowledged(self, region: str | None = None, until: float | None = None) -> list[str]:
        with self.lock:
            return [r.ticket_id for r in self.requests
                    if r.ticket_id and (region is None or r.region == region)
                    and (until is None or r.t_done <= until)]

    def _window(self, ids: set[str], until: float) -> float:
        """The RPO as time: from the acknowledgement of the oldest of ``ids`` (writes the
        secondary lacks) to ``until``; 0.0 when there are none."""
        with self.lock:
            acked = [r.t_done for r in self.requests if r.ticket_id in ids]
        return round(max(0.0, until - min(acked)), 3) if acked else 0.0

    def _missing(self, region: str, ids: list[str]) -> set[str]:
        """Which of ``ids`` the region's table does not hold (consistent BatchGetItem)."""
        return ticket_ids.missing(client("dynamodb", region), self.tables[region], ids)

    def _reconcile(self) -> int:
        """Streams: copy the secondary's tickets into the primary (how many). Global tables:
        wait until replication has brought them (nothing copied: 0)."""
        if self.replication == "streams":
            return reconcile(self.config)
        pending = set(self._acknowledged(self.secondary))
        wanted = len(pending)

        def arrived() -> bool:
            nonlocal pending
            pending = self._missing(self.primary, sorted(pending))
            return not pending

        with contextlib.suppress(TimeoutError):  # what is missing shows up as lost_items
            polling.wait_until(arrived, DRAIN_TIMEOUT_S, interval=0.1,
                               what="the global table to replicate back")
        self.replicated_back = max(self.replicated_back, wanted - len(pending))
        return 0

    def _drain(self) -> int:
        """Wait until the secondary holds every write the primary acknowledged; what is left."""
        pending = set(self._acknowledged(self.primary))

        def drained() -> bool:
            nonlocal pending
            pending = self._missing(self.secondary, sorted(pending))
            return not pending

        with contextlib.suppress(TimeoutError):  # what is left is reported, not raised
            polling.wait_until(drained, DRAIN_TIMEOUT_S, interval=0.1, what="replication")
        drained_at = self.mark("drained")
        self.rpo_window_after_drain = self._window(pending, drained_at)
        if pending:
            self.notes.append(f"{len(pending)} acknowledged write(s) still not replicated after "
                              f"{DRAIN_TIMEOUT_S} s: is the replication stack healthy?")
        return len(pending)

    # -- the figures
    def _result(self, final: bool) -> DrillResult:
        with self.lock:
            frame = pd.DataFrame([vars(r) for r in self.requests],
                                 columns=list(_Request.__dataclass_fields__))
            probes = pd.DataFrame(self.probes, columns=list(PROBE_COLUMNS))
            moments = dict(self.moments)
        result = DrillResult(
            scenario=self.scenario.name, description=self.scenario.description,
            rate=self.rate, primary=self.primary, secondary=self.secondary,
            time_scale=self.time_scale, theoretical_bound_seconds=self.bound["seconds"],
            bound_inputs=self.bound, requests=frame, probes=probes,
            phase="done" if final else self.phase, notes=list(self.notes),
            replication=self.replication)
        fault = moments.get("fault")
        begin = moments.get("fault_begin", fault)
        if fault is not None:
            detected = moments.get("detected")
            switch = moments.get("dns_switch")
            result.detection_seconds = _since(detected, fault)
            result.dns_switch_seconds = _since(switch, fault)
            restore_at = moments.get("restore_begin", float("inf"))
            during = frame[(frame["t_done"] >= begin) & (frame["t"] < restore_at)]
            served = during[during["ok"] & (during["region"] == self.secondary)]
            if not served.empty:
                moments["recovered"] = float(served["t_done"].iloc[0])
                took = float(served["t_done"].iloc[0] - served["t"].iloc[0])
                result.secondary_first_request_seconds = round(took, 3)
                if final and took > COLD_START_NOTE_S:
                    result.notes.append(
                        f"the first request {self.secondary} served took {took:.2f} s of the "
                        "RTO (most likely a cold start: its functions had no traffic before)")
            # The outage a user sees: failures before the secondary first answered them.
            failed = during[~during["ok"] & (during["t"] < moments.get("recovered", restore_at))]
            if not failed.empty:
                moments["first_failure"] = max(float(failed["t"].iloc[0]), begin)
            if "recovered" in moments:
                start = moments.get("first_failure")
                result.rto_seconds = (round(moments["recovered"] - start, 3)
                                      if start is not None else 0.0)
                if start is None and final:
                    result.notes.append("no user request failed: the fault never reached a "
                                        "user (RTO 0)")
            result.rpo_items_at_switch = self.rpo_at_switch
            result.rpo_seconds_at_switch = self.rpo_window_at_switch
        back = moments.get("restore")
        if back is not None:
            healthy = self._probe_after(back, "healthy", True)
            dns = self._probe_after(back, "dns_region", self.primary)
            served_back = self._first_ok(self.primary, back)
            for name, at in (("healthy_again", healthy), ("dns_back", dns),
                             ("served_back", served_back)):
                if at is not None:
                    moments[name] = at
            result.failback = {"healthy_seconds": _since(healthy, back),
                               "dns_seconds": _since(dns, back),
                               "served_seconds": _since(served_back, back)}
        result.moments = {k: round(v, 3) for k, v in sorted(moments.items(), key=lambda i: i[1])}
        return result


def _throttled(exc: Exception) -> bool:
    """Whether ``exc`` is an AWS API's answer that the request was over a quota."""
    return (isinstance(exc, ClientError)
            and exc.response.get("Error", {}).get("Code") in pacing.THROTTLED)


def _since(at: float | None, start: float) -> float | None:
    return None if at is None else round(max(0.0, at - start), 3)


def reconcile(config: WorkshopConfig) -> int:
    """Copy into the primary the tickets the secondary holds and the primary lacks or holds older.

    Replication runs primary → secondary only, so tickets created during a
    failover live in the secondary alone. This is :func:`helpers.aws.replication.backfill`
    in the other direction, with the replicator's own rule (a newer
    ``updatedAt`` is never overwritten). Idempotent; returns how many items were copied.
    """
    primary, secondary = config.regions
    return replication.copy_newer(config, secondary, primary,
                                  retry_hint="run drill.reconcile(config) again")
