"""Module 3.3 (Route 53 failover) and module 4 (break and restore the primary).

Each step looks for what it would create before creating it, so running a
cell twice - or after a kernel restart half-way - creates nothing twice.
What the kit creates is tagged ``workshop:kit`` / ``workshop:participant``
(where the service allows tags), which is how :mod:`helpers.cleanup` tells
the kit's resources from the learner's own.

The chain a client follows once everything is in place::

    api.<domain>       failover alias ──► <city>.<domain> (PRIMARY, health-checked)
                                     └──► <other city>.<domain> (SECONDARY)
    <city>.<domain>    CNAME ──► d-xxxx.execute-api.<region>.amazonaws.com
                                  (the Regional custom domain, mapped to the API's prod stage)
"""

from __future__ import annotations

import functools
import math
import re
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import dns.exception
from botocore.exceptions import ClientError, WaiterError

from helpers import domain_owner, net, pacing, state, tickets
from helpers.config import WorkshopConfig
from helpers.deployment import stack_outputs
from helpers.errors import WorkshopError
from helpers.say import Say, or_quiet
from helpers.session import client
from helpers.stacks import tags

if TYPE_CHECKING:
    import pandas as pd

ROUTE53_REGION = "us-east-1"  # Route 53 is global; its API lives in us-east-1
REGIONAL_TTL = 60
VALIDATION_TTL = 300
HEALTHY_FRACTION = 0.18  # Route 53: healthy while more than 18 % of checkers say so
STAGE = "prod"
BROKEN = "module 4: /health GET runs the post-ticket function (a simulated bad deploy)"
RESTORED = "module 4: /health GET runs the health-check function again"
_EXECUTE_API = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com\.?$")


class FailoverSetupError(WorkshopError):
    """A failover step cannot go on; the message says what the learner should do."""


# ---------------------------------------------------------------- hosted zone


def hosted_zone(config: WorkshopConfig, create: bool = False) -> dict[str, Any]:
    """The public hosted zone for ``config.domain`` (Route 53's HostedZone; ``Id`` without
    the ``/hostedzone/`` prefix, as record changes and alias targets take it).

    The kit never registers or buys a domain. Without a zone it stops and says
    how to get one, unless ``create=True`` (the sandbox's case, or a learner's
    choice on AWS for a domain they control - the registrar must then delegate
    to the new zone's name servers before ACM can validate anything).
    """
    domain_owner.refuse_if_taken(config)  # before anything is created for the domain
    zone_id = find_hosted_zone(config)
    if zone_id is None and not create:
        raise FailoverSetupError(
            f"there is no public hosted zone for {config.domain} in this account. Register "
            "the domain with Route 53 (console: Route 53 > Registered domains), or create a "
            "public hosted zone for a domain you own and point the registrar's NS records "
            "at it; or choose a domain that already has a zone here. Then run this cell "
            "again (pass create=True to let the kit create the zone for you)")
    r53 = _route53()
    if zone_id is None:
        created = r53.create_hosted_zone(
            Name=config.domain, CallerReference=f"workshop:{config.prefix}:{uuid.uuid4().hex}",
            HostedZoneConfig={"Comment": f"workshop kit, participant {config.prefix}",
                              "PrivateZone": False})
        zone_id = _zone_id(created["HostedZone"]["Id"])
        r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id,
                                     AddTags=tags(config))
    _remember(config, zone_id=zone_id)
    return {**r53.get_hosted_zone(Id=zone_id)["HostedZone"], "Id": zone_id}


def find_hosted_zone(config: WorkshopConfig) -> str | None:
    """The id of the public zone for the domain, or None (never creates anything).

    AWS allows several zones of one name; only the one the registrar delegates
    to answers on the internet, so more than one is an error unless exactly one
    of them is the kit's.
    """
    zones = [z for z in _zones_named(_route53(), config.domain)
             if not z["Config"].get("PrivateZone")]
    if len(zones) > 1:
        mine = [z for z in zones if is_kit_zone(config, _zone_id(z["Id"]))]
        if len(mine) != 1:
            ids = ", ".join(_zone_id(z["Id"]) for z in zones)
            raise FailoverSetupError(
                f"{len(zones)} public hosted zones are named {config.domain} ({ids}); only the "
                "one your registrar delegates to (its NS records) answers on the internet. "
                "Delete the others, then run this cell again")
        zones = mine
    return _zone_id(zones[0]["Id"]) if zones else None


