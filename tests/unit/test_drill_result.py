"""The drill's table as a learner reads it (helpers.drill.result): every duration with its
clock and its figure on AWS's clock, the RPO as a window of time, and which routes failed,
so the RTO says whose outage it measures; the timeline's title says the same."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pandas as pd

from helpers.drill import charts, engine
from helpers.drill.result import DrillResult


def _request(t: float, op: str, ok: bool, region: str, ticket: str | None = None) -> dict:
    return {"t": t, "t_done": t + 0.05, "op": op, "ok": ok, "status": 200 if ok else 400,
            "region": region, "sent_to": region, "ticket_id": ticket, "error": None}


def result(failing: tuple[str, ...] = ("health",), time_scale: float = 0.1) -> DrillResult:
    """A drill on the sandbox's clock: the fault at 1.0 s, ``failing`` routes fail on the
    primary until the secondary serves from 2.5 s."""
    rows = []
    for i, t in enumerate(x / 10 for x in range(40)):
        op = ("create", "list", "health")[i % 3]
        region = "eu-west-1" if t < 2.5 else "ap-southeast-1"
        ok = not (1.0 <= t < 2.5 and op in failing)
        rows.append(_request(t, op, ok, region, f"id-{i}" if op == "create" and ok else None))
    drill = DrillResult(scenario="bad-deploy", description="", rate=10, primary="eu-west-1",
                        secondary="ap-southeast-1", time_scale=time_scale,
                        theoretical_bound_seconds=7.0, bound_inputs={},
                        requests=pd.DataFrame(rows))
    drill.moments = {"fault": 1.0, "recovered": 2.55, "restore": 3.5}
    drill.detection_seconds, drill.dns_switch_seconds, drill.rto_seconds = 1.06, 1.06, 1.45
    drill.rpo_items_at_switch, drill.rpo_seconds_at_switch = 2, 0.84
    drill.rpo_items_after_drain, drill.rpo_seconds_after_drain = 0, 0.0
    drill.failback = {"healthy_seconds": 0.58, "dns_seconds": 0.58, "served_seconds": 2.79}
    return drill


def test_every_duration_gives_its_clock_and_its_aws_figure():
    shown = result().table()
    detection = shown.loc["detection (fault → health check unhealthy)"]
    assert (detection["measured"], detection["on AWS"]) == ("1.06 s", "10.60 s")
    assert detection["clock"] == "sandbox's, scale 0.1"
    rto = next(row for name, row in shown.iterrows() if name.startswith("RTO (first"))
    assert (rto["measured"], rto["on AWS"]) == ("1.45 s", "14.50 s")
    assert rto["compared with"] == "bound 7.00 s (70.0 s on AWS)" and rto["verdict"] == "ok"
    back = shown.loc["fail-back: restore → healthy"]
    assert (back["measured"], back["on AWS"]) == ("0.58 s", "5.80 s")
    # On AWS there is one clock: the AWS figure is the measured one.
    on_aws = result(time_scale=1.0).table().loc["detection (fault → health check unhealthy)"]
    assert on_aws["on AWS"] == on_aws["measured"] and on_aws["clock"] == "AWS's own"


def test_the_rpo_is_a_window_of_time_in_real_time():
    shown = result().table()
    at_switch = next(row for name, row in shown.iterrows() if name.startswith("RPO at"))
    assert at_switch["measured"] == "2 writes in 0.84 s"
    assert (at_switch["clock"], at_switch["on AWS"]) == ("real time", "0.84 s")  # not scaled
    drained = shown.loc["RPO after replication drained"]
    assert (drained["measured"], drained["verdict"]) == ("0 writes in 0.00 s", "ok")
    assert result().as_dict()["rpo_seconds_at_switch"] == 0.84
    assert "RPO 2 writes in 0.84 s at the switch (real time)" in charts._title(result())
    assert "≈ 14.5 s on AWS" in charts._title(result())


def test_the_table_says_which_routes_failed_so_the_rto_names_whose_outage_it_is():
    bad_deploy = result(failing=("health",))
    assert bad_deploy.failed_by_route() == {"POST /ticket": 0, "GET /ticket": 0,
                                            "GET /health": 5}
    assert not bad_deploy.user_requests_failed  # the RTO is /health's outage
    row = "requests failed before the secondary served, by route"
    assert bad_deploy.table().loc[row, "measured"] == (
        "POST /ticket 0, GET /ticket 0, GET /health 5")
    everything = result(failing=("create", "list", "health"))
    assert everything.user_requests_failed and everything.failed_by_route()["GET /ticket"] == 5


def test_the_rpo_window_runs_from_the_oldest_missing_write_to_the_switch():
    lock = threading.Lock()
    requests = [engine._Request(t, t + 0.1, "create", True, 200, "eu-west-1", "eu-west-1",
                                ticket_id=f"id-{t}") for t in (1.0, 2.0, 3.0)]
    drill = SimpleNamespace(lock=lock, requests=requests)
    assert engine._Drill._window(drill, {"id-2.0", "id-3.0"}, until=3.5) == 1.4  # 3.5 - 2.1
    assert engine._Drill._window(drill, set(), until=3.5) == 0.0
