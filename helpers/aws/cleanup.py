"""Module 5: delete everything the kit created, in dependency order, and prove it is gone.

Order matters on AWS: DNS records before the health check they name, base
path mappings before their custom domains, the replication stack (it reads the
primary table's stream) before the API stacks, buckets emptied before their
stacks, and certificates last: ACM refuses to delete a certificate while a
custom domain uses it (``ResourceInUseException``), and on AWS it stays "in
use" for a while after its domain is deleted. A certificate still in use is
waited for (a few minutes on AWS, scaled in the sandbox) once everything else
is deleted, then reported as kept ("run ``workshop cleanup`` again in a few
minutes"); it never holds up the rest. Every step looks before it deletes, so a
second run has nothing to do and succeeds.

Only the kit's own resources are touched: exact kit names, or the
``workshop:participant`` tag / CallerReference mark. A hosted zone is deleted
only if the kit created it and nothing but its NS and SOA records is left; a
zone, custom domain or certificate the learner made is reported as kept.

Resuming: each step finds what is left before acting, so after a failure
half-way (a throttled call, a denied permission, Ctrl-C) running the cleanup
again carries on where it stopped. Resources a stack left behind (a stack
deleted by hand, ``DELETE_FAILED`` with retained resources) are found by
their exact kit name and tags and deleted too: the replicator's event source
mapping, its failure queue and the functions' log groups.

:func:`leftovers` is the proof: everything still present that carries the
participant's names or tags, including anything else tagged
``workshop:participant = <prefix>`` that the Resource Groups Tagging API
knows in either region.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from helpers.aws import deployment, failover, global_tables
from helpers.aws.ownership import kit_tagged, tags
from helpers.aws.stacks import delete as delete_stack
from helpers.aws.stacks import stack_status
from helpers.base import polling
from helpers.base.say import Say, or_quiet
from helpers.connect import net
from helpers.connect.session import account_id, client
from helpers.core import state
from helpers.core.config import WorkshopConfig
from helpers.sandbox.clock import aws_seconds

KINDS = ("replication", "ui", "api")  # deletion order
FUNCTIONS = ("ticket-get", "ticket-post", "health-check", "replicator")


@dataclass
class CleanupReport:
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # found but not the kit's to delete, and why

    @property
    def nothing_to_do(self) -> bool:
        return not self.deleted

    def __str__(self) -> str:
        lines = [f"deleted {len(self.deleted)} resource(s)"]
        lines += [f"  - {item}" for item in self.deleted]
        lines += [f"kept: {item}" for item in self.kept]
        return "\n".join(lines)


def cleanup(config: WorkshopConfig, progress: Say | None = None
            ) -> CleanupReport:
    """Delete the kit's resources for ``config.prefix`` in both regions; see the module doc."""
    report = CleanupReport()
    say = or_quiet(progress)

    def deleted(what: str) -> None:
        report.deleted.append(what)
        say(f"deleted {what}")

    zone_id = failover.find_hosted_zone(config)
    if zone_id:
        doomed, needed = _kit_records(config, zone_id)
        failover.change_records(zone_id, [{"Action": "DELETE", "ResourceRecordSet": r}
                                          for r in doomed], "workshop kit cleanup")
        for record in doomed:
            deleted(f"DNS record {_describe_record(record)}")
        report.kept += [f"DNS record {name}: a certificate the kit did not create still "
                        "validates through it" for name in sorted(needed)]
    r53 = client("route53", failover.ROUTE53_REGION)
    for check in failover.kit_health_checks(config):
        r53.delete_health_check(HealthCheckId=check["Id"])
        deleted(f"health check {check['Id']} ({_checked(check)})")
    for region in config.regions:
        for host in _kit_custom_domains(config, region, report):
            _delete_custom_domain(region, host, say)
            deleted(f"custom domain {host} ({region})")
    # Replicas before tables: a stack deletes its region's table, not another region's replica.
    for what in global_tables.remove_replicas(config, say):
        deleted(what)
    for kind in KINDS:
        for region in config.regions:
            name = config.stack_name(kind)
            if kind == "ui":
                _empty_bucket(region, _ui_bucket(config, region))
            if delete_stack(region, name, say):
                deleted(f"stack {name} ({region})")
            deployment.forget(config, kind, region)
    for region in config.regions:
        for what in _delete_orphans(config, region):
            deleted(what)
        for bucket in (_ui_bucket(config, region), _artifacts_bucket(config, region)):
            if _delete_bucket(region, bucket):
                deleted(f"bucket {bucket}")
    if zone_id and _deletable_zone(config, zone_id):
        r53.delete_hosted_zone(Id=zone_id)
        deleted(f"hosted zone {config.domain} ({zone_id})")
    elif zone_id and not failover.is_kit_zone(config, zone_id):
        report.kept.append(f"hosted zone {config.domain} ({zone_id}): not created by the kit")
    for region in config.regions:  # last: one still in use must not hold up the rest
        for arn in _kit_certificates(config, region):
            if _delete_certificate_when_released(client("acm", region), arn, region, say):
                deleted(f"certificate {arn}")
            else:
                report.kept.append(
                    f"certificate {arn} ({region}): still in use by a custom domain (API "
                    "Gateway lets go of a deleted domain's certificate after a few minutes); "
                    "run `workshop cleanup` again in a few minutes")
    data = state.load(config.prefix)
    if {"failover", "stacks"} & data.keys():  # keep the settings, forget what was deployed
        state.save(config.prefix, {k: v for k, v in data.items()
                                   if k not in ("failover", "stacks")})
    say("nothing to delete" if report.nothing_to_do else f"deleted {len(report.deleted)} "
        "resource(s)")
    return report