def _zones_named(r53: Any, name: str) -> list[dict[str, Any]]:
    answer = r53.list_hosted_zones_by_name(DNSName=name, MaxItems="100")
    return [z for z in answer["HostedZones"] if z["Name"] == f"{name}."]


def is_kit_zone(config: WorkshopConfig, zone_id: str) -> bool:
    """Did the kit create this zone for this participant (its tags say so)?"""
    found = _route53().list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)
    return kit_tagged(config, found["ResourceTagSet"].get("Tags", []))


# ---------------------------------------------------------------- certificates


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
    _remember(config, certificates=arns)
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


# ---------------------------------------------------------------- custom domains


def custom_domain_names(config: WorkshopConfig, region: str) -> tuple[str, str]:
    """``api.<domain>`` and this region's ``<city>.<domain>``."""
    return config.api_host(), config.regional_host(region)


# API Gateway creates at most one custom domain name per 30 s in an account and region
# (fixed quota, shared by the whole room): creation waits it out and says so, as clean-up
# does for deletion (helpers.pacing).
DOMAIN_CREATION_WINDOW_S = 30
DOMAIN_CREATION_PATIENCE_S = 45 * 60


def create_custom_domains(config: WorkshopConfig, progress: Say | None = print
                          ) -> dict[str, dict[str, dict[str, str]]]:
    """Regional custom domains with the base path ``(none)`` mapped to each API's prod stage.

    Returns ``{region: {host: {"regionalDomainName": ..., "regionalHostedZoneId": ...}}}``:
    the targets the DNS records point at. A wait for API Gateway's creation quota is
    reported to ``progress``.
    """
    say = or_quiet(progress)
    targets: dict[str, dict[str, dict[str, str]]] = {}
    for region in config.regions:
        apigw = client("apigateway", region)
        once = client("apigateway", region, retries=False)
        api_id = stack_outputs(config, "api", region)["ApiId"]
        cert = certificate(config, region)
        targets[region] = {}
        for host in custom_domain_names(config, region):
            domain = custom_domain(apigw, host)
            if domain is None:
                try:
                    domain = pacing.within_quota(
                        functools.partial(
                            once.create_domain_name, domainName=host,
                            regionalCertificateArn=cert,
                            endpointConfiguration={"types": ["REGIONAL"]},
                            securityPolicy="TLS_1_2",
                            tags={t["Key"]: t["Value"] for t in tags(config)}),
                        window_s=DOMAIN_CREATION_WINDOW_S,
                        patience_s=DOMAIN_CREATION_PATIENCE_S,
                        waiting_for=f"to create custom domain {host} ({region})",
                        quota=f"API Gateway creates one custom domain per "
                              f"{DOMAIN_CREATION_WINDOW_S} s in an account and region, for "
                              "everyone in the account", say=say)
                except ClientError as exc:
                    if exc.response["Error"]["Code"] == "ConflictException":
                        # Created by someone else since the domain was checked.
                        domain_owner.refuse_if_taken(config)
                    if exc.response["Error"]["Code"] == "BadRequestException":
                        raise FailoverSetupError(
                            f"API Gateway refused {host} in {region}: "
                            f"{exc.response['Error']['Message']}. Wait until the certificate "
                            "is ISSUED (wait_for_certificates) and run this cell again") from None
                    raise
            _map_root(apigw, host, api_id)
            targets[region][host] = {k: domain[k] for k in
                                     ("regionalDomainName", "regionalHostedZoneId")}
    _remember(config, custom_domains=targets)
    return targets


def custom_domain(apigw: Any, host: str) -> dict[str, Any] | None:
    """API Gateway's custom domain ``host`` (GetDomainName, tags included), or None."""
    try:
        return apigw.get_domain_name(domainName=host)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NotFoundException":
            return None
        raise


def _map_root(apigw: Any, host: str, api_id: str) -> None:
    """Map the base path ``(none)`` (the root, ``/``) to ``api_id``'s prod stage."""
    mappings = [m for page in apigw.get_paginator("get_base_path_mappings").paginate(
        domainName=host) for m in page.get("items", [])]
    root = next((m for m in mappings if m["basePath"] == "(none)"), None)
    if root is None:
        apigw.create_base_path_mapping(domainName=host, restApiId=api_id, stage=STAGE)
    elif root["restApiId"] != api_id or root.get("stage") != STAGE:
        apigw.update_base_path_mapping(domainName=host, basePath="(none)", patchOperations=[
            {"op": "replace", "path": "/restapiId", "value": api_id},
            {"op": "replace", "path": "/stage", "value": STAGE}])


