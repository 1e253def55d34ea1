"""The whole workshop on a fresh sandbox, through the same helpers the notebooks call.

Modules 1-3 are set up once for the module (both regions, replication, Route 53
failover on a zone of its own); the tests then check what a learner would see,
break and restore the primary (module 4), and clean up (module 5). Tests run
in file order: the failover drill and the cleanup come last.
"""

from __future__ import annotations

import contextlib
import time

import pytest

from helpers.aws import cleanup, deployment, failover, replication, tickets
from helpers.base.regions import sandbox_ip
from helpers.connect import net
from helpers.connect.session import client
from workshop_sandboxes import module_sandbox_at_workshop_clock  # noqa: F401  (our `sandbox`)
from workshop_steps import tear_down

# Steps of one story over one deployed participant: run in file order (tests/conftest.py).
pytestmark = pytest.mark.story

TIMINGS: dict[str, float] = {}


# Timing bounds, each the AWS behaviour on the sandbox clock (this module's sandbox, the
# workshop's 0.1) plus one stated margin. The kit's health check is a fast one (10 s) with
# failure threshold 1: a checker turns its verdict after 1 x 10 s, and the checkers probe
# out of step, so the health check flips within (threshold + 1) intervals. A client follows
# the failover record once its cached answer's TTL (60 s) runs out.
CHECK_INTERVAL_S, FAILURE_THRESHOLD, TTL_S = 10, 1, 60
# Route 53's status answer reused for 1 s (scaled), the status polled every 0.5 s, and a
# busy 2-core machine's scheduling.
MARGIN_S = 3.0
# Replication: Lambda polls a stream shard about four times a second (0.25 s, real time),
# then one batch write to the secondary; the rest of the 2 s is the busy-machine margin.
REPLICATION_BOUND_S = 2.0
# A wait gives up only here, far beyond every bound: the assertion decides, not the wait.
GIVE_UP_S = 60


def health_flip_bound(scale: float) -> float:
    return (FAILURE_THRESHOLD + 1) * CHECK_INTERVAL_S * scale + MARGIN_S


@contextlib.contextmanager
def timed(step: str):
    started = time.monotonic()
    yield
    TIMINGS[step] = round(time.monotonic() - started, 2)


