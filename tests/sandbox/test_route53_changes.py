"""Route 53 changes are PENDING before they are INSYNC; a change to a record set still
PENDING is refused with PriorRequestNotComplete (helpers.sandbox.route53.changes)."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from helpers.connect.net import time_scale, wait_until
from helpers.sandbox.route53.changes import PROPAGATION_S


def change(name: str, value: str) -> dict:
    return {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": name, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": value}]}}]}


def test_a_change_is_pending_then_insync_after_the_scaled_propagation_time(zone, aws):
    route53 = aws("route53", "us-east-1")
    zone_id, domain = zone
    submitted = time.monotonic()
    info = route53.change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch=change(f"a.{domain}", "192.0.2.1"))["ChangeInfo"]
    assert info["Status"] == "PENDING"
    assert route53.get_change(Id=info["Id"])["ChangeInfo"]["Status"] == "PENDING"
    propagation = PROPAGATION_S * time_scale()
    wait_until(lambda: route53.get_change(Id=info["Id"])["ChangeInfo"]["Status"] == "INSYNC",
               timeout=propagation + 5, interval=0.1, what="the change to be INSYNC")
    assert time.monotonic() - submitted >= propagation
    # The waiter the kit uses (helpers.aws.failover.change_records) sees the same.
    route53.get_waiter("resource_record_sets_changed").wait(Id=info["Id"])


def past_the_rate_quota(call, **params):
    """``call(**params)``, asked again while Route 53's account-wide rate quota (five
    requests a second, a twentieth of a second on the suite's clock) answers Throttling:
    that quota is not what these tests are about, PriorRequestNotComplete is. Botocore's
    retries cannot be used instead: they retry PriorRequestNotComplete too."""
    for _ in range(50):
        try:
            return call(**params)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "Throttling":
                raise
            time.sleep(0.05)  # the quota's window on the suite's clock
    return call(**params)


def test_a_second_change_to_a_pending_record_set_is_prior_request_not_complete(zone, aws):
    from helpers.connect.session import client

    zone_id, domain = zone
    once = client("route53", "us-east-1", retries=False).change_resource_record_sets
    past_the_rate_quota(once, HostedZoneId=zone_id, ChangeBatch=change(f"b.{domain}", "192.0.2.1"))
    with pytest.raises(ClientError) as exc:
        past_the_rate_quota(once, HostedZoneId=zone_id,
                            ChangeBatch=change(f"b.{domain}", "192.0.2.2"))
    assert exc.value.response["Error"]["Code"] == "PriorRequestNotComplete"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Another record set of the zone is not held up; with retries, the same one waits.
    past_the_rate_quota(once, HostedZoneId=zone_id, ChangeBatch=change(f"c.{domain}", "192.0.2.3"))
    aws("route53", "us-east-1").change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch=change(f"b.{domain}", "192.0.2.2"))
