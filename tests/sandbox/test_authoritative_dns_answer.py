"""The "DNS answer" of notebook 04 and the drill is Route 53's own, asked of the hosted
zone's name servers; what a client with a cache sees is a lane of its own (issue 12,
item 3). And a failover alias record needs Evaluate Target Health, as Route 53 requires."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from helpers.aws import failover
from helpers.connect import net

TARGET = "d-abc123.execute-api.ap-southeast-1.amazonaws.com"


@pytest.fixture()
def config(participant_with_zone):
    return participant_with_zone("ad")


def test_the_zone_name_servers_answer_a_new_record_while_a_client_cache_holds_nxdomain(config):
    config, zone_id = config
    assert failover.client_dns_answer(config, "api").records == ()  # NXDOMAIN, now cached
    failover.change_records(zone_id, [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": config.api_host(), "Type": "CNAME", "TTL": 60,
        "ResourceRecords": [{"Value": TARGET}]}}], "test")

    authoritative = failover.dns_answer(config, "api")
    client = failover.client_dns_answer(config, "api")

    assert failover.answer_region(authoritative) == "ap-southeast-1"
    assert client.records == ()  # the resolver's negative cache: 900 s on AWS, scaled


def test_the_zone_name_servers_resolve_to_the_sandbox_authoritative_server(config, sandbox):
    config, _ = config
    servers = failover.name_servers(config)

    assert servers and all(".awsdns-" in s for s in servers)
    assert net.resolve(servers[0]).addresses == (sandbox["dns"]["host"],)


def test_the_kit_failover_aliases_evaluate_target_health_on_both_records(config):
    config, zone_id = config
    records = failover.failover_records(config, zone_id, "hc-id")

    assert [r["AliasTarget"]["EvaluateTargetHealth"] for r in records] == [True, True]


def test_a_failover_alias_without_evaluate_target_health_is_refused(config):
    config, zone_id = config
    secondary = failover.failover_records(config, zone_id, "hc-id")[1]
    secondary["AliasTarget"]["EvaluateTargetHealth"] = False

    with pytest.raises(ClientError) as refused:
        failover.route53().change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
            "Changes": [{"Action": "UPSERT", "ResourceRecordSet": secondary}]})

    assert refused.value.response["Error"]["Code"] == "InvalidChangeBatch"
    assert "EvaluateTargetHealth" in refused.value.response["Error"]["Message"]