def leftovers(config: WorkshopConfig) -> list[str]:
    """Everything of this participant's kit still present (empty after a complete cleanup)."""
    found: list[str] = []
    zone_id = failover.find_hosted_zone(config)
    if zone_id:
        doomed, _ = _kit_records(config, zone_id)
        found += [f"DNS record {_describe_record(r)}" for r in doomed]
        if failover.is_kit_zone(config, zone_id):
            found.append(f"hosted zone {config.domain} ({zone_id})")
    found += [f"health check {c['Id']} ({_checked(c)})" for c in failover.kit_health_checks(config)]
    for region in config.regions:
        found += [f"stack {config.stack_name(kind)} ({region}, {status})" for kind in KINDS
                  if (status := stack_status(region, config.stack_name(kind)))
                  not in (None, "DELETE_COMPLETE")]
        found += [f"custom domain {host} ({region})"
                  for host in _kit_custom_domains(config, region)]
        found += [f"certificate {arn}" for arn in _kit_certificates(config, region)]
        found += [f"{what} ({region})" for what in _named_resources(config, region)]
    buckets = {b["Name"] for page in client("s3", config.primary_region).get_paginator(
        "list_buckets").paginate() for b in page.get("Buckets", [])}
    found += [f"bucket {name}" for region in config.regions
              for name in (_ui_bucket(config, region), _artifacts_bucket(config, region))
              if name in buckets]
    found += [f"IAM role {name}" for name in _kit_roles(config)]
    for region in config.regions:
        found += [f"tagged {arn} ({region})" for arn in _other_tagged(config, region)]
    return found


# ---------------------------------------------------------------- DNS


def _kit_records(config: WorkshopConfig, zone_id: str) -> tuple[list[dict], set[str]]:
    """(record sets the kit wrote, validation record names another certificate still needs)."""
    ours, others = _validation_names(config)
    failover_ids = {failover.set_identifier(config, r) for r in config.regions}
    # A regional name is the kit's while its custom domain is (or is gone): in a zone another
    # participant shares by mistake, their <city>.<domain> stays theirs.
    regional = {f"{config.regional_host(r)}." for r in config.regions
                if _regional_name_is_ours(config, r)}
    doomed = []
    for record in failover.records(zone_id):
        name, values = record["Name"], [v["Value"] for v in record.get("ResourceRecords", [])]
        if record["Type"] != "CNAME":
            continue
        if (name == f"{config.api_host()}." and record.get("SetIdentifier") in failover_ids
                or name in regional and any(".execute-api." in v for v in values)
                or name in ours and name not in others):
            doomed.append(record)
    return doomed, ours & others


def _regional_name_is_ours(config: WorkshopConfig, region: str) -> bool:
    domain = failover.custom_domain(client("apigateway", region), config.regional_host(region))
    return domain is None or kit_tagged(config, domain.get("tags", {}))


