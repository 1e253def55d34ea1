"""Where a participant has got: a per-module checklist, checked against what really runs.

Every item is decided by looking at the resources themselves - stack states,
the APIs' and websites' answers, DNS answers, the health check's verdict, the
replicator's event source mapping, the primary API's deployment history -
never by whether a notebook ran. Each unchecked item names the notebook and
the section that gets it done.

Module 4 leaves a trace that stays observable: ``failover.break_primary`` and
``failover.restore_primary`` each deploy the primary API's ``prod`` stage with
a description of their own, so the deployment history shows that the primary
was broken and then restored.

After the clean-up there is nothing left to look at, so two traces carry the
history: CloudFormation lists deleted stacks (for 90 days on AWS), and each
check records the modules it saw done under ``progress`` in the participant's
state file (the clean-up keeps that key). Module 5 counts as done only when
nothing of the participant is left *and* CloudFormation shows the API stack
deleted: a fresh sandbox with an old state file is a fresh start, not a
finished workshop.

``workshop status`` prints :func:`check`; ``workshop status --all`` prints
:func:`room` (every participant found in the account or sandbox);
:func:`checklist_widget` is the notebook version.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from helpers import curriculum, failover, net, settings, state, tickets
from helpers.config import WorkshopConfig, prefix_problem
from helpers.paths import workshop_home
from helpers.session import client

SETUP_NOTEBOOK = curriculum.SET_UP.notebook
STAGE = "prod"
LAG_GRACE_S = 60  # a change younger than this may still be on its way to the secondary
_LIVE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}
_KINDS = ("api", "ui", "replication")
_STACK_NAME = re.compile(r"^(?P<prefix>[a-z][a-z0-9-]{1,18}[a-z0-9])-(?P<kind>api|ui|replication)$")
_API_BASE = re.compile(r'"apiBaseUrl"\s*:\s*"([^"]+)"')


# The modules, their notebooks and sections: written once, in the curriculum.
MODULES = curriculum.MODULES
SECTIONS = curriculum.SECTIONS
_SPECS = {m.id: m for m in curriculum.CURRICULUM}


# ---------------------------------------------------------------- the result


@dataclass
class Item:
    id: str  # "<module>/<name>", e.g. "3.3/health-check"
    label: str
    done: bool
    detail: str
    notebook: str
    data: dict[str, Any] = field(default_factory=dict)  # numbers for machines (lag, counts)

    @property
    def section(self) -> str:
        return SECTIONS[self.id]

    @property
    def hint(self) -> str:
        return f"open {self.notebook}, section '{self.section}'"

    def as_dict(self) -> dict[str, Any]:
        found = {"id": self.id, "label": self.label, "done": self.done, "detail": self.detail,
                 "notebook": self.notebook, "section": self.section}
        if not self.done:
            found["next"] = self.hint
        if self.data:
            found["data"] = self.data
        return found


@dataclass
class Module:
    id: str
    title: str
    notebook: str
    items: list[Item]
    live: bool = True  # False: judged from the history, after a clean-up

    @property
    def done(self) -> bool:
        return all(item.done for item in self.items)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "notebook": self.notebook,
                "done_when": curriculum.module(self.id).done_when,
                "done": self.done, "live": self.live,
                "items": [item.as_dict() for item in self.items]}


@dataclass
class Status:
    config: WorkshopConfig
    modules: list[Module]
    cleaned_up: bool
    set_up: bool  # settings saved here (notebook 00), or something deployed already
    checked_at: str
    seconds: float = 0.0
    domain_source: str = "settings"  # or, in the room view: "health check", "custom domain",
    # "assumed" (not found anywhere: the instructor's own)

    def module(self, module_id: str) -> Module:
        return next(m for m in self.modules if m.id == module_id)

    @property
    def done(self) -> list[str]:
        return [m.id for m in self.modules if m.done]

    @property
    def complete(self) -> bool:
        return all(m.done for m in self.modules)

    @property
    def reached(self) -> str:
        """The last module of the unbroken run of done ones from module 1 (``"0"``: none)."""
        last = "0"
        for m in self.modules:
            if not m.done:
                break
            last = m.id
        return last

    def live_done(self, module_id: str) -> bool:
        """Is the module done *now* (deployed and working), not only in the history?"""
        m = self.module(module_id)
        return m.done and m.live

    @property
    def next(self) -> dict[str, str] | None:
        """The notebook (and section) to open next; None when the workshop is complete."""
        if not self.set_up and not self.done and not self.cleaned_up:
            section = SECTIONS["0/settings"]
            return {"module": "0", "notebook": SETUP_NOTEBOOK, "section": section,
                    "hint": f"open {SETUP_NOTEBOOK}, section '{section}'"}
        items = self.items()
        if items["4/broken"].done and not items["4/restored"].done and self.module("4").live:
            item = items["4/restored"]  # module 4's bad deploy is live: everything else waits
            return {"module": "4", "notebook": item.notebook, "section": item.section,
                    "hint": item.hint}
        for m in self.modules:
            if not m.done:
                item = next(i for i in m.items if not i.done)
                hint = item.hint
                if self.cleaned_up and m.id != "1":
                    hint = (f"everything was cleaned up: rebuild with `workshop run --until "
                            f"{_previous(m.id)}`, then {hint}")
                return {"module": m.id, "notebook": m.notebook, "section": item.section,
                        "hint": hint}
        return None

    def items(self) -> dict[str, Item]:
        return {item.id: item for m in self.modules for item in m.items}

    def as_dict(self) -> dict[str, Any]:
        c = self.config
        return {"prefix": c.prefix, "mode": c.mode, "domain": c.domain,
                "domain_source": self.domain_source,
                "regions": {"primary": c.primary_region, "secondary": c.secondary_region},
                "checked_at": self.checked_at, "seconds": round(self.seconds, 2),
                "done": self.done, "reached": self.reached, "complete": self.complete,
                "cleaned_up": self.cleaned_up, "next": self.next,
                "modules": [m.as_dict() for m in self.modules]}

    def text(self, heading: bool = True) -> str:
        """The checklist for a terminal; ``heading``: first the participant's settings."""
        lines = [self.config.describe(), ""] if heading else []
        for m in self.modules:
            state_word = "done" if m.done else "to do"
            if m.done and not m.live:
                state_word = "done, since cleaned up"
            lines.append(f"Module {m.id} · {m.title}  ({m.notebook}): {state_word}")
            for item in m.items:
                lines.append(f"  {'✓' if item.done else '·'} {item.label}: {item.detail}")
                if not item.done and m.live:
                    lines.append(f"      -> {item.hint}")
        nxt = self.next
        lines += ["", f"next: {nxt['hint']}" if nxt else
                  "complete: every module done and everything cleaned up"]
        return "\n".join(lines)

    def html(self) -> str:
        """The checklist as HTML (the notebook widget and the run's index page)."""
        parts = [f"<div><b>Participant <code>{_e(self.config.prefix)}</code></b> · "
                 f"{_e(self.config.describe())}</div>"]
        for m in self.modules:
            mark = "&#10004;" if m.done else "&#9675;"
            since = " (since cleaned up)" if m.done and not m.live else ""
            parts.append(f"<div style='margin-top:0.4em'>{mark} <b>Module {_e(m.id)} · "
                         f"{_e(m.title)}</b>{since} &mdash; <a href=\"{_e(m.notebook)}\">"
                         f"{_e(m.notebook)}</a></div><ul style='margin:0.1em 0 0 1.2em'>")
            for item in m.items:
                tick = "&#10003;" if item.done else "&#8226;"
                todo = "" if item.done or not m.live else (
                    f"<br><span style='color:#616161'>&rarr; {_e(item.hint)}</span>")
                parts.append(f"<li style='list-style:none'>{tick} {_e(item.label)} "
                             f"<span style='color:#616161'>({_e(item.detail)})</span>{todo}</li>")
            parts.append("</ul>")
        nxt = self.next
        parts.append(f"<div style='margin-top:0.5em'><b>Next:</b> {_e(nxt['hint'])}</div>" if nxt
                     else "<div style='margin-top:0.5em'><b>Complete:</b> every module done "
                          "and everything cleaned up.</div>")
        return "\n".join(parts)


