"""One clock: every AWS duration the sandbox imposes or models is declared once, in
helpers/sandbox/clock.py, with its clock (scaled or real time), and docs/aws-limits.md
says the same: its clock table lists every entry with its AWS figure and clock, and the
page names no scaled or real-time figure, and no quota window, that the table lacks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.sandbox import clock
from helpers.sandbox.clock import REAL, SCALED, Clock, Duration
from helpers.views import charts

ROOT = Path(__file__).resolve().parents[2]
LIMITS = ROOT / "docs" / "aws-limits.md"
SANDBOX = ROOT / "helpers" / "sandbox"
UNITS = {"ms": 0.001, "s": 1, "second": 1, "seconds": 1, "minute": 60, "minutes": 60,
         "hour": 3600, "hours": 3600}


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def doc_table(text: str) -> dict[str, dict[str, str]]:
    """The clock table of docs/aws-limits.md: the rows after its marker comment, by name."""
    _, marker, rest = text.partition("<!-- clock table:")
    assert marker, "docs/aws-limits.md has no clock table (its marker comment is missing)"
    lines = rest.splitlines()[1:]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = dict(zip(header, (c.strip() for c in line.strip().strip("|").split("|")),
                         strict=True))
        name = cells["duration"].strip("`")
        assert name not in rows, f"{name} is listed twice"
        rows[name] = cells
    return rows


def seconds_in(cell: str) -> float:
    """ "172,800 s" -> 172800.0"""
    match = re.fullmatch(r"(\d[\d,]*(?:\.\d+)?) s", cell)
    assert match, f"not a figure in seconds: {cell!r}"
    return _number(match[1])


def table_disagreements(text: str) -> list[str]:
    """What the page's clock table says otherwise than helpers.sandbox.clock."""
    rows, found = doc_table(text), []
    for name in sorted(set(clock.TABLE) - set(rows)):
        found.append(f"{name}: in helpers/sandbox/clock.py, not in the doc's table")
    for name in sorted(set(rows) - set(clock.TABLE)):
        found.append(f"{name}: in the doc's table, not in helpers/sandbox/clock.py")
    for name in sorted(set(rows) & set(clock.TABLE)):
        entry, row = clock.TABLE[name], rows[name]
        if seconds_in(row["AWS"]) != entry.aws_s:
            found.append(f"{name}: the doc says {row['AWS']} on AWS, the clock {entry.aws_s:g} s")
        if row["clock"] != entry.clock:
            found.append(f"{name}: the doc says {row['clock']}, the clock {entry.clock}")
        least = seconds_in(row["least"]) if row["least"] else 0.0
        if least != entry.least_s:
            found.append(f"{name}: the doc says at least {row['least'] or 0}, the clock "
                         f"{entry.least_s:g} s")
    return found


_MARKED = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(ms|s|seconds?|minutes?|hours?)\s*"
                     r"\((scaled|real time)\b")
_RATE = re.compile(r"\bper (?:(\d[\d,]*(?:\.\d+)?) s\b|(second))")


def unknown_figures(text: str) -> list[str]:
    """Figures the page marks (scaled) or (real time), or names as a quota's window, that
    no entry of the table has (outside the table itself)."""
    prose = text.split("<!-- clock table:")[0] + text.split("<!-- clock table:")[1].split(
        "\n\n", 1)[-1]
    found = []
    for number, unit, which in _MARKED.findall(prose):
        seconds = _number(number) * UNITS[unit]
        if not any(d.clock == which and abs(d.aws_s - seconds) < 1e-9
                   for d in clock.DURATIONS):
            found.append(f"{number} {unit} ({which}): no such duration in the clock's table")
    windows = {d.aws_s for d in clock.DURATIONS if d.name.endswith("_quota_window")}
    for number, second in _RATE.findall(prose):
        seconds = 1.0 if second else _number(number)
        if seconds not in windows:
            found.append(f"per {number or 'second'}: no quota window of the clock's table")
    return found


def test_the_doc_lists_every_duration_of_the_clock_with_its_aws_figure_and_clock():
    assert table_disagreements(LIMITS.read_text()) == []


def test_the_doc_names_no_scaled_or_real_time_figure_the_clock_lacks():
    assert unknown_figures(LIMITS.read_text()) == []


