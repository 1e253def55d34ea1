"""ACM certificates for ``<domain>`` and ``*.<domain>``, one per region, DNS-validated (3.3)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import WaiterError

from helpers.aws.failover.common import FailoverSetupError, remember
from helpers.aws.failover.zone import change_records
from helpers.aws.ownership import tags
from helpers.base.say import Say, or_quiet
from helpers.connect import net
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig

if TYPE_CHECKING:
    pass


VALIDATION_TTL = 300

def request_certificates(config: WorkshopConfig) -> dict[str, str]:
    """One ACM certificate for ``<domain>`` and ``*.<domain>`` in each region (DNS-validated).

    API Gateway takes a Regional custom domain's certificate only from its own
    region, hence two. An ISSUED or PENDING certificate for exactly these names
    is reused, which makes re-running safe; the idempotency token makes the
    SDK's automatic retries of one request safe (a retry returns the same
    certificate instead of a second one). The token is fresh for each request:
    ACM maps a token to its certificate for an hour, even after that
    certificate has been deleted by a cleanup.
    """
    arns = {}
    for region in config.regions:
        arn = find_certificate(config, region)
        if arn is None:
            arn = client("acm", region).request_certificate(
                DomainName=config.domain, SubjectAlternativeNames=_cert_names(config),
                ValidationMethod="DNS", IdempotencyToken=uuid.uuid4().hex, Tags=tags(config),
            )["CertificateArn"]
        arns[region] = arn
    remember(config, certificates=arns)
    return arns


def find_certificate(config: WorkshopConfig, region: str) -> str | None:
    """An ISSUED (preferred) or PENDING_VALIDATION certificate covering the kit's names."""
    acm = client("acm", region)
    found: dict[str, str] = {}
    for summary in certificate_summaries(acm, ["ISSUED", "PENDING_VALIDATION"]):
        if summary["DomainName"] != config.domain:
            continue
        cert = acm.describe_certificate(CertificateArn=summary["CertificateArn"])["Certificate"]
        if set(cert.get("SubjectAlternativeNames", [])) == set(_cert_names(config)):
            found.setdefault(cert["Status"], cert["CertificateArn"])
    return found.get("ISSUED") or found.get("PENDING_VALIDATION")


def certificate(config: WorkshopConfig, region: str) -> str:
    arn = find_certificate(config, region)
    if arn is None:
        raise FailoverSetupError(f"no certificate for {config.domain} in {region}: run "
                                 "request_certificates() first")
    return arn


def write_validation_records(config: WorkshopConfig, zone_id: str,
                             timeout: float = 120) -> list[str]:
    """UPSERT the CNAMEs through which ACM checks that we control the domain.

    ACM fills in ``ResourceRecord`` a few seconds after the request, so this
    polls until it is there. ``<domain>`` and ``*.<domain>`` share one record,
    and both regions ask for the same one; each is written once.
    """
    records: dict[str, dict[str, str]] = {}
    for region in config.regions:
        acm, arn = client("acm", region), certificate(config, region)
        cert = net.wait_until(lambda a=acm, c=arn: _published(a, c), timeout, interval=1,
                              what=f"ACM to publish the validation record of {arn}")
        for option in cert.get("DomainValidationOptions", []):
            if "ResourceRecord" in option:
                records[option["ResourceRecord"]["Name"]] = option["ResourceRecord"]
    change_records(zone_id, [
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": r["Name"], "Type": r["Type"], "TTL": VALIDATION_TTL,
            "ResourceRecords": [{"Value": r["Value"]}]}}
        for r in records.values()], "ACM DNS validation (workshop kit)")
    return sorted(records)


def _published(acm: Any, arn: str) -> dict[str, Any] | None:
    """The certificate once every pending name has its validation record, else None."""
    cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    options = cert.get("DomainValidationOptions", [])
    if cert["Status"] != "PENDING_VALIDATION":
        return cert  # issued (or failed): whatever records it has are final
    return cert if options and all("ResourceRecord" in o for o in options) else None


def wait_for_certificates(config: WorkshopConfig, progress: Say | None = None,
                          timeout: float = 1800) -> dict[str, str]:
    """Wait until both certificates are ISSUED (ACM's ``certificate_validated`` waiter).

    Returns ``{region: "ISSUED"}``; a certificate that cannot be issued raises.
    """
    say = or_quiet(progress)
    deadline = time.monotonic() + timeout
    statuses = {}
    for region in config.regions:
        arn = certificate(config, region)
        say(f"{region}: waiting for ACM to validate {config.domain} and *.{config.domain}")
        attempts = max(1, int(deadline - time.monotonic()))
        try:
            client("acm", region).get_waiter("certificate_validated").wait(
                CertificateArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": attempts})
        except WaiterError as exc:
            status = exc.last_response.get("Certificate", {}).get("Status", "unknown")
            raise FailoverSetupError(
                f"the certificate in {region} is {status}, not ISSUED: check that the "
                f"validation CNAME records are in the hosted zone of {config.domain} and that "
                "the registrar delegates the domain to that zone (its NS records), then wait "
                "again") from None
        statuses[region] = "ISSUED"  # the waiter succeeds only once every name is validated
        say(f"{region}: certificate issued")
    return statuses


def certificate_summaries(acm: Any, statuses: list[str] | None = None) -> Iterator[dict]:
    kwargs = {"CertificateStatuses": statuses} if statuses else {}
    for page in acm.get_paginator("list_certificates").paginate(**kwargs):
        yield from page["CertificateSummaryList"]


def _cert_names(config: WorkshopConfig) -> list[str]:
    return [config.domain, f"*.{config.domain}"]