def module_for(notebook: str) -> str | None:
    """The module a numbered notebook completes (None for the set-up and the index)."""
    return next((m.id for m in MODULES if m.notebook == notebook), None)


def turned_done(before: Status, after: Status) -> list[str]:
    """Checklist items done in ``after`` but not in ``before``, as ``"<module> · <label>"``."""
    was = {key: item.done for key, item in before.items().items()}
    return [f"{key.split('/')[0]} · {item.label}" for key, item in after.items().items()
            if item.done and not was.get(key, False)]


def _previous(module_id: str) -> str:
    """The notebook number before ``module_id``'s notebook, e.g. ``"03.2"`` for ``"3.3"``."""
    index = [m.id for m in MODULES].index(module_id)
    return MODULES[max(index - 1, 0)].notebook.split("-")[0]


def _e(text: Any) -> str:
    return html.escape(str(text))


# ---------------------------------------------------------------- looking


class _Account:
    """Look-ups shared by every participant of one check: stack lists, health checks."""

    def __init__(self) -> None:
        self._stacks: dict[str, list[dict[str, Any]]] = {}
        self._health_checks: list[dict[str, Any]] | None = None

    def stacks(self, region: str) -> list[dict[str, Any]]:
        """Every stack summary of the region, deleted ones included (newest first)."""
        if region not in self._stacks:
            pages = client("cloudformation", region).get_paginator("list_stacks").paginate()
            found = [s for page in pages for s in page["StackSummaries"]]
            found.sort(key=lambda s: s["CreationTime"], reverse=True)
            self._stacks[region] = found
        return self._stacks[region]

    def health_checks(self) -> list[dict[str, Any]]:
        if self._health_checks is None:
            pages = client("route53", failover.ROUTE53_REGION).get_paginator(
                "list_health_checks").paginate()
            self._health_checks = [c for page in pages for c in page["HealthChecks"]]
        return self._health_checks


