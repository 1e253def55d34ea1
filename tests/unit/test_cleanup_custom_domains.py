"""Clean-up's ownership check of custom domains reads each candidate with GetDomainName:
on AWS the items of GetDomainNames may carry no tags (issue 12, item 11)."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from helpers.aws import cleanup
from helpers.aws.ownership import tags
from helpers.core.config import WorkshopConfig

CONFIG = WorkshopConfig(prefix="carol", domain="carol.example.com")
REGION = CONFIG.primary_region


def _stubbed_apigateway(monkeypatch, tags_by_host: dict[str, dict[str, str]]) -> Stubber:
    apigw = boto3.client("apigateway", region_name=REGION, aws_access_key_id="testing",
                         aws_secret_access_key="testing")
    stub = Stubber(apigw)
    listed = [{"domainName": host} for host in tags_by_host]  # no tags, as AWS may list them
    stub.add_response("get_domain_names", {"items": [*listed, {"domainName": "other.test"}]})
    for host, found in tags_by_host.items():
        stub.add_response("get_domain_name", {"domainName": host, "tags": found},
                          {"domainName": host})
    stub.activate()
    monkeypatch.setattr(cleanup, "client", lambda service, region, **_: apigw)
    return stub


def test_a_listed_domain_without_tags_is_judged_by_its_own_tags(monkeypatch):
    kit = {t["Key"]: t["Value"] for t in tags(CONFIG)}
    stub = _stubbed_apigateway(monkeypatch, {
        CONFIG.api_host(): kit,
        CONFIG.regional_host(REGION): {"owner": "the learner"}})
    report = cleanup.CleanupReport()

    found = cleanup._kit_custom_domains(CONFIG, REGION, report)

    assert found == [CONFIG.api_host()]
    assert report.kept == [f"custom domain {CONFIG.regional_host(REGION)} ({REGION}): not "
                           "created by the kit"]
    stub.assert_no_pending_responses()