# ---------------------------------------------------------------- DNS records


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
NEGATIVE_TTL_S = 900


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

    scale = net.time_scale()
    return net.wait_until(
        answered, (NEGATIVE_TTL_S + REGIONAL_TTL) * scale, interval=max(0.1, 5 * scale),
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


def create_failover_records(config: WorkshopConfig, zone_id: str, health_check_id: str) -> None:
    """UPSERT the PRIMARY/SECONDARY failover aliases for ``api.<domain>``.

    An UPSERT replaces records of the same name and set identifier whoever wrote
    them, so the domain is checked to be nobody else's first.
    """
    domain_owner.refuse_if_taken(config)
    change_records(zone_id, [{"Action": "UPSERT", "ResourceRecordSet": r}
                             for r in failover_records(config, zone_id, health_check_id)],
                   "api failover records (workshop kit)")
    wait_until_resolves(config.api_host())


def change_records(zone_id: str, changes: list[dict[str, Any]], comment: str) -> None:
    """Apply a change batch and wait until Route 53 reports it INSYNC."""
    if not changes:
        return
    r53 = _route53()
    change = r53.change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Comment": comment, "Changes": changes})
    # Route 53 propagates a change within 60 s (PENDING, then INSYNC); GetChange every 2 s
    # (scaled in the sandbox) counts towards the account's five requests a second.
    delay = 2 * net.time_scale()
    r53.get_waiter("resource_record_sets_changed").wait(
        Id=change["ChangeInfo"]["Id"],
        WaiterConfig={"Delay": delay, "MaxAttempts": math.ceil(300 / delay)})


def records(zone_id: str) -> Iterator[dict[str, Any]]:
    """Every record set of the zone (paginated)."""
    for page in _route53().get_paginator("list_resource_record_sets").paginate(
            HostedZoneId=zone_id):
        yield from page["ResourceRecordSets"]


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
        _name_servers.pop(config.domain, None)  # the zone may have been replaced: look again
        return net.resolve_at(host, name_servers(config)[0])


def client_dns_answer(config: WorkshopConfig, name: str) -> net.DnsAnswer:
    """What a client sees for ``name``: its own cache in front of its caching resolver, each
    holding an answer for its TTL (the lane beside :func:`dns_answer`)."""
    return net.resolve_cached(name if "." in name else f"{name}.{config.domain}")


# A zone's name servers do not change while it exists: asked once per domain, not per probe
# (Route 53 allows five API calls a second per account).
_name_servers: dict[str, list[str]] = {}


def name_servers(config: WorkshopConfig) -> list[str]:
    """The hosted zone's name servers (its delegation set), as the registrar lists them."""
    if config.domain not in _name_servers:
        zone_id = find_hosted_zone(config)
        if zone_id is None:
            raise FailoverSetupError(f"no hosted zone for {config.domain}: run notebook 03.3 "
                                     "first")
        zone = _route53().get_hosted_zone(Id=zone_id)
        _name_servers[config.domain] = zone["DelegationSet"]["NameServers"]
    return _name_servers[config.domain]


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


# ---------------------------------------------------------------- health check


def create_health_check(config: WorkshopConfig) -> str:
    """A fast HTTPS health check of ``https://<primary city>.<domain>/health``; returns its id.

    An existing check of the kit for the same endpoint is reused. Each new
    check gets a fresh ``CallerReference`` (Route 53 refuses to reuse the
    reference of a deleted check), marked ``workshop:<prefix>:`` so the kit
    recognises its own.
    """
    found = find_health_check(config)
    if found:
        _remember(config, health_check_id=found["Id"])
        return found["Id"]
    r53 = _route53()
    check = r53.create_health_check(
        CallerReference=f"{_caller_prefix(config)}{uuid.uuid4().hex[:16]}",
        HealthCheckConfig={
            "Type": "HTTPS", "FullyQualifiedDomainName": _checked_host(config), "Port": 443,
            "ResourcePath": "/health", "RequestInterval": 10, "FailureThreshold": 1,
            "EnableSNI": True,  # API Gateway custom domains answer only with SNI
        })["HealthCheck"]
    name = f"{config.prefix}-{config.label(config.primary_region)}-api"
    r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"],
                                 AddTags=[{"Key": "Name", "Value": name}, *tags(config)])
    _remember(config, health_check_id=check["Id"])
    _check_ids[_check_key(config)] = check["Id"]
    return check["Id"]


