"""The drill records a probe Route 53 throttled as throttled, counts it and shows the count:
never dropped (helpers.drill.engine's probe, helpers.drill.result's table)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pandas as pd
import pytest
from botocore.exceptions import ClientError

from helpers.aws import failover
from helpers.aws.failover import health_check
from helpers.core.config import WorkshopConfig
from helpers.drill import charts, engine
from helpers.drill.result import DrillResult


class _Route53:
    """A Route 53 client whose GetHealthCheckStatus answers with the next of ``answers``
    (an exception is raised)."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def get_health_check_status(self, HealthCheckId: str) -> dict[str, Any]:  # noqa: N803
        self.asked.append(HealthCheckId)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


THROTTLED = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"},
                         "ResponseMetadata": {"HTTPStatusCode": 400}}, "GetHealthCheckStatus")
HEALTHY = {"HealthCheckObservations": [
    {"Region": "eu-west-1", "IPAddress": "192.0.2.1",
     "StatusReport": {"Status": "Success: HTTP Status Code 200, OK"}}]}


@pytest.fixture()
def drill(monkeypatch):
    """A drill as far as its probe needs (no sandbox, no deployment), and the fake client
    its health-check probe reaches (made without SDK retries, as the probe asks)."""
    config = WorkshopConfig(mode="sandbox", prefix=f"p{uuid.uuid4().hex[:6]}")
    monkeypatch.setitem(health_check._check_ids, health_check._check_key(config),
                        f"check-{uuid.uuid4().hex[:8]}")
    route53 = _Route53([])
    made: list[bool] = []

    def client(service: str, region: str, retries: bool = True) -> _Route53:
        assert service == "route53"
        made.append(retries)
        return route53

    monkeypatch.setattr(health_check, "client", client)
    monkeypatch.setattr(health_check, "route53", lambda: client("route53", "us-east-1"))

    def no_dns(*_: Any) -> Any:
        raise OSError("no DNS in a unit test")  # a gap, not a throttle

    monkeypatch.setattr(failover, "dns_answer", no_dns)
    run = object.__new__(engine._Drill)
    run.config = config
    run.started = time.monotonic()
    run.route53, run.made = route53, made
    return run


def test_a_throttled_probe_is_recorded_as_throttled_and_counted(drill):
    drill.route53.answers[:] = [THROTTLED]
    sample = drill._probe()
    assert drill.made == [False]  # no SDK retries: a retry would date the sample late
    assert sample["throttled"] is True
    assert sample["healthy"] is None and sample["healthy_fraction"] is None
    assert "t" in sample

    time.sleep(0.01)
    health_check._recent_status.clear()
    drill.route53.answers[:] = [HEALTHY]
    answered = drill._probe()
    assert answered["throttled"] is False and answered["healthy"] is True
    assert answered["dns_region"] is None  # a failed DNS probe is a gap, not a throttle

    result = DrillResult(scenario="bad-deploy", description="", rate=1.0, primary="eu-west-1",
                         secondary="ap-southeast-1", time_scale=1.0,
                         theoretical_bound_seconds=1.0, bound_inputs={},
                         probes=pd.DataFrame([sample, answered],
                                             columns=list(engine.PROBE_COLUMNS)))
    assert result.probes_throttled == 1
    assert result.counts()["probes_throttled"] == 1 and result.counts()["probes"] == 2
    assert result.as_dict()["counts"]["probes_throttled"] == 1
    shown = result.table()
    row = next(m for m in shown.index if m.startswith("probes throttled"))
    assert shown.loc[row, "measured"] == "1 of 2"
    # The timeline marks it, and says so in its legend.
    assert charts._throttled(result.probes).tolist() == [True, False]
    figure = charts.drill_timeline(result)
    labels = [text.get_text() for text in figure.axes[-1].get_legend().get_texts()]
    assert "probe throttled" in labels


def test_another_error_is_a_gap_not_a_throttle(drill):
    drill.route53.answers[:] = [ClientError({"Error": {"Code": "InternalError"}},
                                            "GetHealthCheckStatus")]
    sample = drill._probe()
    assert sample["throttled"] is False and sample["healthy"] is None


def test_status_answers_are_shared_for_a_second_so_one_learner_asks_at_most_once_a_second(
        drill, monkeypatch):
    """STATUS_REUSE_SECONDS: every caller of the process shares an answer for a second of
    AWS's clock, GetHealthCheckStatus's sustained rate (one a second, burst four)."""
    monkeypatch.setattr(health_check.net, "time_scale", lambda: 0.05)  # 50 ms of the sandbox
    health_check._recent_status.clear()
    drill.route53.answers[:] = [HEALTHY] * 10
    started = time.monotonic()
    while time.monotonic() - started < 0.2:
        failover.health_check_status(drill.config)
    # 0.2 s at 50 ms a second: at most four seconds of AWS's clock, at most five requests.
    assert 1 <= len(drill.route53.asked) <= 5
