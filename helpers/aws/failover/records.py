"""The DNS records of module 3.3 (regional CNAMEs, the failover pair) and what DNS answers.

``dns_answer`` asks the zone's own name servers (the moment Route 53 switches),
``client_dns_answer`` what a client with caches sees; ``answer_region`` reads the region
from an answer's CNAME chain.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dns.exception

from helpers.aws import domain_owner, tickets
from helpers.aws.failover.common import FailoverSetupError
from helpers.aws.failover.custom_domains import custom_domain
from helpers.aws.failover.zone import (
    change_records,
    find_hosted_zone,
    forget_name_servers,
    name_servers,
    records,
)
from helpers.connect import net
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig
from helpers.sandbox.clock import aws_seconds

if TYPE_CHECKING:
    import pandas as pd


REGIONAL_TTL = 60
_EXECUTE_API = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com\.?$")


def create_regional_records(config: WorkshopConfig, zone_id: str) -> dict[str, str]:
    """CNAME ``<city>.<domain>`` → that region's custom domain target, TTL 60."""
    targets = {}
    for region in config.regions:
        host = config.regional_host(region)
        domain = custom_domain(client("apigateway", region), host)
        if domain is None:
            raise FailoverSetupError(f"the custom domain {host} does not exist in {region}: "
                                     "run create_custom_domains() first")
        targets[host] = domain["regionalDomainName"]
    change_records(zone_id, [
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": host, "Type": "CNAME", "TTL": REGIONAL_TTL,
            "ResourceRecords": [{"Value": target}]}}
        for host, target in targets.items()], "regional API records (workshop kit)")
    for host in targets:
        wait_until_resolves(host)
    return targets


# A Route 53 public zone's SOA has TTL 900 and MINIMUM 86400: resolvers keep a "no such name"
# for 900 s (RFC 2308), so a name asked for before its record existed resolves that much later.
NEGATIVE_TTL_S = aws_seconds("dns_negative_ttl")


def wait_until_resolves(host: str) -> net.DnsAnswer:
    """Wait until a client's resolver answers ``host``, just after its record was created.

    Immediate unless someone asked for the name before the record existed; then as long
    as the resolver keeps that negative answer (up to 900 s on AWS, scaled in the sandbox).
    """
    def answered() -> net.DnsAnswer | None:
        try:
            answer = net.resolve(host)
        except dns.exception.DNSException:  # NXDOMAIN from the system resolver
            return None
        return answer if answer.records else None

    scale, on = net.time_scale(), net.clock()
    return net.wait_until(
        answered, on.seconds("dns_negative_ttl") + on.seconds("dns_record_ttl", REGIONAL_TTL),
        interval=max(0.1, 5 * scale),
        what=f"{host} to resolve: its record is in the zone, but a resolver that was asked "
             "for the name before it existed keeps answering 'no such name' for up to 15 "
             "minutes")


def failover_records(config: WorkshopConfig, zone_id: str,
                     health_check_id: str) -> list[dict[str, Any]]:
    """The two ``api.<domain>`` records: PRIMARY (health-checked) and SECONDARY.

    Each is an alias to the regional record of the same zone (allowed for a
    CNAME alias below the zone apex, where the target's type must match), with
    Evaluate Target Health on: Route 53's API reference requires it of failover
    alias records (``ResourceRecordSet``, ``Failover``; docs/aws-sources.md).
    """
    result = []
    for role, region in zip(("PRIMARY", "SECONDARY"), config.regions, strict=True):
        record: dict[str, Any] = {
            "Name": config.api_host(), "Type": "CNAME",
            "SetIdentifier": set_identifier(config, region), "Failover": role,
            "AliasTarget": {"HostedZoneId": zone_id, "DNSName": config.regional_host(region),
                            "EvaluateTargetHealth": True}}
        if role == "PRIMARY":
            record["HealthCheckId"] = health_check_id
        result.append(record)
    return result


def set_identifier(config: WorkshopConfig, region: str) -> str:
    return f"{config.prefix}-{config.label(region)}"


@dataclass(frozen=True)
class ChangeBatch:
    """A ``ChangeResourceRecordSets`` request as the kit sent it: shown as the JSON document
    ``aws route53 change-resource-record-sets --change-batch`` takes."""

    zone_id: str
    batch: dict[str, Any]

    def json(self) -> str:
        return json.dumps(self.batch, indent=2)

    def __repr__(self) -> str:
        return f"ChangeResourceRecordSets, hosted zone {self.zone_id}, ChangeBatch:\n{self.json()}"

    def _repr_html_(self) -> str:
        return (f"<div><b>ChangeResourceRecordSets</b> · hosted zone "
                f"<code>{html.escape(self.zone_id)}</code> · <code>ChangeBatch</code> as sent:"
                f"</div><pre style='margin-top:0.2em'>{html.escape(self.json())}</pre>")


