"""Account quotas as token buckets (helpers.sandbox.quotas), without a sandbox; and each
quota of QUOTAS cited in docs/aws-limits.md with its rate, burst and scope."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers.sandbox import quotas
from helpers.sandbox.clock import Clock

LIMITS = Path(__file__).resolve().parents[2] / "docs" / "aws-limits.md"


@pytest.fixture()
def account():
    """The quotas of one account on AWS's own clock, time standing still (monotonic fixed)."""
    now = [1000.0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(quotas.time, "monotonic", lambda: now[0])
        yield quotas.Quotas(SimpleNamespace(clock=Clock(1.0))), now


def refused(account_quotas, n, *call):
    return sum(account_quotas.take(*call) is not None for _ in range(n))


def test_route53_account_bucket_holds_50_and_refills_ten_a_second(account):
    q, now = account
    assert refused(q, 50, "route53", "ListHostedZones", "us-east-1") == 0
    quota, wait = q.take("route53", "ListHostedZones", "eu-west-1")  # one account, any region
    assert (quota.code, quota.status, quota.message) == ("Throttling", 400, "Rate exceeded")
    assert wait == pytest.approx(0.1)
    now[0] += 1.0
    assert refused(q, 11, "route53", "GetChange", "us-east-1") == 1


def test_an_operation_bucket_refuses_before_the_account_is_spent(account):
    q, now = account
    assert refused(q, 6, "route53", "GetHealthCheckStatus", "us-east-1") == 2  # burst 4
    assert q.take("route53", "ListHostedZones", "us-east-1") is None  # the account has more
    now[0] += 1.0
    assert refused(q, 2, "route53", "GetHealthCheckStatus", "us-east-1") == 1  # 1 a second
    assert refused(q, 2, "route53", "CreateHealthCheck", "us-east-1") == 1  # one per 2 s
    assert refused(q, 4, "route53", "DeleteHealthCheck", "us-east-1") == 1  # three a second


def test_a_refused_request_spends_nothing(account):
    q, _ = account
    assert refused(q, 4, "route53", "GetHealthCheckStatus", "us-east-1") == 0
    assert refused(q, 100, "route53", "GetHealthCheckStatus", "us-east-1") == 100
    # The account's bucket paid for the four only: 46 more are accepted.
    assert refused(q, 47, "route53", "ListHostedZones", "us-east-1") == 1


def test_api_gateway_quotas_are_the_accounts_whatever_the_region(account):
    q, now = account
    assert q.take("apigateway", "CreateDeployment", "eu-west-1") is None
    quota, wait = q.take("apigateway", "CreateDeployment", "ap-southeast-1")
    assert (quota.code, quota.status, wait) == ("TooManyRequestsException", 429, 5.0)
    assert q.take("apigateway", "CreateRestApi", "eu-west-1", "REGIONAL") is None
    assert q.take("apigateway", "CreateRestApi", "eu-west-2", "REGIONAL") is not None
    assert q.take("apigateway", "CreateRestApi", "eu-west-2", "EDGE") is None  # not that quota
    now[0] += 10.0
    assert refused(q, 7, "apigateway", "GetResources", "eu-west-1") == 2  # five per 2 s
    now[0] += 10.0
    assert refused(q, 12, "apigateway", "GetRestApis", "eu-west-1") == 2  # ten a second


def test_acm_list_certificates_is_per_account_and_region(account):
    q, _ = account
    assert q.take("acm", "ListCertificates", "eu-west-1") is None
    assert q.take("acm", "ListCertificates", "eu-west-1") is not None
    assert q.take("acm", "ListCertificates", "ap-southeast-1") is None


def test_a_scaled_clock_scales_the_rate_not_the_burst(account):
    _, now = account
    q = quotas.Quotas(SimpleNamespace(clock=Clock(0.1)))
    assert refused(q, 5, "route53", "GetHealthCheckStatus", "us-east-1") == 1
    now[0] += 0.1  # a second of AWS's clock at time scale 0.1: one token back
    assert refused(q, 2, "route53", "GetHealthCheckStatus", "us-east-1") == 1


def _quota_rows(text: str) -> list[dict[str, str]]:
    section = text.split("## Account quotas", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip().strip("|").split("|")),
                     strict=True)) for line in lines[2:]]


def test_every_quota_is_cited_with_its_rate_burst_and_scope():
    rows = _quota_rows(LIMITS.read_text())
    labels = {"route53": "Route 53", "apigateway": "API Gateway", "cloudformation":
              "CloudFormation", "acm": "ACM"}
    for quota in quotas.QUOTAS:
        names = (["every"] if quotas.ANY_OPERATION in quota.operations
                 else [f"`{op}`" for op in sorted(quota.operations)])
        matching = [row for row in rows if row["operation"].startswith(labels[quota.service])
                    and all(name in row["operation"] for name in names)]
        assert len(matching) == 1, (quota, matching)
        row = matching[0]
        per_s = quota.per_s
        rates = {f"{quota.requests} per {per_s:g} s", f"{quota.requests / per_s:g} per second"}
        assert any(row["rate"].startswith(rate) for rate in rates), (quota, row)
        assert re.match(rf"{quota.size}\b", row["burst"]), (quota, row)
        assert row["per"] == ("account and region" if quota.per_region else "account"), row
        assert quota.code in row["answer"] or row["answer"].startswith("same"), row
        assert quota.source.strip(), quota