def test_a_figure_that_differs_is_caught():
    text = LIMITS.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `route53_change_pending`"))
    assert table_disagreements(text.replace(row, row.replace("| 60 s |", "| 30 s |"))) == [
        "route53_change_pending: the doc says 30 s on AWS, the clock 60 s"]
    assert table_disagreements(text.replace(row, row.replace("| scaled |", "| real time |"))) \
        == ["route53_change_pending: the doc says real time, the clock scaled"]
    assert table_disagreements(text.replace(row + "\n", "")) == [
        "route53_change_pending: in helpers/sandbox/clock.py, not in the doc's table"]
    extra = "| `made_up_delay` | 5 s | scaled |  | `nowhere.py` | none |\n"
    assert table_disagreements(text.replace(row + "\n", row + "\n" + extra)) == [
        "made_up_delay: in the doc's table, not in helpers/sandbox/clock.py"]
    # Prose: a marked figure no entry has, and a quota window no entry has.
    assert unknown_figures(text + "\nIt waits 45 s (scaled) for nothing.\n") == [
        "45 s (scaled): no such duration in the clock's table"]
    assert unknown_figures(text + "\nOne per 7 s.\n") == [
        "per 7: no quota window of the clock's table"]
    assert unknown_figures(text + "\nPolled every 0.25 s (real time).\n") == []


def test_every_entry_says_why_and_where():
    names = [d.name for d in clock.DURATIONS]
    assert len(names) == len(set(names))
    for entry in clock.DURATIONS:
        assert entry.clock in (SCALED, REAL), entry
        assert entry.reason.strip() and entry.aws_s >= 0, entry
        assert (SANDBOX / entry.where).is_file(), entry
        assert entry.least_s == 0 or entry.clock == SCALED, entry


def test_the_clock_scales_scaled_durations_only_and_keeps_their_floor():
    at = Clock(0.1)
    assert at.seconds("route53_change_pending") == pytest.approx(6.0)
    assert at.seconds("stream_poll_interval") == 0.25  # real time, whatever the scale
    assert at.seconds("inter_region_round_trip", aws_s=0.2) == 0.2
    assert at.seconds("dns_record_ttl", aws_s=300) == pytest.approx(30.0)  # a record's own
    assert Clock(0.001).seconds("health_check_interval", aws_s=10) == 0.25  # the floor
    assert at.seconds("stream_batching_window", aws_s=0) == 0  # nothing stays nothing
    assert Clock().seconds("route53_change_pending") == 60  # AWS's own clock


def test_a_constant_may_only_hold_a_real_time_duration():
    assert clock.real_seconds("stream_poll_interval") == 0.25
    with pytest.raises(ValueError, match="scaled clock"):
        clock.real_seconds("route53_change_pending")


def test_a_duration_is_said_with_its_clock():
    assert clock.describe(0.3, 0.1) == (
        "0.3 s on the sandbox's clock (3.0 s on AWS at time scale 0.1)")
    assert clock.describe(0.18, 0.1, REAL, digits=2) == "0.18 s in real time, as on AWS"
    assert clock.describe(3, 1.0) == clock.describe(3, None) == "3.0 s"
    assert Clock(0.1).describe("certificate_release") == (
        "6.0 s on the sandbox's clock (60.0 s on AWS at time scale 0.1)")
    assert charts.duration(0.3, 0.1) == clock.describe(0.3, 0.1)
    assert "time scale 0.1" in charts.scale_note(0.1) and charts.scale_note(1.0) == ""