class _Look:
    """One participant's resources, each looked up once per check."""

    def __init__(self, config: WorkshopConfig, account: _Account) -> None:
        self.config = config
        self.account = account
        self._memo: dict[str, tuple[Any, BaseException | None]] = {}

    def memo(self, key: str, fetch: Callable[[], Any]) -> Any:
        if key not in self._memo:
            try:
                self._memo[key] = (fetch(), None)
            except Exception as exc:  # remembered, raised again for each item that needs it
                self._memo[key] = (None, exc)
        value, error = self._memo[key]
        if error is not None:
            raise error
        return value

    # -- stacks

    def stack_status(self, kind: str, region: str) -> str | None:
        """The live stack's status, or None (never deployed, or deleted)."""
        name = self.config.stack_name(kind)
        for summary in self.account.stacks(region):
            if summary["StackName"] == name and summary["StackStatus"] != "DELETE_COMPLETE":
                return summary["StackStatus"]
        return None

    def deleted(self, kind: str, region: str) -> bool:
        name = self.config.stack_name(kind)
        return any(s["StackName"] == name and s["StackStatus"] == "DELETE_COMPLETE"
                   for s in self.account.stacks(region))

    def live_stacks(self) -> list[str]:
        return [f"{self.config.stack_name(kind)} ({region})" for kind in _KINDS
                for region in self.config.regions if self.stack_status(kind, region)]

    def outputs(self, kind: str, region: str) -> dict[str, str]:
        def fetch() -> dict[str, str]:
            status = self.stack_status(kind, region)
            if status not in _LIVE:
                raise _Missing(f"needs the {kind} stack in {region} first")
            stack = client("cloudformation", region).describe_stacks(
                StackName=self.config.stack_name(kind))["Stacks"][0]
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return self.memo(f"outputs:{kind}:{region}", fetch)

    # -- data

    def versions(self, region: str) -> dict[str, str]:
        """``{id: updatedAt}`` of every item of the region's table (a consistent scan)."""
        def fetch() -> dict[str, str]:
            table = self.outputs("api", region)["TableName"]
            pages = client("dynamodb", region).get_paginator("scan").paginate(
                TableName=table, ConsistentRead=True, ProjectionExpression="id, updatedAt")
            return {item["id"]["S"]: item.get("updatedAt", {}).get("S", "")
                    for page in pages for item in page["Items"]}
        return self.memo(f"versions:{region}", fetch)

    # -- Route 53

    def zone_id(self) -> str | None:
        return self.memo("zone", lambda: failover.find_hosted_zone(self.config))

    def health_check(self) -> dict[str, Any] | None:
        mark = f"workshop:{self.config.prefix}:"
        host = self.config.regional_host(self.config.primary_region)
        return next((c for c in self.account.health_checks()
                     if c["CallerReference"].startswith(mark)
                     and c["HealthCheckConfig"].get("FullyQualifiedDomainName") == host), None)

    def deployments(self) -> tuple[list[dict[str, Any]], str]:
        """The primary API's deployments (oldest first) and the prod stage's current one."""
        def fetch() -> tuple[list[dict[str, Any]], str]:
            apigw = client("apigateway", self.config.primary_region)
            api_id = self.outputs("api", self.config.primary_region)["ApiId"]
            found = [d for page in apigw.get_paginator("get_deployments").paginate(
                restApiId=api_id) for d in page.get("items", [])]
            found.sort(key=lambda d: d.get("createdDate") or dt.datetime.min)
            current = apigw.get_stage(restApiId=api_id, stageName=STAGE)["deploymentId"]
            return found, current
        return self.memo("deployments", fetch)


