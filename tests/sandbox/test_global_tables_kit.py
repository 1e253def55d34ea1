"""Module 4.1 on the sandbox: the participant's tables become one global table the way AWS
allows (helpers.aws.global_tables), keeping every ticket -- a secondary-only one included --,
both regions' functions on it, the replicator retired, the checklist's items done, and the
clean-up removing the replica before the tables."""

from __future__ import annotations

import pytest

from helpers import checklist
from helpers.aws import cleanup, deployment, global_tables, replication, tickets
from helpers.connect import net
from helpers.core.config import WorkshopConfig
from workshop_sandboxes import module_sandbox_at_fast_clock  # noqa: F401  (our `sandbox`)
from workshop_steps import deploy_regions, tear_down

pytestmark = pytest.mark.story


@pytest.fixture(scope="module")
def config(sandbox, tmp_path_factory, new_participant):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(tmp_path_factory.mktemp("workshop-home")))
        config = new_participant("gk")
        try:
            deploy_regions(config, ui=False)
            yield config
        finally:
            tear_down(config)


def _ids(config: WorkshopConfig, region: str) -> set[str]:
    return {t["id"] for t in tickets.all_tickets(deployment.api_url(config, region))}


def test_conversion_keeps_every_ticket_and_retires_the_replicator(config):
    primary, secondary = config.regions
    for n in range(3):
        tickets.create_ticket(deployment.api_url(config, primary), description=f"before {n}")
    replication.wait_until_equal(config, timeout=30)
    # The replicator really runs in the sandbox: its lag is measured.
    assert replication.measure_lag(config, deployment.api_url(config, primary), n=3).basis == (
        replication.MEASURED)
    # Written in the secondary only (as during a failover): the replicator never copies it.
    lone = tickets.create_ticket(deployment.api_url(config, secondary),
                                 description="written during a failover")["id"]
    before = _ids(config, primary) | _ids(config, secondary)
    assert global_tables.requirements(config).loc[:, "met"].tolist() == [True, True, False]

    done = global_tables.convert(config)

    assert done.copied_back == 1
    assert global_tables.replicas(config) == {secondary: "ACTIVE"}
    for region in config.regions:
        assert _ids(config, region) == before, region
    assert lone in _ids(config, primary)
    functions = global_tables.functions_table(config)
    assert set(functions["TABLE_NAME"]) == {f"{config.prefix}-tickets"}
    assert all(what.startswith("replica of global table 2019.11.21")
               for what in functions["that table is"])
    stack = config.stack_name("replication")
    assert deployment.stacks.stack_status(primary, stack) in (None, "DELETE_COMPLETE")
    assert global_tables.convert(config).copied_back == 0  # again: nothing to do


def test_both_regions_write_and_each_sees_the_others_tickets(config):
    primary, secondary = config.regions
    made = {region: tickets.create_ticket(deployment.api_url(config, region),
                                          description=f"after, in {region}")["id"]
            for region in config.regions}
    for region, other in ((primary, secondary), (secondary, primary)):
        net.wait_until(lambda r=region, o=other: made[o] in _ids(config, r), timeout=20,
                       what=f"the ticket written in {other} to reach {region}")


def test_a_global_tables_lag_in_the_sandbox_is_called_modelled(config):
    """The sandbox models a global table's replication (one inter-region round trip), so
    the lag it gives is labelled modelled wherever it is shown (module 4.1)."""
    lags = replication.measure_lag(config, deployment.api_url(config, config.primary_region),
                                   n=3)
    assert lags.basis == replication.MODELLED and len(lags) == 3
    assert "in real time, modelled (the sandbox replicates a global table" in lags.summary()


def test_the_checklist_has_the_extension_done_and_module_3_2_superseded(config):
    items = {item.id: item for module in checklist.check(config, remember=False).modules
             for item in module.items}
    for key in ("4.1/global-table", "4.1/functions", "4.1/replicator-retired",
                "3.2/stack", "3.2/attached", "3.2/in-step", "3.1/data"):
        assert items[key].done, (key, items[key].detail)
    assert "superseded" in items["3.2/stack"].detail


def test_the_secondary_stack_redeploys_without_recreating_the_table(config):
    deployment.deploy_api(config, config.secondary_region)
    assert global_tables.is_global(config)


def test_clean_up_removes_the_replica_before_the_tables(config):
    report = cleanup.cleanup(config)
    replica = f"replica of table {config.prefix}-tickets ({config.secondary_region})"
    assert replica in report.deleted
    assert report.deleted.index(replica) < min(
        i for i, what in enumerate(report.deleted) if what.startswith("stack "))
    assert cleanup.leftovers(config) == []


def test_every_call_the_participant_made_is_allowed_by_workshop_iam_policy(config):
    """01, 03.1, 03.2, 04.1 and the clean-up, as the call log recorded them (any participant
    name the log was kept under: this module's workshop home is its own)."""
    import json

    from helpers.aws import iam_policy
    from helpers.base.paths import call_log

    records = [json.loads(line) for path in call_log(config.prefix).parent.glob("calls-*.jsonl")
               for line in path.read_text().splitlines() if line.strip()]
    assert len({(r["service"], r["operation"]) for r in records}) > 20
    assert iam_policy.uncovered(records, iam_policy.policy(config)) == []
