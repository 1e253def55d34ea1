"""The checklist never asks a resolver for a name before its record exists (issue 12,
item 1): behind a caching resolver that "no such name" would be kept for the zone's
negative TTL (900 s on AWS) and notebook 03.3's regional check would then fail."""

from __future__ import annotations

import pytest

from helpers import checklist
from helpers.aws import failover
from helpers.base.regions import sandbox_ip
from helpers.connect import net


@pytest.fixture()
def config(participant_with_zone):
    return participant_with_zone("dp")


def test_a_regional_name_checked_before_its_record_resolves_once_the_record_exists(config):
    config, zone_id = config
    primary = config.primary_region
    host = config.regional_host(primary)

    item = checklist.check(config).items()["3.3/regional-records"]
    assert not item.done and f"{host}: no DNS record yet" in item.detail
    failover.change_records(zone_id, [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": host, "Type": "A", "TTL": 60,
        "ResourceRecords": [{"Value": sandbox_ip(primary)}]}}], "test")

    assert net.resolve(host).addresses == (sandbox_ip(primary),)  # at once, not after 900 s
