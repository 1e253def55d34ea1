"""Whose a domain is: refuse a domain whose workshop names another participant already uses.

Two participants of one account with one domain would share ``api.<domain>`` and
``<city>.<domain>``: API Gateway keeps one custom domain of a name per region, and
an UPSERT of the failover records replaces the other participant's. So the second
participant would silently take the first one's endpoint over. Before creating
anything for a domain, the kit looks for the marks other participants' kits leave
on it - the hosted zone's and custom domains' ``workshop:participant`` tag, the
health check's ``CallerReference`` and the failover records' set identifiers - and
stops with :class:`DomainTakenError` if any of them names someone else.

It only reads (a few calls per check); it never changes anything.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from helpers.aws.ownership import PARTICIPANT_TAG
from helpers.base.errors import WorkshopError
from helpers.base.regions import ROUTE53_REGION
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig

_CALLER_MARK = "workshop:"  # a health check's CallerReference: workshop:<prefix>:<random>


class DomainTakenError(WorkshopError):
    """Another participant's kit uses this domain; the message suggests a domain of one's own."""


def other_owners(config: WorkshopConfig) -> dict[str, list[str]]:
    """``{participant: [what of theirs uses the domain]}`` for every other participant."""
    found: dict[str, list[str]] = {}

    def mark(owner: str | None, what: str) -> None:
        if owner and owner != config.prefix:
            found.setdefault(owner, []).append(what)

    r53 = client("route53", ROUTE53_REGION)
    zones = [z for z in r53.list_hosted_zones_by_name(DNSName=config.domain, MaxItems="100")
             ["HostedZones"] if z["Name"] == f"{config.domain}."
             and not z["Config"].get("PrivateZone")]
    for zone in zones:
        zone_id = zone["Id"].rsplit("/", 1)[-1]
        tagged = r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)
        mark(_participant(tagged["ResourceTagSet"].get("Tags", [])),
             f"hosted zone {config.domain} ({zone_id})")
        _mark_records(config, r53, zone_id, mark)
    regional = {config.regional_host(r) for r in config.regions}
    for page in r53.get_paginator("list_health_checks").paginate():
        for check in page["HealthChecks"]:
            host = check["HealthCheckConfig"].get("FullyQualifiedDomainName")
            if host in regional:
                mark(_caller_participant(check["CallerReference"]),
                     f"health check {check['Id']} of {host}")
    for region in config.regions:
        apigw = client("apigateway", region)
        for host in (config.api_host(), config.regional_host(region)):
            try:  # GetDomainName carries the tags (list items may not)
                domain = apigw.get_domain_name(domainName=host)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "NotFoundException":
                    continue
                raise
            mark(domain.get("tags", {}).get(PARTICIPANT_TAG),
                 f"custom domain {host} ({region})")
    return found


def _mark_records(config: WorkshopConfig, r53: Any, zone_id: str, mark: Any) -> None:
    """The failover records of ``api.<domain>``: set identifiers are ``<prefix>-<city>``."""
    labels = {f"-{config.label(r)}" for r in config.regions}
    name = f"{config.api_host()}."
    for page in r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
        for record in page["ResourceRecordSets"]:
            ident = record.get("SetIdentifier", "")
            if record["Name"] != name or not ident:
                continue
            suffix = next((s for s in labels if ident.endswith(s)), None)
            owner = ident[: -len(suffix)] if suffix else ident
            mark(owner, f"failover record {config.api_host()} ({ident})")


def refuse_if_taken(config: WorkshopConfig) -> None:
    """Raise :class:`DomainTakenError` if another participant's kit uses ``config.domain``."""
    owners = other_owners(config)
    if not owners:
        return
    whose = "; ".join(f"{owner}: {', '.join(things[:3])}" for owner, things in owners.items())
    own = f"{config.prefix}.{config.domain}"
    raise DomainTakenError(
        f"the domain {config.domain} is already used by another participant ({whose}); "
        "sharing it would take their API name over. Use one domain or delegated subdomain "
        f"per participant, e.g. {own} (choose it in notebook 00, or pass --domain {own}); "
        f"nothing was created for {config.domain}")


def _participant(tags: list[dict[str, str]]) -> str | None:
    return next((t.get("Value") for t in tags if t["Key"] == PARTICIPANT_TAG), None)


def _caller_participant(reference: str) -> str | None:
    if not reference.startswith(_CALLER_MARK):
        return None
    return reference[len(_CALLER_MARK):].split(":", 1)[0] or None
