"""The checks: for each module, its items and how each is decided from the live resources.

Each probe returns ``(done, detail)`` or ``(done, detail, data)``;
:func:`run_item` turns it into an :class:`~helpers.checklist.model.Item`, an
item that cannot be checked being reported as not done, with the reason.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from helpers.aws import failover, tickets
from helpers.checklist.model import Item
from helpers.checklist.resources import LIVE, STAGE, Look, Missing
from helpers.connect import net
from helpers.connect.session import client

LAG_GRACE_S = 60  # a change younger than this may still be on its way to the secondary
_API_BASE = re.compile(r'"apiBaseUrl"\s*:\s*"([^"]+)"')

Probes = list[tuple[str, str, Callable[[], tuple]]]

def _health(url: str) -> tuple[int, str | None]:
    status, _body, region = tickets.health(url)
    return status, region


def _web_config(bucket_url: str) -> tuple[int, int, str | None]:
    """(page status, config.js status, the API base URL config.js names)."""
    page = net.request("GET", bucket_url)
    settings = net.request("GET", bucket_url.rstrip("/") + "/config.js")
    found = _API_BASE.search(settings.text) if settings.status_code == 200 else None
    return page.status_code, settings.status_code, found.group(1) if found else None


def _module_1(look: Look) -> Probes:
    primary = look.config.primary_region

    def answers() -> tuple:
        url = look.outputs("api", primary)["ApiUrl"]
        status, region = _health(url)
        listing = net.request("GET", tickets.endpoint(url, "ticket"), params={"limit": 1})
        ok = status == 200 and region == primary and listing.status_code == 200
        return ok, f"/health {status} from {region}, /ticket {listing.status_code}"

    return [("1/api-stack", f"API stack deployed in {primary}", _stack(look, "api", primary)),
            ("1/api-answers", f"API in {primary} answers (/health and /ticket)", answers)]


def _module_2(look: Look) -> Probes:
    primary = look.config.primary_region

    def answers() -> tuple:
        page, settings, api = _web_config(look.outputs("ui", primary)["BucketURL"])
        ok = page == 200 and settings == 200 and api is not None
        return ok, f"page {page}, config.js {settings}" + (f" -> API {api}" if api else "")

    return [("2/ui-stack", f"UI stack deployed in {primary}", _stack(look, "ui", primary)),
            ("2/ui-answers", f"website in {primary} answers and names its API", answers)]


def _module_3_1(look: Look) -> Probes:
    primary, secondary = look.config.regions

    def deployed() -> tuple:
        found = {kind: look.stack_status(kind, secondary) for kind in ("api", "ui")}
        ok = all(status in LIVE for status in found.values())
        return ok, ", ".join(f"{kind} {status or 'not deployed'}" for kind, status in found.items())

    def answers() -> tuple:
        status, region = _health(look.outputs("api", secondary)["ApiUrl"])
        return status == 200 and region == secondary, f"/health {status} from {region}"

    def data() -> tuple:
        source, target = look.versions(primary), look.versions(secondary)
        missing, lag = _backlog(source, target, only_missing=True)
        counts = {"primary_items": len(source), "secondary_items": len(target)}
        if not target:
            return True, f"secondary empty ({len(source)} ticket(s) in {primary})", counts
        replicating = look.stack_status("replication", primary) in LIVE
        if not missing or (replicating and lag < LAG_GRACE_S):
            return True, f"secondary holds the {len(source)} ticket(s) of {primary}", counts
        return False, (f"{missing} of {len(source)} ticket(s) of {primary} missing in "
                       f"{secondary}, which is not empty either"), counts

    return [("3.1/stacks", f"API and UI stacks deployed in {secondary}", deployed),
            ("3.1/api-answers", f"API in {secondary} answers from {secondary}", answers),
            ("3.1/data", f"{secondary} table empty or a replica of {primary}", data)]


def _module_3_2(look: Look) -> Probes:
    primary, secondary = look.config.regions
    if look.stack_status("replication", primary) is None and _superseded(look):
        detail = "superseded: the global table replicates instead (module 4.1)"
        return [(key, label, lambda: (True, detail)) for key, label in (
            ("3.2/stack", f"replication stack deployed in {primary}"),
            ("3.2/attached", "replicator attached (event source mapping enabled)"),
            ("3.2/in-step", f"{secondary} keeps up with {primary} (replication lag)"))]

    def attached() -> tuple:
        mapping_id = look.outputs("replication", primary)["EventSourceMappingId"]
        mapping = client("lambda", primary).get_event_source_mapping(UUID=mapping_id)
        stream = look.outputs("api", primary)["StreamArn"]
        ok = mapping["State"] == "Enabled" and mapping["EventSourceArn"] == stream
        source = "the primary table's stream" if mapping["EventSourceArn"] == stream else (
            mapping["EventSourceArn"])
        return ok, (f"{mapping['State']} on {source}; last result: "
                    f"{mapping.get('LastProcessingResult', 'none yet')}")

    def in_step() -> tuple:
        look.outputs("replication", primary)  # without a replicator there is no lag to speak of
        source, target = look.versions(primary), look.versions(secondary)
        behind, lag = _backlog(source, target)
        data = {"primary_items": len(source), "secondary_items": len(target),
                "behind": behind, "lag_s": round(lag, 2)}
        counts = f"{len(source)} in {primary}, {len(target)} in {secondary}"
        if not behind:
            return True, f"lag 0: no change waiting ({counts})", data
        return lag < LAG_GRACE_S, (f"{behind} change(s) not yet in {secondary}, the oldest "
                                   f"made {lag:.1f} s ago in real time ({counts})"), data

    return [("3.2/stack", f"replication stack deployed in {primary}",
             _stack(look, "replication", primary)),
            ("3.2/attached", "replicator attached (event source mapping enabled)", attached),
            ("3.2/in-step", f"{secondary} keeps up with {primary} (replication lag)", in_step)]


def _superseded(look: Look) -> bool:
    try:
        return look.global_table()
    except Exception:  # noqa: BLE001 - cannot tell: the replicator's own items say why
        return False


def _module_4_1(look: Look) -> Probes:
    primary, secondary = look.config.regions
    name = f"{look.config.prefix}-tickets"

    def global_table() -> tuple:
        table = look.tickets_table(primary)
        if table is None:
            return False, f"no table {name} in {primary}"
        found = {r["RegionName"]: r["ReplicaStatus"] for r in table.get("Replicas", [])}
        if not found:
            return False, f"{name} is a table of {primary} only (not global yet)"
        return (found.get(secondary) == "ACTIVE",
                f"version {table.get('GlobalTableVersion')}, replicas: "
                + ", ".join(f"{r} {s}" for r, s in sorted(found.items())))

    def functions() -> tuple:
        wrong = []
        for region in look.config.regions:
            table = look.tickets_table(region) or {}
            if not table.get("GlobalTableVersion"):
                wrong.append(f"{region}: {name} is not a replica")
                continue
            for fn in ("ticket-get", "ticket-post", "health-check"):
                env = client("lambda", region).get_function_configuration(
                    FunctionName=f"{look.config.prefix}-{fn}").get("Environment", {})
                if env.get("Variables", {}).get("TABLE_NAME") != name:
                    wrong.append(f"{region}: {look.config.prefix}-{fn} names another table")
        return not wrong, "; ".join(wrong) or f"6 functions on {name}'s replicas in both regions"

    def retired() -> tuple:
        status = look.stack_status("replication", primary)
        if status is not None:
            return False, f"the replication stack is still deployed ({status})"
        if not look.global_table():
            return False, "no global table yet: keep the replicator until the replica is ACTIVE"
        return True, "replication stack deleted; the global table replicates"

    return [("4.1/global-table", f"{name} global, with an ACTIVE replica in {secondary}",
             global_table),
            ("4.1/functions", "both regions' functions use the global table", functions),
            ("4.1/replicator-retired", "custom replicator retired", retired)]


def _backlog(source: dict[str, str], target: dict[str, str],
             only_missing: bool = False) -> tuple[int, float]:
    """(items of ``source`` that ``target`` lacks or holds an older version of, and the age
    in seconds of the oldest such change): the replication lag as seen from outside."""
    behind = [version for key, version in source.items() if key not in target
              or (not only_missing and target[key] < version)]
    if not behind:
        return 0, 0.0
    now = dt.datetime.now(dt.UTC)
    return len(behind), max(0.0, max((now - _when(v)).total_seconds() for v in behind))


def _when(stamp: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)


def _module_3_3(look: Look) -> Probes:
    config = look.config
    primary, secondary = config.regions

    def zone() -> tuple:
        zone_id = look.zone_id()
        return zone_id is not None, f"zone {zone_id}" if zone_id else "no hosted zone yet"

    def certificates() -> tuple:
        found = {}
        for region in config.regions:
            arn = failover.find_certificate(config, region)
            found[region] = "none" if arn is None else client("acm", region).describe_certificate(
                CertificateArn=arn)["Certificate"]["Status"]
        return (all(s == "ISSUED" for s in found.values()),
                ", ".join(f"{r} {s}" for r, s in found.items()))

    def custom_domains() -> tuple:
        missing = []
        for region in config.regions:
            apigw = client("apigateway", region)
            api_id = look.outputs("api", region)["ApiId"]
            for host in failover.custom_domain_names(config, region):
                try:
                    mappings = [m for page in apigw.get_paginator(
                        "get_base_path_mappings").paginate(domainName=host)
                        for m in page.get("items", [])]
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "NotFoundException":
                        raise
                    missing.append(f"{host} ({region}) missing")
                    continue
                if not any(m["basePath"] == "(none)" and m["restApiId"] == api_id
                           and m.get("stage") == STAGE for m in mappings):
                    missing.append(f"{host} ({region}) not mapped to {STAGE}")
        return not missing, "; ".join(missing) or (
            f"{config.api_host()} and the regional names mapped in both regions")

    def regional() -> tuple:
        found, ok = [], True
        for region in config.regions:
            host = config.regional_host(region)
            if not look.has_record(host):  # never resolve a name before its record exists
                ok = False
                found.append(f"{host}: no DNS record yet")
                continue
            answer = net.resolve(host)
            via = failover.answer_region(answer)
            if via != region:
                ok = False
                found.append(f"{host} resolves to {via or 'nothing'}")
                continue
            status, served = _health(f"https://{host}/")
            ok = ok and served == region
            found.append(f"{host} -> {region} (/health {status})")
        return ok, "; ".join(found)

    def health_check() -> tuple:
        check = look.health_check()
        if check is None:
            return False, "no health check yet"
        observations = client("route53", failover.ROUTE53_REGION).get_health_check_status(
            HealthCheckId=check["Id"])["HealthCheckObservations"]
        reports = [{"status": o.get("StatusReport", {}).get("Status", "")}
                   for o in observations]
        ok = sum(r["status"].startswith("Success") for r in reports)
        checkers = len(failover.checker_regions(check["HealthCheckConfig"]))
        # Route 53's rule: a checker with no report yet counts as healthy (a new check).
        healthy = failover.route53_verdict(reports, checkers)
        return healthy, (f"{'healthy' if healthy else 'unhealthy'}: {ok} of {checkers} "
                         f"checkers report success ({len(reports)} have reported)")

    def records() -> tuple:
        zone_id = look.zone_id()
        if zone_id is None:
            return False, "needs the hosted zone first"
        ids = {failover.set_identifier(config, r): r for r in config.regions}
        roles = {r.get("Failover") for r in look.zone_records()
                 if r["Name"] == f"{config.api_host()}." and r.get("SetIdentifier") in ids}
        if roles != {"PRIMARY", "SECONDARY"}:
            return False, f"failover records of {config.api_host()}: {sorted(roles) or 'none'}"
        via = failover.answer_region(net.resolve(config.api_host()))
        status, served = _health(failover.api_url(config))
        ok = via == primary and served == primary and status == 200
        detail = f"{config.api_host()} -> {via} (DNS), /health {status} from {served}"
        if via == secondary:
            detail += ": failed over to the secondary (is the primary broken?)"
        return ok, detail

    def ui_on_api() -> tuple:
        wanted = failover.api_url(config)
        found = {region: _web_config(look.outputs("ui", region)["BucketURL"])[2]
                 for region in config.regions}
        return (all(api == wanted for api in found.values()),
                "; ".join(f"{region} -> {api}" for region, api in found.items()))

    return [
        ("3.3/zone", f"hosted zone for {config.domain}", zone),
        ("3.3/certificates", "certificates issued in both regions", certificates),
        ("3.3/custom-domains", "custom domains in both regions, mapped to prod", custom_domains),
        ("3.3/regional-records", "regional names resolve and answer from their region",
         regional),
        ("3.3/health-check", f"health check of {config.regional_host(primary)} healthy",
         health_check),
        ("3.3/failover-records", f"{config.api_host()} failover records answer with {primary}",
         records),
        ("3.3/ui-on-api", f"both websites call {failover.api_url(config)}", ui_on_api),
    ]


def _module_4(look: Look) -> Probes:
    def broken() -> tuple:
        found, _ = look.deployments()
        breaks = [d for d in found if d.get("description") == failover.BROKEN]
        if not breaks:
            return False, "the primary has not been broken yet"
        return True, f"primary broken {len(breaks)} time(s), last at {_clock(breaks[-1])}"

    def restored() -> tuple:
        found, current = look.deployments()
        breaks = [d for d in found if d.get("description") == failover.BROKEN]
        live = next((d for d in found if d["id"] == current), {})
        if live.get("description") == failover.BROKEN:
            return False, "the primary is still broken: its stage serves the bad deploy"
        if not breaks:
            return False, "nothing to restore yet"
        after = [d for d in found if d.get("description") == failover.RESTORED
                 and d.get("createdDate") and d["createdDate"] >= breaks[-1]["createdDate"]]
        if not after:
            return False, "no restore deployment after the last break"
        return True, f"restored at {_clock(after[-1])}"

    return [("4/broken", "failover tested: the primary broken by a bad deploy", broken),
            ("4/restored", "primary restored after the test", restored)]


def _clock(deployment: dict[str, Any]) -> str:
    when = deployment.get("createdDate")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if when else "?"


def _stack(look: Look, kind: str, region: str) -> Callable[[], tuple]:
    def deployed() -> tuple:
        status = look.stack_status(kind, region)
        return status in LIVE, status or "not deployed"
    return deployed


CHECKS = {"1": _module_1, "2": _module_2, "3.1": _module_3_1, "3.2": _module_3_2,
           "3.3": _module_3_3, "4": _module_4, "4.1": _module_4_1}


def run_item(key: str, label: str, probe: Callable[[], tuple], notebook: str) -> Item:
    try:
        result = probe()
    except Missing as exc:
        return Item(key, label, False, str(exc), notebook)
    except Exception as exc:  # one item that cannot be checked does not stop the others
        return Item(key, label, False, f"could not check: {_short(exc)}", notebook)
    done, detail, *extra = result
    return Item(key, label, bool(done), detail, notebook, extra[0] if extra else {})


def _short(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code')}: {error.get('Message', '')}"[:160]
    return f"{type(exc).__name__}: {exc}"[:160]