class _Missing(RuntimeError):
    """Something an item needs is not there; the message says what."""


# ---------------------------------------------------------------- the checks


def _health(url: str) -> tuple[int, str | None]:
    status, _body, region = tickets.health(url)
    return status, region


def _web_config(bucket_url: str) -> tuple[int, int, str | None]:
    """(page status, config.js status, the API base URL config.js names)."""
    page = net.request("GET", bucket_url)
    settings = net.request("GET", bucket_url.rstrip("/") + "/config.js")
    found = _API_BASE.search(settings.text) if settings.status_code == 200 else None
    return page.status_code, settings.status_code, found.group(1) if found else None


def _module_1(look: _Look) -> list[tuple[str, str, Callable[[], tuple]]]:
    primary = look.config.primary_region

    def answers() -> tuple:
        url = look.outputs("api", primary)["ApiUrl"]
        status, region = _health(url)
        listing = net.request("GET", tickets.endpoint(url, "ticket"), params={"limit": 1})
        ok = status == 200 and region == primary and listing.status_code == 200
        return ok, f"/health {status} from {region}, /ticket {listing.status_code}"

    return [("1/api-stack", f"API stack deployed in {primary}", _stack(look, "api", primary)),
            ("1/api-answers", f"API in {primary} answers (/health and /ticket)", answers)]


def _module_2(look: _Look) -> list[tuple[str, str, Callable[[], tuple]]]:
    primary = look.config.primary_region

    def answers() -> tuple:
        page, settings, api = _web_config(look.outputs("ui", primary)["BucketURL"])
        ok = page == 200 and settings == 200 and api is not None
        return ok, f"page {page}, config.js {settings}" + (f" -> API {api}" if api else "")

    return [("2/ui-stack", f"UI stack deployed in {primary}", _stack(look, "ui", primary)),
            ("2/ui-answers", f"website in {primary} answers and names its API", answers)]


def _module_3_1(look: _Look) -> list[tuple[str, str, Callable[[], tuple]]]:
    primary, secondary = look.config.regions

    def deployed() -> tuple:
        found = {kind: look.stack_status(kind, secondary) for kind in ("api", "ui")}
        ok = all(status in _LIVE for status in found.values())
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
        replicating = look.stack_status("replication", primary) in _LIVE
        if not missing or (replicating and lag < LAG_GRACE_S):
            return True, f"secondary holds the {len(source)} ticket(s) of {primary}", counts
        return False, (f"{missing} of {len(source)} ticket(s) of {primary} missing in "
                       f"{secondary}, which is not empty either"), counts

    return [("3.1/stacks", f"API and UI stacks deployed in {secondary}", deployed),
            ("3.1/api-answers", f"API in {secondary} answers from {secondary}", answers),
            ("3.1/data", f"{secondary} table empty or a replica of {primary}", data)]