def find_health_check(config: WorkshopConfig) -> dict[str, Any] | None:
    for check in kit_health_checks(config):
        if check["HealthCheckConfig"].get("FullyQualifiedDomainName") == _checked_host(config):
            return check
    return None


def kit_health_checks(config: WorkshopConfig) -> list[dict[str, Any]]:
    """Every health check this participant's kit created (by its CallerReference mark)."""
    return [check for page in _route53().get_paginator("list_health_checks").paginate()
            for check in page["HealthChecks"]
            if check["CallerReference"].startswith(_caller_prefix(config))]


# Route 53's API allows about five requests a second per account, shared by everybody in it
# (a room of participants). Watching a check costs one GetHealthCheckStatus per sample, so the
# check's id is looked up once, and an answer is reused for a second: each checker reports
# only every RequestInterval (10 s), so little is missed, while the drill's timings stay
# within that second. In AWS seconds; the sandbox scales it.
STATUS_REUSE_SECONDS = 1.0
_check_ids: dict[tuple[str, str], str] = {}
_recent_status: dict[str, tuple[float, dict[str, Any]]] = {}


def _check_key(config: WorkshopConfig) -> tuple[str, str]:
    return config.prefix, _checked_host(config)


def health_check_id(config: WorkshopConfig) -> str:
    key = _check_key(config)
    if key not in _check_ids:
        found = find_health_check(config)
        if found is None:
            raise FailoverSetupError(
                "there is no health check yet: run create_health_check() first")
        _check_ids[key] = found["Id"]
    return _check_ids[key]


def _status_answer(config: WorkshopConfig) -> dict[str, Any]:
    check_id = health_check_id(config)
    seen = _recent_status.get(check_id)
    if seen and time.monotonic() - seen[0] < STATUS_REUSE_SECONDS * net.time_scale():
        return seen[1]
    try:
        answer = _route53().get_health_check_status(HealthCheckId=check_id)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchHealthCheck":
            raise
        # Deleted (clean-up) or replaced since it was looked up: look again, once.
        _check_ids.pop(_check_key(config), None)
        check_id = health_check_id(config)
        answer = _route53().get_health_check_status(HealthCheckId=check_id)
    _recent_status[check_id] = (time.monotonic(), answer)
    return answer


def health_check_status(config: WorkshopConfig) -> tuple[bool, list[dict[str, Any]]]:
    """``(healthy, observations)``: one observation per Route 53 checker location.

    Healthy, as Route 53 decides it, while more than 18 % of the checkers
    report success.
    """
    answer = _status_answer(config)
    observations = []
    for o in answer["HealthCheckObservations"]:
        report = o.get("StatusReport", {})
        observations.append({
            "region": o.get("Region"), "ip": o.get("IPAddress"),
            "ok": report.get("Status", "").startswith("Success"),
            "status": report.get("Status", ""), "checked": report.get("CheckedTime")})
    return healthy_fraction(observations) > HEALTHY_FRACTION, observations


def healthy_fraction(observations: list[dict[str, Any]]) -> float:
    if not observations:
        return 0.0
    return sum(o["ok"] for o in observations) / len(observations)


def wait_until_healthy(config: WorkshopConfig, timeout: float = 300) -> list[dict[str, Any]]:
    """Wait for the health check to report healthy (on AWS: a minute or two after creation)."""
    return _wait_for_health(config, True, timeout)


def wait_until_unhealthy(config: WorkshopConfig, timeout: float = 300) -> list[dict[str, Any]]:
    return _wait_for_health(config, False, timeout)


def _wait_for_health(config: WorkshopConfig, healthy: bool,
                     timeout: float) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def reached() -> bool:
        verdict, observations = health_check_status(config)
        seen[:] = observations
        return verdict == healthy

    what = "healthy" if healthy else "unhealthy"
    try:
        # Route 53 allows about 5 API calls a second per account; twice a second is plenty.
        net.wait_until(reached, timeout, interval=0.5, what=f"the health check to turn {what}")
    except TimeoutError:
        statuses = "; ".join(sorted({o["status"] for o in seen})) or "no observations"
        raise TimeoutError(
            f"the health check of {_checked_host(config)} is not {what} after {timeout:.0f} s "
            f"(checkers report: {statuses}). Open https://{_checked_host(config)}/health "
            "yourself to see what it answers") from None
    return seen