def _validation_names(config: WorkshopConfig) -> tuple[set[str], set[str]]:
    """Validation record names of the kit's certificates, and of everyone else's for the domain."""
    ours: set[str] = set()
    others: set[str] = set()
    for region in config.regions:
        acm = client("acm", region)
        for summary in failover.certificate_summaries(acm):
            name = summary["DomainName"]
            if name != config.domain and not name.endswith(f".{config.domain}"):
                continue
            arn = summary["CertificateArn"]
            cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
            names = {o["ResourceRecord"]["Name"] for o in cert.get("DomainValidationOptions", [])
                     if "ResourceRecord" in o}
            (ours if _is_kit_certificate(config, acm, arn) else others).update(names)
    return ours, others


def _describe_record(record: dict[str, Any]) -> str:
    target = (record.get("AliasTarget", {}).get("DNSName")
              or ", ".join(v["Value"] for v in record.get("ResourceRecords", [])))
    role = f" {record['Failover']}" if "Failover" in record else ""
    return f"{record['Name']} {record['Type']}{role} -> {target}"


def _deletable_zone(config: WorkshopConfig, zone_id: str) -> bool:
    only_defaults = all(r["Type"] in ("NS", "SOA") and r["Name"] == f"{config.domain}."
                        for r in failover.records(zone_id))
    return only_defaults and failover.is_kit_zone(config, zone_id)


def _checked(check: dict[str, Any]) -> str:
    conf = check["HealthCheckConfig"]
    return f"{conf.get('Type')} {conf.get('FullyQualifiedDomainName')}{conf.get('ResourcePath')}"


# ---------------------------------------------------------------- custom domains, certificates


def _kit_custom_domains(config: WorkshopConfig, region: str,
                        report: CleanupReport | None = None) -> list[str]:
    """The kit's custom domains in ``region`` (tagged for this participant).

    A domain of the same name without the kit's tags is the learner's own: it is
    noted in ``report`` and left alone.
    """
    hosts = {config.api_host(), *(config.regional_host(r) for r in config.regions)}
    apigw = client("apigateway", region)
    found = []
    for page in apigw.get_paginator("get_domain_names").paginate():
        for item in page.get("items", []):
            if item["domainName"] not in hosts:
                continue
            # GetDomainNames' items may come without tags on AWS; GetDomainName has them.
            domain = failover.custom_domain(apigw, item["domainName"])
            if domain is None:
                continue  # deleted meanwhile
            if kit_tagged(config, domain.get("tags", {})):
                found.append(domain["domainName"])
            elif report is not None:
                report.kept.append(f"custom domain {domain['domainName']} ({region}): not "
                                   "created by the kit")
    return found


# API Gateway deletes at most one custom domain name per 30 s in an account (any region), a
# quota the whole room shares when everybody cleans up at the end of a workshop. The SDK's
# own retries would wait silently and then give up; this waits the quota's window, says so,
# and keeps trying for as long as a room could need.
DOMAIN_DELETION_WINDOW_S = aws_seconds("apigateway_quota_window")  # AWS seconds
DOMAIN_DELETION_PATIENCE_S = 45 * 60


def _delete_custom_domain(region: str, host: str, say: Say) -> None:
    apigw = client("apigateway", region)
    for page in apigw.get_paginator("get_base_path_mappings").paginate(domainName=host):
        for mapping in page.get("items", []):
            apigw.delete_base_path_mapping(domainName=host, basePath=mapping["basePath"])
    once = client("apigateway", region, retries=False)
    scale = net.time_scale()
    waited = 0.0
    while True:
        try:
            once.delete_domain_name(domainName=host)
            return
        except ClientError as exc:
            if (exc.response["Error"]["Code"] != "TooManyRequestsException"
                    or waited >= DOMAIN_DELETION_PATIENCE_S * scale):
                raise
        pause = DOMAIN_DELETION_WINDOW_S * scale
        # Said on both clocks: the wait is the sandbox's, the quota AWS's.
        say(f"waiting {net.duration(pause, digits=0)} to delete custom domain {host} "
            f"({region}): API Gateway deletes one custom domain per "
            f"{DOMAIN_DELETION_WINDOW_S:g} s in an account, whatever the region, for everyone "
            "in the account")
        time.sleep(pause)
        waited += pause