def _module_3_2(look: _Look) -> list[tuple[str, str, Callable[[], tuple]]]:
    primary, secondary = look.config.regions

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
                                   f"made {lag:.1f} s ago ({counts})"), data

    return [("3.2/stack", f"replication stack deployed in {primary}",
             _stack(look, "replication", primary)),
            ("3.2/attached", "replicator attached (event source mapping enabled)", attached),
            ("3.2/in-step", f"{secondary} keeps up with {primary} (replication lag)", in_step)]


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


def _module_3_3(look: _Look) -> list[tuple[str, str, Callable[[], tuple]]]:
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
        ok = [o.get("StatusReport", {}).get("Status", "").startswith("Success")
              for o in observations]
        healthy = bool(ok) and sum(ok) / len(ok) > failover.HEALTHY_FRACTION
        return healthy, (f"{'healthy' if healthy else 'unhealthy'}: {sum(ok)} of {len(ok)} "
                         "checkers report success")

    def records() -> tuple:
        zone_id = look.zone_id()
        if zone_id is None:
            return False, "needs the hosted zone first"
        ids = {failover.set_identifier(config, r): r for r in config.regions}
        roles = {r.get("Failover") for r in failover.records(zone_id)
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


def _module_4(look: _Look) -> list[tuple[str, str, Callable[[], tuple]]]:
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


def _stack(look: _Look, kind: str, region: str) -> Callable[[], tuple]:
    def deployed() -> tuple:
        status = look.stack_status(kind, region)
        return status in _LIVE, status or "not deployed"
    return deployed


_CHECKS = {"1": _module_1, "2": _module_2, "3.1": _module_3_1, "3.2": _module_3_2,
           "3.3": _module_3_3, "4": _module_4}


def _run_item(key: str, label: str, probe: Callable[[], tuple], notebook: str) -> Item:
    try:
        result = probe()
    except _Missing as exc:
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


# ---------------------------------------------------------------- the checklist


def check(config: WorkshopConfig | None = None, remember: bool = True,
          account: _Account | None = None) -> Status:
    """Check every module for ``config``'s participant against the real resources.

    ``remember`` records the modules seen done in the participant's state file
    (the history the clean-up leaves behind). Errors reaching the service at
    all (no sandbox, no credentials) are raised; a single item that cannot be
    checked is reported as not done, with the reason.
    """
    started = time.monotonic()
    config = config or settings.resolve()
    account = account or _Account()
    net._cache.clear()  # a status reports what DNS answers now, not a client's cached answer
    look = _Look(config, account)
    live = look.live_stacks()  # the first call: unreachable services raise here
    saved = state.load(config.prefix)
    record = saved.get("progress", {}).get("reached", {})
    cleaned = _cleaned_up(look, live)
    modules: list[Module] = []
    for spec in MODULES[:-1]:
        if cleaned[0]:
            modules.append(_from_history(look, spec, record))
            continue
        items = [_run_item(key, label, probe, spec.notebook)
                 for key, label, probe in _CHECKS[spec.id](look)]
        modules.append(Module(spec.id, spec.title, spec.notebook, items))
    spec = _SPECS["5"]
    modules.append(Module(spec.id, spec.title, spec.notebook, [Item(
        "5/nothing-left", f"nothing of {config.prefix} left in either region", cleaned[0],
        cleaned[1], spec.notebook)]))
    items = {item.id: item for m in modules for item in m.items}
    if items["4/broken"].done and not items["4/restored"].done and modules[5].live:
        for key in ("1/api-answers", "3.3/health-check", "3.3/failover-records"):
            if not items[key].done:
                items[key].detail += " - module 4's bad deploy is live: restore the primary"
    set_up = "config" in saved or bool(live) or look.deleted("api", config.primary_region)
    status = Status(config, modules, cleaned_up=cleaned[0], set_up=set_up,
                    checked_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    seconds=time.monotonic() - started)
    if remember:
        _remember(config.prefix, status, record)
    return status


def _cleaned_up(look: _Look, live: list[str]) -> tuple[bool, str]:
    """(nothing of the participant left and a deleted API stack in the history, detail)."""
    if live:
        shown = ", ".join(live[:3]) + (f" and {len(live) - 3} more" if len(live) > 3 else "")
        return False, f"still deployed: {shown}"
    if not look.deleted("api", look.config.primary_region):
        return False, "no stack deployed yet"
    from helpers import cleanup

    left = cleanup.leftovers(look.config)  # thorough, and slow on a cold sandbox: only now
    if left:
        return False, f"{len(left)} resource(s) left, e.g. {left[0]}"
    gone = [f"{look.config.stack_name(k)} ({r})" for k in _KINDS for r in look.config.regions
            if look.deleted(k, r)]
    return True, f"nothing left; deleted stacks: {', '.join(gone)}"


def _from_history(look: _Look, spec: curriculum.Module, record: dict[str, str]) -> Module:
    """A module after the clean-up: done if it was seen done, or its stacks were deleted."""
    primary, secondary = look.config.regions
    evidence = {"1": [("api", primary)], "2": [("ui", primary)],
                "3.1": [("api", secondary), ("ui", secondary)],
                "3.2": [("replication", primary)]}.get(spec.id)
    if spec.id in record:
        done, detail = True, f"done (seen {record[spec.id]}), removed by the clean-up"
    elif evidence and all(look.deleted(kind, region) for kind, region in evidence):
        done, detail = True, "its stacks were deployed, then deleted by the clean-up"
    else:
        done, detail = False, "not seen done before the clean-up"
    items = [Item(key, label, done, detail, spec.notebook)
             for key, label, _probe in _CHECKS[spec.id](look)]
    return Module(spec.id, spec.title, spec.notebook, items, live=False)


def _remember(prefix: str, status: Status, record: dict[str, str]) -> None:
    new = {m.id: status.checked_at for m in status.modules
           if m.done and m.live and m.id not in record and m.id != "5"}
    if new:
        state.update(prefix, progress={"reached": {**record, **new}})


# ---------------------------------------------------------------- the room


def participants(config: WorkshopConfig, account: _Account | None = None) -> list[str]:
    """Every participant prefix found: kit stacks (deleted ones too), kit health checks,
    and the state files of this workshop home."""
    account = account or _Account()
    found: set[str] = set()
    for region in config.regions:
        cfn = client("cloudformation", region)
        confirmed: set[str] = set()
        for summary in account.stacks(region):
            match = _STACK_NAME.match(summary["StackName"])
            if not match or match["prefix"] in confirmed:
                continue
            stack = cfn.describe_stacks(StackName=summary["StackId"])["Stacks"][0]
            tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
            if tags.get("workshop:kit") == "multi-region-resilience":
                confirmed.add(tags.get("workshop:participant", match["prefix"]))
        found |= confirmed
    for check_ in account.health_checks():
        reference = check_["CallerReference"].split(":")
        if len(reference) == 3 and reference[0] == "workshop":
            found.add(reference[1])
    for path in Path(workshop_home()).glob("state-*.json"):
        prefix = path.stem[len("state-"):]
        data = state.load(prefix)
        if data.get("stacks") or data.get("progress"):
            found.add(prefix)
    return sorted(p for p in found if prefix_problem(p) is None)


def room(config: WorkshopConfig, workers: int = 8) -> list[Status]:
    """The checklist of every participant found (the instructor's view of the room).

    Each participant's settings come from their state file when this workshop
    home has one; otherwise the regions are ``config``'s and the domain is read
    from their health check or custom domains.
    """
    account = _Account()
    prefixes = participants(config, account)
    found = [_participant_config(config, prefix, account) for prefix in prefixes]
    if not found:
        return []

    def one(entry: tuple[WorkshopConfig, str]) -> Status:
        status = check(entry[0], remember=False, account=account)
        status.domain_source = entry[1]
        return status

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(found)))) as pool:
        return list(pool.map(one, found))


