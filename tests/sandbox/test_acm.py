"""ACM issues a DNS-validated certificate once its validation CNAME is in a hosted zone."""

from __future__ import annotations

import datetime
import time
import uuid

import pytest

from helpers.connect.net import wait_until
from helpers.sandbox.apigateway.domains import CERTIFICATE_RELEASE_S


def request(aws, region: str, domain: str, *sans: str) -> str:
    return aws("acm", region).request_certificate(
        DomainName=domain, SubjectAlternativeNames=list(sans) or [domain],
        ValidationMethod="DNS")["CertificateArn"]


def describe(aws, region: str, arn: str) -> dict:
    return aws("acm", region).describe_certificate(CertificateArn=arn)["Certificate"]


def validation_records(cert: dict) -> dict[str, dict]:
    return {o["DomainName"]: o["ResourceRecord"] for o in cert["DomainValidationOptions"]}


def upsert_cname(aws, zone_id: str, name: str, value: str) -> None:
    aws("route53", "us-east-1").change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": name, "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": value}]}}]})


def test_certificate_is_issued_once_its_validation_record_is_in_the_zone(sandbox, aws,
                                                                         new_zone):
    zone_id, domain = new_zone()
    arns = {region: request(aws, region, domain, domain, f"*.{domain}")
            for region in ("eu-west-1", "ap-southeast-1")}

    cert = describe(aws, "eu-west-1", arns["eu-west-1"])
    records = validation_records(cert)
    assert cert["Status"] == "PENDING_VALIDATION"
    assert {o["ValidationStatus"] for o in cert["DomainValidationOptions"]} == {
        "PENDING_VALIDATION"}
    # The apex and the wildcard share one validation record, and it does not change.
    assert records[domain] == records[f"*.{domain}"]
    assert records[domain]["Type"] == "CNAME"
    assert records[domain]["Name"].endswith(f".{domain}.")
    assert validation_records(describe(aws, "eu-west-1", arns["eu-west-1"])) == records

    # A record with the wrong value does not validate.
    upsert_cname(aws, zone_id, records[domain]["Name"], "_wrong.acm-validations.aws.")
    assert describe(aws, "eu-west-1", arns["eu-west-1"])["Status"] == "PENDING_VALIDATION"

    upsert_cname(aws, zone_id, records[domain]["Name"], records[domain]["Value"])

    for region, arn in arns.items():  # one record validates the certificate of every region
        issued = wait_until(lambda r=region, a=arn: (c := describe(aws, r, a))["Status"]
                            == "ISSUED" and c, timeout=5, what=f"the {region} certificate")
        assert {o["ValidationStatus"] for o in issued["DomainValidationOptions"]} == {"SUCCESS"}
    listed = aws("acm", "eu-west-1").list_certificates(CertificateStatuses=["ISSUED"])
    assert arns["eu-west-1"] in {c["CertificateArn"] for c in listed["CertificateSummaryList"]}


def test_every_domain_of_the_certificate_needs_its_record(sandbox, aws, new_zone):
    (zone_a, domain_a), (zone_b, domain_b) = new_zone(), new_zone()
    arn = request(aws, "eu-west-1", domain_a, domain_a, domain_b)
    records = validation_records(describe(aws, "eu-west-1", arn))

    upsert_cname(aws, zone_a, records[domain_a]["Name"], records[domain_a]["Value"])
    assert describe(aws, "eu-west-1", arn)["Status"] == "PENDING_VALIDATION"

    upsert_cname(aws, zone_b, records[domain_b]["Name"], records[domain_b]["Value"])
    wait_until(lambda: describe(aws, "eu-west-1", arn)["Status"] == "ISSUED", timeout=5,
               what="the certificate to be issued")


