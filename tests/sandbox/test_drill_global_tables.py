"""The failover drill on a global table (``workshop drill --replication global-tables``).

Refused, in one line, while the tables are not global; after the conversion of module 4.1
(helpers.global_tables.convert) the same drill fails over within the bound, and the global
table replicates every acknowledged write both ways (RPO after drain 0, nothing lost).
"""

from __future__ import annotations

import pytest

from helpers import cli, deployment, drill, global_tables, net, session, tickets
from workshop_sandboxes import module_sandbox_at_workshop_clock  # noqa: F401  (our `sandbox`)

pytestmark = pytest.mark.story

RATE = 10.0  # requests per second


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
