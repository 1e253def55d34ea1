"""The failover drill on a fresh sandbox: every scenario fails over in time and loses nothing.

One workshop is deployed for the module (``full_workshop``, through module
3.3). Each scenario runs the whole drill under traffic: fault, failover,
drain, reconcile, restore, fail-back. The bound is the health check's request
interval x failure threshold + the DNS TTL, on the sandbox clock.

Then, on the same deployment, the drill on a global table (``workshop drill
--replication global-tables``): refused, in one line, while the tables are not global;
after the conversion of module 4.1 (helpers.aws.global_tables.convert) the same drill fails
over within the bound, and the global table replicates every acknowledged write both ways
(RPO after drain 0, nothing lost). The conversion cannot be undone, so the module's tests
run in file order, the conversion's last (one deployment for both, not two).
"""

from __future__ import annotations

import json

import matplotlib.image
import pytest

from helpers import cli, drill
from helpers.aws import deployment, failover, global_tables, tickets
from helpers.base import polling
from helpers.connect import net, session
from helpers.connect import sandbox_admin as admin
from helpers.core.config import WorkshopConfig
from workshop_sandboxes import module_sandbox_at_workshop_clock  # noqa: F401  (our `sandbox`)

pytestmark = pytest.mark.story  # the conversion to a global table comes last

RATE = 10.0  # requests per second


def within_bound(result: drill.DrillResult) -> float:
    """The bound on the sandbox clock with the margin notebook 04 uses too."""
    return drill.within_bound(result.theoretical_bound_seconds)


def assert_failed_over_and_back_losing_nothing(result: drill.DrillResult) -> None:
    assert result.rto_seconds is not None, result.notes
    assert result.rto_seconds <= within_bound(result), result.table()
    assert result.detection_seconds is not None and result.dns_switch_seconds is not None
    assert result.detection_seconds <= result.dns_switch_seconds + 0.5
    assert result.rpo_items_after_drain == 0
    assert result.lost_items == 0, result.notes
    counts = result.counts()
    assert counts[f"served_by_{result.secondary}"] > 0  # the secondary really took traffic
    assert counts["writes_acknowledged"] > 0
    assert result.failback["served_seconds"] is not None  # traffic came back to the primary
    # The RPO as a window of time (real time), beside the writes it counts.
    assert result.rpo_seconds_at_switch is not None and result.rpo_seconds_at_switch >= 0
    if result.rpo_items_at_switch == 0:
        assert result.rpo_seconds_at_switch == 0.0
    assert result.rpo_seconds_after_drain == 0.0
    # Every duration of the table with its clock and its AWS figure.
    shown = result.table()
    detection = shown.loc["detection (fault → health check unhealthy)"]
    assert detection["clock"] == f"sandbox's, scale {result.time_scale:g}"
    assert float(detection["on AWS"].split()[0]) == round(
        result.detection_seconds / result.time_scale, 2)


def test_bad_deploy_drill_prints_json_within_the_bound_and_loses_nothing(
        full_workshop, capsys, monkeypatch, tmp_path):
    config = full_workshop
    monkeypatch.setattr(session, "_chosen_mode", "sandbox")  # the command chooses it
    chart = tmp_path / "timeline.png"
    code = cli.main(["drill", "--scenario", "bad-deploy", "--rate", str(RATE), "--json",
                     "--chart", str(chart), "--prefix", config.prefix, "--domain", config.domain])
    assert code == 0
    report = json.loads(capsys.readouterr().out)  # --chart keeps stdout JSON only
    # --chart: the timeline a learner opens, a PNG of a readable size
    assert chart.read_bytes().startswith(b"\x89PNG")
    height, width = matplotlib.image.imread(chart).shape[:2]
    assert width >= 600 and height >= 400, (width, height)
    for key in ("rto_seconds", "theoretical_bound_seconds", "detection_seconds",
                "dns_switch_seconds", "rpo_items_at_switch", "rpo_items_after_drain",
                "reconciled_items", "time_scale", "scenario"):
        assert key in report, key
    assert report["scenario"] == "bad-deploy"
    assert report["time_scale"] == net.time_scale()
    assert report["rto_seconds"] <= drill.within_bound(report["theoretical_bound_seconds"]), report
    assert report["rpo_items_after_drain"] == 0
    assert report["lost_items"] == 0
    # Writes the secondary took during the failover came back to the primary.
    assert report["reconciled_items"] >= 1
    assert report["meets_objective"] is True
    # A bad deploy breaks /health alone: the RTO is that route's outage, and the drill says so.
    failed = report["failed_by_route"]
    assert failed["GET /health"] > 0 and failed["POST /ticket"] == failed["GET /ticket"] == 0
    assert any(note.startswith("only GET /health failed") for note in report["notes"])
    assert report["rpo_seconds_at_switch"] >= 0 and report["rpo_seconds_after_drain"] == 0.0


def test_throttled_primary_fails_over_within_the_bound_and_back_losing_nothing(full_workshop):
    result = drill.run(full_workshop, scenario="throttle", rate=RATE)
    assert_failed_over_and_back_losing_nothing(result)
    failed = result.requests[~result.requests["ok"]]
    assert set(failed["status"].dropna().astype(int)) <= {429, 502}
    assert result.user_requests_failed  # every route fails: the RTO is every user's
    assert not any(note.startswith("only GET /health") for note in result.notes)
    assert not drill.throttled(full_workshop)  # reserved concurrency removed again