def test_waiting_alone_never_issues_a_dns_validated_certificate():
    """moto would issue after MOTO_ACM_VALIDATION_WAIT; the sandbox waits for the record."""
    from moto import mock_aws
    from moto.acm.models import acm_backends
    from moto.route53.models import route53_backends

    from helpers.sandbox import patches
    from helpers.sandbox.acm.validation import CertificateValidator
    from helpers.sandbox.context import ACCOUNT_ID, SandboxContext, SandboxSettings
    from helpers.sandbox.route53.dns_records import Resolver

    with mock_aws():
        ctx = SandboxContext(SandboxSettings(time_scale=0.05))
        ctx.resolver = Resolver(ctx)
        validator = CertificateValidator(ctx)
        patches.install()  # moto as the sandbox has it (helpers.sandbox.patches)
        validator.start()
        try:
            acm = acm_backends[ACCOUNT_ID]["eu-west-1"]
            arn = acm.request_certificate("waiting.example.com", None, [], [])
            cert = acm.get_certificate(arn)
            cert.created_at -= datetime.timedelta(days=1)  # far beyond moto's wait
            assert acm.get_certificate(arn).status == "PENDING_VALIDATION"

            record = validation_records(cert.describe()["Certificate"])["waiting.example.com"]
            route53 = route53_backends[ACCOUNT_ID]["aws"]
            zone = route53.create_hosted_zone("waiting.example.com.", private_zone=False)
            route53.change_resource_record_sets(zone.id, [{
                "Action": "CREATE",
                "ResourceRecordSet": {"Name": record["Name"], "Type": "CNAME", "TTL": 300,
                                      "ResourceRecords": [{"Value": record["Value"]}]}}])
            assert acm.get_certificate(arn).status == "ISSUED"
        finally:
            validator.stop()
            patches.uninstall()


def test_a_certificate_used_by_a_custom_domain_cannot_be_deleted_until_the_domain_is_gone(
        sandbox, aws):
    region = "eu-west-1"
    acm, apigw = aws("acm", region), aws("apigateway", region)
    host = f"inuse-{uuid.uuid4().hex[:10]}.example.com"
    arn = request(aws, region, host)
    apigw.create_domain_name(domainName=host, regionalCertificateArn=arn,
                             endpointConfiguration={"types": ["REGIONAL"]})
    domain_arn = f"arn:aws:apigateway:{region}::/domainnames/{host}"
    try:
        assert describe(aws, region, arn)["InUseBy"] == [domain_arn]
        with pytest.raises(acm.exceptions.ResourceInUseException, match=domain_arn):
            acm.delete_certificate(CertificateArn=arn)
        assert describe(aws, region, arn)["CertificateArn"] == arn  # still there
    finally:
        apigw.delete_domain_name(domainName=host)
    deleted_at = time.monotonic()
    # API Gateway lets go of a deleted domain's certificate a while later, not at once.
    assert describe(aws, region, arn)["InUseBy"] == [domain_arn]
    with pytest.raises(acm.exceptions.ResourceInUseException):
        acm.delete_certificate(CertificateArn=arn)
    release_s = CERTIFICATE_RELEASE_S * sandbox["time_scale"]
    wait_until(lambda: describe(aws, region, arn)["InUseBy"] == [], timeout=release_s + 5,
               interval=0.1, what="the deleted domain's certificate to be released")
    assert time.monotonic() - deleted_at >= release_s * 0.9  # not before the scaled delay
    acm.delete_certificate(CertificateArn=arn)
    with pytest.raises(acm.exceptions.ResourceNotFoundException):
        describe(aws, region, arn)


def test_waiting_for_a_certificate_whose_records_are_missing_stops_with_what_to_check(
        sandbox, tmp_path, monkeypatch, new_participant):
    """Notebook 03.3 without the validation records: the wait ends at its timeout with the
    certificate's status and what to check, not a waiter's traceback."""
    from helpers.aws import failover
    from workshop_steps import tear_down

    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    config = new_participant("cw")
    failover.request_certificates(config)
    said: list[str] = []
    try:
        with pytest.raises(failover.FailoverSetupError) as stopped:
            failover.wait_for_certificates(config, progress=said.append, timeout=2)
        sentence = str(stopped.value)
        assert sentence.startswith(f"the certificate in {config.primary_region} is "
                                   "PENDING_VALIDATION, not ISSUED")
        assert f"validation CNAME records are in the hosted zone of {config.domain}" in sentence
        assert said == [f"{config.primary_region}: waiting for ACM to validate {config.domain} "
                        f"and *.{config.domain}"]
    finally:
        tear_down(config)
