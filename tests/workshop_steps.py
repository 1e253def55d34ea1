"""The workshop's deployment steps in the order the notebooks take them, for the tests that
need a deployed participant as their starting point (the notebooks themselves are tested
by nbval; tests/sandbox/test_end_to_end.py asserts after each step)."""

from __future__ import annotations

from typing import Any

from helpers.aws import cleanup, deployment, failover
from helpers.core.config import WorkshopConfig


def deploy_regions(config: WorkshopConfig, *, ui: bool = True,
                   replication: bool = True) -> dict[str, dict[str, Any]]:
    """Modules 1, 2, 3.1 and 3.2: the API (and UI) in both regions, then the replicator.
    Returns each region's stack outputs, every page on its own region's API."""
    outputs: dict[str, dict[str, Any]] = {}
    for region in config.regions:
        outputs[region] = deployment.deploy_api(config, region)
        if ui:
            outputs[region] |= deployment.deploy_ui(config, region, outputs[region]["ApiUrl"])
    if replication:
        deployment.deploy_replication(config)
    return outputs


def set_up_failover(config: WorkshopConfig, *, create_zone: bool = True,
                    republish_ui: bool = False) -> tuple[str, str]:
    """Module 3.3: zone, certificates, custom domains, regional records, health check and
    failover records; optionally both pages re-published on api.<domain>.
    Returns (hosted zone id, health check id)."""
    zone_id = failover.hosted_zone(config, create=create_zone)["Id"]
    failover.request_certificates(config)
    failover.write_validation_records(config, zone_id)
    failover.wait_for_certificates(config, timeout=120)
    failover.create_custom_domains(config)
    failover.create_regional_records(config, zone_id)
    check_id = failover.create_health_check(config)
    failover.wait_until_healthy(config, timeout=60)
    failover.create_failover_records(config, zone_id, check_id)
    if republish_ui:
        for region in config.regions:
            deployment.deploy_ui(config, region, failover.api_url(config))
    return zone_id, check_id


def module_4_undone(config: WorkshopConfig) -> None:
    """The primary restored and module 4 forgotten: a test that breaks a shared deployment
    (``deployed_workshop``) leaves it as module 3.3 left it, so the checklist of the tests
    after it still says 04 comes next. Module 4's trace is its two deployments (the bad
    deploy and the restore): the stage moves to a new one and those two are deleted."""
    from helpers.connect.session import client

    failover.restore_primary(config)
    region = config.primary_region
    api_id = deployment.stack_outputs(config, "api", region)["ApiId"]
    apigw = client("apigateway", region)
    found = [d for page in apigw.get_paginator("get_deployments").paginate(restApiId=api_id)
             for d in page["items"]]
    trace = [d for d in found if d.get("description") in (failover.BROKEN, failover.RESTORED)]
    if not trace:
        return
    made = apigw.create_deployment(restApiId=api_id, stageName=failover.STAGE,
                                   description="a test put the primary back as module 3.3 "
                                               "left it")
    apigw.update_stage(restApiId=api_id, stageName=failover.STAGE, patchOperations=[
        {"op": "replace", "path": "/deploymentId", "value": made["id"]}])
    for old in trace:
        apigw.delete_deployment(restApiId=api_id, deploymentId=old["id"])


def tear_down(config: WorkshopConfig) -> None:
    """A test's clean-up of a participant: the kit's own clean-up, then its proof.

    Nothing is swallowed: a clean-up that raises, or leaves anything of the participant
    behind, fails the test's teardown (pytest reports it as an error) and names what is
    left, so a broken clean-up after a drill or failover cannot hide, and no other test
    meets this one's leftovers.
    """
    report = cleanup.cleanup(config)
    left = cleanup.leftovers(config)
    assert left == [], (f"the clean-up of {config.prefix!r} left {len(left)} resource(s) "
                        f"behind: {left}; its report: {report}")
