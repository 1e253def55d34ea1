"""Route 53's verdict as the kit reads it, the check's settings and the change batch as shown.

Route 53 considers a new health check healthy until it has enough data (*How Amazon Route 53
determines whether a health check is healthy*): a checker with no report yet counts as
healthy, so a chart of a new check starts healthy, and 03.3 says why.
"""

from __future__ import annotations

import json

import pytest

from helpers.aws import failover
from helpers.aws.failover import health_check

ALL_EIGHT = ["us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1",
             "ap-southeast-2", "ap-northeast-1", "sa-east-1"]
FAILED = "Failure: HTTP Status Code 500, Internal Server Error"
OK = "Success: HTTP Status Code 200, OK"


def reports(*statuses: str) -> list[dict[str, str]]:
    return [{"status": status} for status in statuses]


def test_a_new_check_is_healthy_until_its_checkers_have_data():
    assert failover.route53_verdict([], 8)  # no report yet: healthy
    # Three checkers saw failures, five have not reported: not enough data to say unhealthy.
    assert failover.route53_verdict(reports(FAILED, FAILED, FAILED), 8)
    # A report that is neither a success nor a failure is no data either.
    assert failover.route53_verdict(reports(*["Unknown"] * 8), 8)


def test_healthy_while_more_than_18_percent_of_all_checkers_say_so():
    assert failover.route53_verdict(reports(*[FAILED] * 6, OK, OK), 8)  # 25 %
    assert not failover.route53_verdict(reports(*[FAILED] * 7, OK), 8)  # 12.5 %
    assert not failover.route53_verdict(reports(*[FAILED] * 7), 8)  # one silent: 12.5 %


def test_checkers_are_every_route53_checker_region_unless_the_check_names_some():
    assert failover.checker_regions({}) == ALL_EIGHT
    assert failover.checker_regions({"Regions": ["us-east-1", "eu-west-1", "sa-east-1"]}) == [
        "us-east-1", "eu-west-1", "sa-east-1"]


def test_the_settings_table_shows_what_route53_holds_with_why(monkeypatch):
    held = {"Type": "HTTPS", "FullyQualifiedDomainName": "ireland.example.com", "Port": 443,
            "ResourcePath": "/health", "RequestInterval": 10, "FailureThreshold": 1,
            "EnableSNI": True, "Inverted": False}
    monkeypatch.setattr(health_check, "find_health_check",
                        lambda config: {"Id": "hc-1", "HealthCheckConfig": held})
    table = failover.health_check_settings(object())
    values = table["value"].to_dict()
    assert {k: values[k] for k in held if k in values} == {
        "Type": "HTTPS", "FullyQualifiedDomainName": "ireland.example.com", "Port": "443",
        "ResourcePath": "/health", "RequestInterval": "10", "FailureThreshold": "1",
        "EnableSNI": "True"}
    assert values["Regions"] == "(not set) " + ", ".join(ALL_EIGHT)
    assert table["why"].str.len().min() > 10  # every setting says why


def test_no_check_yet_is_a_learners_error(monkeypatch):
    monkeypatch.setattr(health_check, "find_health_check", lambda config: None)
    with pytest.raises(failover.FailoverSetupError, match="create_health_check"):
        failover.health_check_settings(object())


def test_the_change_batch_is_shown_as_the_json_the_aws_cli_takes():
    batch = {"Comment": "api failover records (workshop kit)", "Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": "api.example.com", "Type": "CNAME",
                                                   "Failover": "PRIMARY",
                                                   "HealthCheckId": "hc-1"}}]}
    shown = failover.ChangeBatch("Z1", batch)
    assert json.loads(repr(shown).split("ChangeBatch:\n", 1)[1]) == batch
    assert "&quot;HealthCheckId&quot;: &quot;hc-1&quot;" in shown._repr_html_()