def test_the_modules_figures_are_the_clocks():
    from helpers.aws import cleanup, failover, stacks
    from helpers.sandbox import quotas
    from helpers.sandbox.apigateway import domains as apigateway_domains
    from helpers.sandbox.apigateway import executor as apigateway
    from helpers.sandbox.awslambda import runtime as lambda_runtime
    from helpers.sandbox.dynamodb import global_tables, streams
    from helpers.sandbox.inter_region_latency import round_trip_ms
    from helpers.sandbox.route53 import changes as route53_changes

    figures = {
        "route53_change_pending": route53_changes.PROPAGATION_S,
        "certificate_release": apigateway_domains.CERTIFICATE_RELEASE_S,
        "lambda_cold_start": lambda_runtime.COLD_START_INIT_S,
        "replica_creation": global_tables.REPLICA_CREATION_S,
        "replica_deletion": global_tables.REPLICA_DELETION_S,
        "stream_poll_interval": streams.POLL_INTERVAL_S,
        "stream_retention": streams.STREAM_RETENTION_S,
        "apigateway_integration_timeout": apigateway.DEFAULT_INTEGRATION_TIMEOUT_MS / 1000,
        "dns_negative_ttl": failover.NEGATIVE_TTL_S,
        "apigateway_quota_window": cleanup.DOMAIN_DELETION_WINDOW_S,
    }
    assert figures == {name: clock.aws_seconds(name) for name in figures}
    assert {stacks.DELETE_REST_API_WINDOW_S, failover.DOMAIN_CREATION_WINDOW_S} == {
        clock.aws_seconds("apigateway_quota_window")}
    rtt = clock.aws_seconds("inter_region_round_trip")
    assert round_trip_ms("eu-west-1", "ap-southeast-1") / 1000 == rtt
    windows = {quota.window for quota in quotas.QUOTAS}
    assert windows == {d.name for d in clock.DURATIONS if d.name.endswith("_quota_window")}


def test_no_sandbox_module_scales_a_duration_itself():
    """Durations come from the clock: no module multiplies by the time scale on its own."""
    own = re.compile(r"time_scale\s*[*/]|[*/]\s*[\w.]*time_scale\b|\.scaled\(|_scaled\(")
    offenders = [f"{path.name}:{number}: {line.strip()}"
                 for path in sorted(SANDBOX.glob("*.py")) if path.name not in ("clock.py",
                                                                                "context.py")
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if own.search(line)]
    assert offenders == []


def test_durations_are_frozen():
    with pytest.raises(AttributeError):
        clock.TABLE["route53_change_pending"].aws_s = 1  # type: ignore[misc]
    assert isinstance(clock.TABLE["route53_change_pending"], Duration)


def test_one_formatter_says_the_clock_and_what_is_modelled():
    """What a learner reads: scaled with its AWS figure, real time as such, a figure the
    sandbox models called modelled (in the sandbox only: on AWS it is measured)."""
    sandbox, aws = Clock(0.1, sandbox=True), Clock(1.0)
    assert sandbox.say(1.06) == "1.1 s on the sandbox's clock (10.6 s on AWS at time scale 0.1)"
    assert sandbox.say(0.91, REAL, 2) == "0.91 s in real time, as on AWS"
    round_trip = "one round trip between the regions"
    assert sandbox.say(0.19, REAL, 2, modelled=round_trip) == (
        "0.19 s in real time, modelled (one round trip between the regions)")
    assert sandbox.say(0.03, modelled="a cold start") == (
        "0.0 s on the sandbox's clock, modelled (a cold start); 0.3 s on AWS at time scale 0.1")
    assert aws.say(0.19, REAL, 2, modelled=round_trip) == "0.19 s"  # measured on AWS
    assert aws.say(10.6) == "10.6 s"
    assert sandbox.on_aws(1.06) == pytest.approx(10.6) and sandbox.on_aws(0.9, REAL) == 0.9


def test_the_two_clocks_are_explained_with_the_time_scale():
    text = clock.explain(0.1)
    assert "time scale 0.1" in text and "60 s TTL lasts 6 s" in text
    assert "real time, as on AWS" in text and "modelled" in text
    assert "time scale 1" in clock.explain(1.0) and "AWS's own" in clock.explain(None)


def test_the_clock_table_shows_each_duration_on_both_clocks_and_what_is_modelled():
    from helpers.views import clocks

    shown = clocks.table(Clock(0.1, sandbox=True))
    ttl = shown.loc["TTL of the kit's DNS records (03.3, 04)"]
    assert (ttl["on AWS"], ttl["here"], ttl["clock"]) == ("60 s", "6 s", "scaled")
    trip = next(row for name, row in shown.iterrows() if name.startswith("round trip"))
    assert trip["on AWS"] == trip["here"] and trip["clock"] == "real time, as on AWS, modelled"
    on_aws = clocks.table(Clock(1.0))
    assert set(on_aws["clock"]) == {"AWS's own"} and (on_aws["on AWS"] == on_aws["here"]).all()
    assert {name for name, _, _ in clocks.SHOWN} <= set(clock.TABLE)