def _participant_config(base: WorkshopConfig, prefix: str,
                        account: _Account) -> tuple[WorkshopConfig, str]:
    """(the participant's settings, where the domain came from)."""
    saved = state.load(prefix).get("config")
    if saved:
        known = {k: v for k, v in saved.items() if k in base.as_dict()}
        try:
            return WorkshopConfig(**{**base.as_dict(), **known, "mode": base.mode,
                                     "prefix": prefix}), "settings"
        except ValueError:
            pass
    domain, source = _domain_of(base, prefix, account)
    return replace(base, prefix=prefix, domain=domain or base.domain), source


def _domain_of(base: WorkshopConfig, prefix: str, account: _Account) -> tuple[str | None, str]:
    """The participant's domain: from their health check, else their custom domains."""
    for check_ in account.health_checks():
        if check_["CallerReference"].startswith(f"workshop:{prefix}:"):
            host = check_["HealthCheckConfig"].get("FullyQualifiedDomainName", "")
            if "." in host:
                return host.split(".", 1)[1], "health check"
    for region in base.regions:
        pages = client("apigateway", region).get_paginator("get_domain_names").paginate()
        for domain in (d for page in pages for d in page.get("items", [])):
            if (domain.get("tags", {}).get("workshop:participant") == prefix
                    and domain["domainName"].startswith("api.")):
                return domain["domainName"][len("api."):], "custom domain"
    return None, "assumed"