# ---------------------------------------------------------------- module 4


def break_primary(config: WorkshopConfig) -> bool:
    """Deploy a "bad release" to the primary: ``/health`` runs the post-ticket function.

    That function rejects a request without a ticket, so ``/health`` answers
    400, the health check fails and DNS fails over. Returns False when the
    primary was already broken this way (nothing changed).
    """
    return _point_health_at(config, "PostFunctionName", BROKEN)


def restore_primary(config: WorkshopConfig) -> bool:
    """Undo :func:`break_primary`; returns False when there was nothing to undo."""
    return _point_health_at(config, "HealthFunctionName", RESTORED)


def _point_health_at(config: WorkshopConfig, function_output: str, description: str) -> bool:
    region = config.primary_region
    api = stack_outputs(config, "api", region)
    apigw = client("apigateway", region)
    api_id = api["ApiId"]
    resource_id = _resource_id(apigw, api_id, "/health")
    arn = client("lambda", region).get_function_configuration(
        FunctionName=api[function_output])["FunctionArn"]
    uri = (f"arn:{arn.split(':')[1]}:apigateway:{region}:lambda:path/2015-03-31/functions/"
           f"{arn}/invocations")
    current = apigw.get_integration(restApiId=api_id, resourceId=resource_id, httpMethod="GET")
    stage = apigw.get_stage(restApiId=api_id, stageName=STAGE)
    live = apigw.get_deployment(restApiId=api_id, deploymentId=stage["deploymentId"])
    # The stage serves what was deployed, not what is configured: both must agree.
    if current.get("uri") == uri and (live.get("description") == BROKEN) == (description == BROKEN):
        return False
    if current.get("uri") != uri:
        apigw.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod="GET",
                              type="AWS_PROXY", integrationHttpMethod="POST", uri=uri)
    apigw.create_deployment(restApiId=api_id, stageName=STAGE, description=description)
    return True


def _resource_id(apigw: Any, api_id: str, path: str) -> str:
    for page in apigw.get_paginator("get_resources").paginate(restApiId=api_id):
        for resource in page["items"]:
            if resource["path"] == path:
                return resource["id"]
    raise FailoverSetupError(f"the API {api_id} has no {path} resource: redeploy the API stack")


def api_url(config: WorkshopConfig) -> str:
    """The failover URL the UI uses from module 3 on (no ``/prod/``: the mapping adds it)."""
    return f"https://{config.api_host()}/"


def regional_url(config: WorkshopConfig, region: str) -> str:
    return f"https://{config.regional_host(region)}/"


def serving_region(config: WorkshopConfig) -> str | None:
    """The region that answers ``https://api.<domain>/health`` right now."""
    return tickets.health(api_url(config))[2]


# ---------------------------------------------------------------- small shared pieces


def _route53() -> Any:
    return client("route53", ROUTE53_REGION)


def _zone_id(raw: str) -> str:
    return raw.rsplit("/", 1)[-1]


def _cert_names(config: WorkshopConfig) -> list[str]:
    return [config.domain, f"*.{config.domain}"]


def _caller_prefix(config: WorkshopConfig) -> str:
    return f"workshop:{config.prefix}:"


def _checked_host(config: WorkshopConfig) -> str:
    return config.regional_host(config.primary_region)


def certificate_summaries(acm: Any, statuses: list[str] | None = None) -> Iterator[dict]:
    kwargs = {"CertificateStatuses": statuses} if statuses else {}
    for page in acm.get_paginator("list_certificates").paginate(**kwargs):
        yield from page["CertificateSummaryList"]


def kit_tagged(config: WorkshopConfig, found: list[dict[str, str]] | dict[str, str]) -> bool:
    """Do ``found`` tags (AWS's list form or API Gateway's dict) mark this participant's kit?"""
    if isinstance(found, list):
        found = {t["Key"]: t.get("Value", "") for t in found}
    return all(found.get(t["Key"]) == t["Value"] for t in tags(config))


def _remember(config: WorkshopConfig, **values: Any) -> None:
    """Keep what was found or created under ``failover`` in the state (for status and display)."""
    state.update(config.prefix, failover=values)