def create_failover_records(config: WorkshopConfig, zone_id: str,
                            health_check_id: str) -> ChangeBatch:
    """UPSERT the PRIMARY/SECONDARY failover aliases for ``api.<domain>``; returns the change
    batch as sent.

    An UPSERT replaces records of the same name and set identifier whoever wrote
    them, so the domain is checked to be nobody else's first.
    """
    domain_owner.refuse_if_taken(config)
    sent = change_records(zone_id, [{"Action": "UPSERT", "ResourceRecordSet": r}
                                    for r in failover_records(config, zone_id, health_check_id)],
                          "api failover records (workshop kit)")
    wait_until_resolves(config.api_host())
    return ChangeBatch(zone_id, sent)


def record_sets(config: WorkshopConfig, zone_id: str | None = None) -> pd.DataFrame:
    """The ``api.<domain>`` record sets as Route 53's ListResourceRecordSets returns them.

    One row per record: name, type, set identifier, failover role, health check id
    and the alias target with its Evaluate Target Health flag (empty where the
    record has none), so the two failover records can be compared side by side.
    """
    import pandas as pd  # only notebooks show it; the CLI does not pay for the import

    zone_id = zone_id or find_hosted_zone(config)
    if zone_id is None:
        raise FailoverSetupError(f"no hosted zone for {config.domain}: run notebook 03.3 first")
    name = f"{config.api_host()}."
    rows = []
    for record in records(zone_id):
        if record["Name"] != name:
            continue
        alias = record.get("AliasTarget", {})
        rows.append({"Name": record["Name"], "Type": record["Type"],
                     "SetIdentifier": record.get("SetIdentifier", ""),
                     "Failover": record.get("Failover", ""),
                     "HealthCheckId": record.get("HealthCheckId", ""),
                     "AliasTarget.DNSName": alias.get("DNSName", ""),
                     "AliasTarget.EvaluateTargetHealth": alias.get("EvaluateTargetHealth", "")})
    return pd.DataFrame(rows, columns=[
        "Name", "Type", "SetIdentifier", "Failover", "HealthCheckId", "AliasTarget.DNSName",
        "AliasTarget.EvaluateTargetHealth"])


def dns_answer(config: WorkshopConfig, name: str) -> net.DnsAnswer:
    """What Route 53 answers for ``name`` now (``"api"`` means ``api.<domain>``).

    Asked of the hosted zone's own name servers, as ``dig @ns-….awsdns-…`` does, so
    no resolver's cache stands between: this is the moment Route 53 switches. What a
    client with a cache sees is :func:`client_dns_answer`, later by up to the TTL.
    """
    host = name if "." in name else f"{name}.{config.domain}"
    try:
        return net.resolve_at(host, name_servers(config)[0])
    except Exception:
        forget_name_servers(config.domain)  # the zone may have been replaced: look again
        return net.resolve_at(host, name_servers(config)[0])


def client_dns_answer(config: WorkshopConfig, name: str) -> net.DnsAnswer:
    """What a client sees for ``name``: its own cache in front of its caching resolver, each
    holding an answer for its TTL (the lane beside :func:`dns_answer`)."""
    return net.resolve_cached(name if "." in name else f"{name}.{config.domain}")


def answer_region(answer: net.DnsAnswer) -> str | None:
    """The region a DNS answer leads to, read from its CNAME chain.

    Route 53 answers ``api.<domain>`` with the CNAME of the chosen regional
    record, ``d-xxxx.execute-api.<region>.amazonaws.com``; the region is in that
    name (addresses would not tell: they belong to API Gateway's shared fleet).
    """
    for record in answer.records:
        if match := _EXECUTE_API.search(record):
            return match.group(1)
    return None


def api_url(config: WorkshopConfig) -> str:
    """The failover URL the UI uses from module 3 on (no ``/prod/``: the mapping adds it)."""
    return f"https://{config.api_host()}/"


def regional_url(config: WorkshopConfig, region: str) -> str:
    return f"https://{config.regional_host(region)}/"


def serving_region(config: WorkshopConfig) -> str | None:
    """The region that answers ``https://api.<domain>/health`` right now."""
    return tickets.health(api_url(config))[2]