def _kit_certificates(config: WorkshopConfig, region: str) -> list[str]:
    acm = client("acm", region)
    return [s["CertificateArn"] for s in failover.certificate_summaries(acm)
            if s["DomainName"] == config.domain
            and _is_kit_certificate(config, acm, s["CertificateArn"])]


def _is_kit_certificate(config: WorkshopConfig, acm: Any, arn: str) -> bool:
    return kit_tagged(config, acm.list_tags_for_certificate(CertificateArn=arn)
                               .get("Tags", []))


# API Gateway lets go of a deleted custom domain's certificate asynchronously, after a few
# minutes; clean-up, everything else already deleted, waits that long for it before it keeps
# the certificate with advice. Polled every 10 s (scaled in the sandbox).
CERTIFICATE_RELEASE_PATIENCE_S = 10 * 60
CERTIFICATE_POLL_S = 10


def _delete_certificate_when_released(acm: Any, arn: str, region: str,
                                      say: Say) -> bool:
    """Delete the certificate, waiting (with a deadline) while a just-deleted custom domain
    still holds it; False when it is still in use after the wait."""
    scale = net.time_scale()
    told = False

    def tell_once() -> None:
        nonlocal told
        if not told:
            say(f"waiting for API Gateway to let go of certificate {arn} ({region}): it "
                "releases a deleted custom domain's certificate after a few minutes")
            told = True

    try:
        polling.wait_until(lambda: _delete_certificate(acm, arn),
                           CERTIFICATE_RELEASE_PATIENCE_S * scale,
                           interval=CERTIFICATE_POLL_S * scale, between=tell_once,
                           what=f"certificate {arn} to be released")
    except TimeoutError:
        return False
    return True


def _delete_certificate(acm: Any, arn: str) -> bool:
    """Delete the certificate; False (nothing waited for) while something still uses it."""
    try:
        acm.delete_certificate(CertificateArn=arn)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "ResourceInUseException":
            return False
        if code != "ResourceNotFoundException":
            raise
    return True


# ---------------------------------------------------------------- buckets, named resources


def _ui_bucket(config: WorkshopConfig, region: str) -> str:
    return f"{config.prefix}-ui-{account_id(region)}-{region}"


def _artifacts_bucket(config: WorkshopConfig, region: str) -> str:
    return f"{config.prefix}-artifacts-{account_id(region)}-{region}"


def _empty_bucket(region: str, bucket: str) -> bool:
    """Delete every object version and delete marker; False when the bucket does not exist."""
    s3 = client("s3", region)
    try:
        for batch in _chunks(_versions(s3, bucket), 1000):  # DeleteObjects takes 1000 at most
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchBucket":
            return False
        raise
    return True


def _versions(s3: Any, bucket: str) -> Iterator[dict[str, str]]:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            yield {"Key": entry["Key"], "VersionId": entry["VersionId"]}


def _delete_bucket(region: str, bucket: str) -> bool:
    if not _empty_bucket(region, bucket):
        return False
    try:
        client("s3", region).delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchBucket":
            return False
        raise
    return True