def room_as_dict(statuses: Iterable[Status]) -> dict[str, Any]:
    statuses = list(statuses)
    return {"checked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "modules": [m.id for m in MODULES],
            "participants": [s.as_dict() for s in statuses]}


def room_table(statuses: Iterable[Status]) -> str:
    """One row per participant: a mark per module, how far they got, what comes next."""
    statuses = list(statuses)
    if not statuses:
        return "no participants found (no kit stacks, health checks or state files)"
    ids = [m.id for m in MODULES]
    width = max(len("participant"), *(len(s.config.prefix) for s in statuses))
    domains = {s.config.prefix: s.config.domain + ("?" if s.domain_source == "assumed" else "")
               for s in statuses}
    dwidth = max(len("domain"), *(len(d) for d in domains.values()))
    head = (f"{'participant':<{width}}  {'domain':<{dwidth}}  "
            + " ".join(f"{i:>3}" for i in ids) + "  reached  next")
    lines = [head, "-" * len(head)]
    for s in statuses:
        marks = " ".join(f"{'✓' if s.module(i).done else '·':>3}" for i in ids)
        nxt = s.next
        lines.append(f"{s.config.prefix:<{width}}  {domains[s.config.prefix]:<{dwidth}}  {marks}  "
                     f"{s.reached:<7}  "
                     f"{'complete' if nxt is None else nxt['notebook']}")
    done = sum(s.complete for s in statuses)
    lines += ["", f"{len(statuses)} participant(s); {done} complete"]
    if any(s.domain_source == "assumed" for s in statuses):
        lines.append("domain?: not found in their settings, health check or custom domains "
                     "(assumed to be yours; it matters only from module 3.3 on)")
    return "\n".join(lines)


# ---------------------------------------------------------------- the notebook widget


def checklist_widget(config: WorkshopConfig | None = None) -> Any:
    """The checklist with a Refresh button, for the index notebook.

    It checks the real resources each time it is refreshed; without a running
    sandbox (or credentials) it says how to get one instead of failing.
    """
    import ipywidgets as w

    body = w.HTML()
    button = w.Button(description="Refresh", icon="refresh",
                      tooltip="check the deployed resources again")

    def refresh(_button: Any = None) -> None:
        body.value = "<i>checking the deployed resources…</i>"
        try:
            body.value = check(config or settings.resolve()).html()
        except Exception as exc:  # shown in the widget: the index notebook must always open
            from helpers.errors import explain

            message = explain(exc) or str(exc)
            body.value = (f"<b style='color:#c62828'>Cannot check yet:</b> {_e(message)}. "
                          "Then press Refresh.")

    button.on_click(refresh)
    refresh()
    return w.VBox([button, body])


def show(config: WorkshopConfig | None = None) -> Any:
    """The checklist as static HTML (stays visible in exported notebooks)."""
    from IPython.display import HTML

    return HTML(check(config or settings.resolve()).html())