def test_region_outage_fails_over_within_the_bound_and_back_losing_nothing(full_workshop):
    result = drill.run(full_workshop, scenario="region-outage", rate=RATE)
    assert_failed_over_and_back_losing_nothing(result)
    failed = result.requests[~result.requests["ok"]]
    assert failed["status"].isna().all()  # connection refused: no HTTP answer at all
    assert admin.regions_available()[full_workshop.primary_region] is True
    figure = drill.drill_timeline(result)
    title = figure.texts[0].get_text() if figure.texts else figure._suptitle.get_text()
    assert "RTO" in title and "RPO" in title
    assert "time scale" in figure.axes[-1].get_xlabel()


def test_restore_undoes_every_fault_in_place_and_the_primary_serves_again(
        full_workshop, capsys, monkeypatch):
    config = full_workshop
    monkeypatch.setattr(session, "_chosen_mode", "sandbox")
    argv = ["drill", "--restore", "--prefix", config.prefix, "--domain", config.domain]
    bound = drill.within_bound(drill.theoretical_bound(config)["seconds"])
    for scenario in drill.SCENARIOS.values():  # all three faults at once: the worst case
        scenario.inject(config)
    failover.wait_until_unhealthy(config, timeout=bound)

    assert cli.main(argv) == 0
    assert "restored: bad-deploy, throttle, region-outage" in capsys.readouterr().out
    assert not drill.throttled(config)
    assert admin.regions_available()[config.primary_region] is True
    # The health check turns healthy again and DNS answers the primary, as a drill needs.
    polling.wait_until(
        lambda: (failover.health_check_status(config)[0]
                 and failover.answer_region(failover.dns_answer(config, "api"))
                 == config.primary_region),
        timeout=bound, what="the health check and DNS back on the primary")
    drill.check_ready(config, "bad-deploy")  # a new drill may start

    assert cli.main(argv) == 0  # safe to run again: nothing left to undo
    assert "no fault was in place" in capsys.readouterr().out


def test_drill_says_what_is_missing_on_a_workshop_not_deployed(sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    config = WorkshopConfig(mode="sandbox", prefix="nothing-here", domain="nothing.example.com")
    with pytest.raises(drill.DrillNotReady, match="notebook 03.3.*api stack nothing-here-api"):
        drill.run(config)


def test_region_outage_is_refused_on_aws_instead_of_skipped(monkeypatch):
    monkeypatch.setattr(session, "_chosen_mode", "aws")  # as `workshop --mode aws` chooses it
    config = WorkshopConfig(mode="aws")
    with pytest.raises(drill.DrillUnavailable, match="not available on AWS"):
        drill.run(config, scenario="region-outage")
    with pytest.raises(admin.NotInSandbox, match="not available on AWS"):
        admin.set_region_available("eu-west-1", False)


# ---------------------------------------------------------------- on a global table (4.1)


def _drill(config, capsys, *extra: str) -> tuple[int, str, str]:
    code = cli.main(["drill", "--scenario", "bad-deploy", "--rate", str(RATE),
                     "--prefix", config.prefix, "--domain", config.domain, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_global_tables_drill_is_refused_in_one_line_before_the_conversion(
        full_workshop, capsys, monkeypatch):
    monkeypatch.setattr(session, "_chosen_mode", "sandbox")  # the command chooses it
    code, _out, err = _drill(full_workshop, capsys, "--replication", "global-tables")
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "not" in errors[0] and "global table" in errors[0], err
    assert "04.1" in errors[0]


def test_after_the_conversion_the_drill_fails_over_within_the_bound_losing_nothing(
        full_workshop):
    config = full_workshop
    global_tables.convert(config)
    assert global_tables.is_global(config)
    # As notebook 04.1 does after converting: a ticket written in the secondary reaches the
    # primary (its functions were redeployed by the conversion, and this is their first call).
    made = tickets.create_ticket(deployment.api_url(config, config.secondary_region),
                                 description="after the conversion")["id"]
    net.wait_until(lambda: made in {t["id"] for t in tickets.all_tickets(
        deployment.api_url(config, config.primary_region))}, timeout=30,
        what="the secondary's ticket to reach the primary")
    result = drill.run(config, scenario="bad-deploy", rate=RATE, replication="global-tables")
    report = result.as_dict()
    assert report["replication"] == "global-tables"
    failed = result.requests[~result.requests["ok"]]
    assert result.rto_seconds is not None, result.notes
    assert result.rto_seconds <= drill.within_bound(result.theoretical_bound_seconds), (
        result.table(), result.moments, failed[["t", "t_done", "op", "status", "sent_to",
                                                "error"]].to_string())
    assert report["rpo_items_after_drain"] == 0
    assert report["lost_items"] == 0, result.notes
    assert report["reconciled_items"] == 0  # nothing copied: the global table brought them
    assert report["counts"][f"served_by_{config.secondary_region}"] > 0


def test_the_streams_drill_on_a_global_table_points_at_global_tables(
        full_workshop, capsys, monkeypatch):
    monkeypatch.setattr(session, "_chosen_mode", "sandbox")
    code, _out, err = _drill(full_workshop, capsys)
    assert code == 2
    assert "--replication global-tables" in err