def _chunks(items: Iterable[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _named_resources(config: WorkshopConfig, region: str) -> list[str]:
    """Functions, event source mappings, tables, REST APIs, queues and log groups with the
    kit's exact names."""
    p = config.prefix
    functions = {f"{p}-{name}" for name in FUNCTIONS}
    found = [f"function {f['FunctionName']}"
             for page in client("lambda", region).get_paginator("list_functions").paginate()
             for f in page["Functions"] if f["FunctionName"] in functions]
    found += [f"event source mapping {m['UUID']} ({m['EventSourceArn']} -> "
              f"{m['FunctionArn']})" for m in _kit_mappings(config, region)]
    found += [f"table {name}"
              for page in client("dynamodb", region).get_paginator("list_tables").paginate()
              for name in page["TableNames"] if name == f"{p}-tickets"]
    found += [f"REST API {api['name']} ({api['id']})"
              for page in client("apigateway", region).get_paginator("get_rest_apis").paginate()
              for api in page["items"] if api["name"] == f"{p}-api"]
    queue = f"{p}-replicator-dlq"
    found += [f"queue {url}" for url in client("sqs", region).list_queues(
        QueueNamePrefix=queue).get("QueueUrls", []) if url.rsplit("/", 1)[-1] == queue]
    groups = {f"/aws/lambda/{name}" for name in functions}
    found += [f"log group {g['logGroupName']}"
              for page in client("logs", region).get_paginator("describe_log_groups").paginate(
                  logGroupNamePrefix=f"/aws/lambda/{p}-")
              for g in page["logGroups"] if g["logGroupName"] in groups]
    return found


def _kit_mappings(config: WorkshopConfig, region: str) -> list[dict[str, Any]]:
    """Event source mappings of the kit's replicator, or reading the kit's table's stream."""
    function = re.compile(rf":function:{re.escape(config.prefix)}-replicator(:|$)")
    stream = f":table/{config.prefix}-tickets/stream/"
    return [m for page in client("lambda", region).get_paginator(
                "list_event_source_mappings").paginate()
            for m in page["EventSourceMappings"]
            if function.search(m.get("FunctionArn", "")) or stream in m.get("EventSourceArn", "")]


def _delete_orphans(config: WorkshopConfig, region: str) -> list[str]:
    """Delete what the kit's stacks left behind (found by exact name and the kit's tags)."""
    gone = []
    lam = client("lambda", region)
    for mapping in _kit_mappings(config, region):
        try:
            lam.delete_event_source_mapping(UUID=mapping["UUID"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            continue
        gone.append(f"event source mapping {mapping['UUID']} ({region})")
    sqs = client("sqs", region)
    queue = f"{config.prefix}-replicator-dlq"
    for url in sqs.list_queues(QueueNamePrefix=queue).get("QueueUrls", []):
        if url.rsplit("/", 1)[-1] == queue and kit_tagged(
                config, sqs.list_queue_tags(QueueUrl=url).get("Tags", {})):
            sqs.delete_queue(QueueUrl=url)
            gone.append(f"queue {queue} ({region})")
    logs = client("logs", region)
    groups = {f"/aws/lambda/{config.prefix}-{name}" for name in FUNCTIONS}
    for page in logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=f"/aws/lambda/{config.prefix}-"):
        for group in page["logGroups"]:
            name = group["logGroupName"]
            arn = group["arn"].removesuffix(":*")
            if name in groups and kit_tagged(
                    config, logs.list_tags_for_resource(resourceArn=arn).get("tags", {})):
                logs.delete_log_group(logGroupName=name)
                gone.append(f"log group {name} ({region})")
    return gone


# Resource types the checks above look up by name and tags themselves; the tagging API
# can list such a resource for a while after it is deleted, so only the others count.
_CHECKED_TYPES = ("cloudformation:stack", "lambda:function", "lambda:event-source-mapping",
                  "dynamodb:table", "sqs:", "logs:log-group", "s3:", "acm:certificate",
                  "apigateway:/restapis", "apigateway:/domainnames", "route53:")


def _other_tagged(config: WorkshopConfig, region: str) -> list[str]:
    """ARNs tagged for this participant in ``region`` of a type the kit does not check."""
    tagging = client("resourcegroupstaggingapi", region)
    filters = [{"Key": key, "Values": [value]} for key, value in
               ((t["Key"], t["Value"]) for t in tags(config))]
    found = []
    for page in tagging.get_paginator("get_resources").paginate(TagFilters=filters):
        for entry in page["ResourceTagMappingList"]:
            arn = entry["ResourceARN"]
            service, resource = arn.split(":")[2], arn.split(":", 5)[-1]
            if not any(f"{service}:{resource}".startswith(t) for t in _CHECKED_TYPES):
                found.append(arn)
    return found


def _kit_roles(config: WorkshopConfig) -> list[str]:
    """IAM roles named after the kit's stacks and tagged for this participant (IAM is global)."""
    iam = client("iam", config.primary_region)
    stems = tuple(f"{config.stack_name(kind)}-" for kind in KINDS)
    return [role["RoleName"]
            for page in iam.get_paginator("list_roles").paginate()
            for role in page["Roles"] if role["RoleName"].startswith(stems)
            and kit_tagged(config, iam.list_role_tags(RoleName=role["RoleName"])["Tags"])]