@pytest.fixture(scope="module")
def config(sandbox, tmp_path_factory, new_participant):
    """A unique participant and domain, so this run shares nothing with any other."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(tmp_path_factory.mktemp("workshop-home")))
        yield new_participant("e2e")


@pytest.fixture(scope="module")
def deployed(config, sandbox):
    """Modules 1, 2 and 3.1-3.2: API and UI stacks in both regions, replication on."""
    apis = {}
    with timed("api stacks"):
        for region in config.regions:
            apis[region] = deployment.deploy_api(config, region)
    with timed("ui stacks"):
        for region in config.regions:
            deployment.deploy_ui(config, region, apis[region]["ApiUrl"])
    with timed("replication stack"):
        deployment.deploy_replication(config)
    yield apis
    tear_down(config)  # fails the run if the clean-up breaks or leaves anything
    print("\nend-to-end step timings (s):", TIMINGS)


@pytest.fixture(scope="module")
def world(config, sandbox, deployed):
    """Module 3.3 on top: zone, certificates, custom domains, health check, failover records."""
    primary, secondary = config.regions
    with timed("route 53 zone + certificates"):
        zone_id = failover.hosted_zone(config, create=True)["Id"]
        certificates = failover.request_certificates(config)
        failover.write_validation_records(config, zone_id)
        assert failover.wait_for_certificates(config, timeout=120) == {
            region: "ISSUED" for region in config.regions}
    with timed("custom domains + regional records"):
        failover.create_custom_domains(config)
        failover.create_regional_records(config, zone_id)
    with timed("health check healthy"):
        check_id = failover.create_health_check(config)
        failover.wait_until_healthy(config, timeout=60)
    with timed("failover records + ui on api domain"):
        failover.create_failover_records(config, zone_id, check_id)
        for region in config.regions:
            deployment.deploy_ui(config, region, failover.api_url(config))
    return {"zone_id": zone_id, "check_id": check_id, "certificates": certificates,
            "time_scale": sandbox["time_scale"], "primary": primary, "secondary": secondary}


def secondary_has(config, ticket_id: str) -> bool:
    table = deployment.stack_outputs(config, "api", config.secondary_region)["TableName"]
    found = client("dynamodb", config.secondary_region).get_item(
        TableName=table, Key={"id": {"S": ticket_id}}, ConsistentRead=True)
    return "Item" in found


def test_each_region_serves_its_own_api_and_starts_empty(config, deployed):
    for region in config.regions:
        status, body, served = tickets.health(deployed[region]["ApiUrl"])
        assert (status, served) == (200, region)
        assert body["message"] == "Successful response reading from DynamoDB table."
    assert tickets.list_tickets(deployed[config.secondary_region]["ApiUrl"])["Count"] == 0


def test_backfill_restores_missing_items_and_never_rolls_one_back(config, deployed):
    api = deployed[config.primary_region]["ApiUrl"]
    missing = tickets.create_ticket(api, description="lost in the secondary")
    edited = tickets.create_ticket(api, description="edited in the secondary")
    for ticket in (missing, edited):
        net.wait_until(lambda t=ticket: secondary_has(config, t["id"]), timeout=5)
    table = deployment.stack_outputs(config, "api", config.secondary_region)["TableName"]
    secondary = client("dynamodb", config.secondary_region)
    secondary.delete_item(TableName=table, Key={"id": {"S": missing["id"]}})
    secondary.update_item(TableName=table, Key={"id": {"S": edited["id"]}},
                          UpdateExpression="SET updatedAt = :later, description = :d",
                          ExpressionAttributeValues={":later": {"S": "2999-01-01T00:00:00.000000Z"},
                                                     ":d": {"S": "newer"}})
    assert replication.backfill(config) == 1
    assert secondary_has(config, missing["id"])
    kept = secondary.get_item(TableName=table, Key={"id": {"S": edited["id"]}})["Item"]
    assert kept["description"]["S"] == "newer"
    assert replication.backfill(config) == 0
    counts = replication.wait_until_equal(config, timeout=10)
    assert counts[config.primary_region] == counts[config.secondary_region] == 2


def test_regional_names_reach_their_own_region(config, world):
    for region in config.regions:
        status, _, served = tickets.health(failover.regional_url(config, region))
        assert (status, served) == (200, region)


def test_ticket_posted_through_the_api_domain_is_in_the_secondary_within_2_s(config, world):
    with timed("first ticket POST"):
        ticket = tickets.create_ticket(failover.api_url(config), description="flat tyre",
                                       createdBy="e2e")
    with timed("first ticket in the secondary after the POST"):
        net.wait_until(lambda: secondary_has(config, ticket["id"]), timeout=REPLICATION_BOUND_S,
                       interval=0.05, what="the ticket to be replicated")
    assert ticket["id"] in {t["id"] for t in tickets.all_tickets(failover.api_url(config))}
    lags = replication.measure_lag(config, failover.api_url(config), n=5)
    TIMINGS["replication lag max of 5"] = round(max(lags), 3)
    assert max(lags) < REPLICATION_BOUND_S


def test_dns_answers_the_api_name_with_the_primary(config, world):
    answer = failover.dns_answer(config, "api")
    assert failover.answer_region(answer) == world["primary"]
    assert answer.addresses == (sandbox_ip(world["primary"]),)
    assert answer.addresses == failover.dns_answer(
        config, config.regional_host(world["primary"])).addresses
    assert failover.serving_region(config) == world["primary"]


def test_setup_steps_run_again_create_nothing_twice(config, world):
    records_before = sorted((r["Name"], r["Type"], r.get("SetIdentifier", ""))
                            for r in failover.records(world["zone_id"]))
    targets = failover.create_custom_domains(config)
    assert failover.hosted_zone(config, create=True)["Id"] == world["zone_id"]
    assert failover.request_certificates(config) == world["certificates"]
    failover.write_validation_records(config, world["zone_id"])
    assert failover.create_custom_domains(config) == targets
    failover.create_regional_records(config, world["zone_id"])
    assert failover.create_health_check(config) == world["check_id"]
    failover.create_failover_records(config, world["zone_id"], world["check_id"])
    assert sorted((r["Name"], r["Type"], r.get("SetIdentifier", ""))
                  for r in failover.records(world["zone_id"])) == records_before
    assert len(failover.kit_health_checks(config)) == 1
    for region in config.regions:
        summaries = failover.certificate_summaries(client("acm", region))
        assert [s["DomainName"] for s in summaries].count(config.domain) == 1


def test_breaking_the_primary_fails_over_and_restoring_it_fails_back(config, world):
    primary, secondary = world["primary"], world["secondary"]
    api = failover.api_url(config)
    bound = health_flip_bound(world["time_scale"])
    with timed("break -> unhealthy"):
        assert failover.break_primary(config) is True
        assert failover.break_primary(config) is False  # already broken: nothing to do
        started = time.monotonic()
        failover.wait_until_unhealthy(config, timeout=GIVE_UP_S)
        assert time.monotonic() - started <= bound
    status, _, served = tickets.health(failover.regional_url(config, primary))
    assert status >= 400 and served == primary  # the "bad deploy" answers /health with an error
    with timed("unhealthy -> DNS on secondary"):  # DNS reads the health check's verdict
        net.wait_until(lambda: failover.dns_answer(config, "api").addresses
                       == (sandbox_ip(secondary),), timeout=MARGIN_S, what="DNS to fail over")
    assert failover.answer_region(failover.dns_answer(config, "api")) == secondary
    # A client keeps its cached answer until the TTL (60 s, scaled) runs out.
    ttl_s = TTL_S * world["time_scale"]
    with timed("DNS on secondary -> served by secondary"):
        net.wait_until(lambda: tickets.health(api)[::2] == (200, secondary),
                       timeout=ttl_s + MARGIN_S, what="requests to reach the secondary")
    ticket = tickets.create_ticket(api, description="filed during the outage")
    assert ticket["id"] in {t["id"] for t in tickets.all_tickets(api)}

    with timed("restore -> healthy"):
        assert failover.restore_primary(config) is True
        assert failover.restore_primary(config) is False
        started = time.monotonic()
        failover.wait_until_healthy(config, timeout=GIVE_UP_S)
        assert time.monotonic() - started <= bound
    net.wait_until(lambda: failover.dns_answer(config, "api").addresses
                   == (sandbox_ip(primary),), timeout=MARGIN_S, what="DNS to fail back")
    net.wait_until(lambda: failover.serving_region(config) == primary,
                   timeout=ttl_s + MARGIN_S, what="requests to return to the primary")


def test_leftovers_sees_every_kind_of_resource_the_kit_created(config, world):
    kinds = {item.split(" ")[0] for item in cleanup.leftovers(config)}
    assert kinds >= {"stack", "bucket", "function", "table", "REST", "queue", "log", "IAM",
                     "custom", "certificate", "health", "DNS", "hosted"}


def test_cleanup_leaves_nothing_and_a_second_run_has_nothing_to_do(config, world):
    with timed("cleanup"):
        report = cleanup.cleanup(config)
    assert not report.nothing_to_do
    assert cleanup.leftovers(config) == []
    assert cleanup.cleanup(config).nothing_to_do
