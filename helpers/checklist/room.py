"""The room: every participant found in the account or sandbox, each with their checklist.

``workshop status --all`` prints :func:`room_table` (``--json``: :func:`room_as_dict`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from helpers.base.paths import workshop_home
from helpers.checklist.model import MODULES, Status
from helpers.checklist.participant import check
from helpers.checklist.resources import Account
from helpers.connect.session import client
from helpers.core import state
from helpers.core.config import WorkshopConfig, prefix_problem

_STACK_NAME = re.compile(r"^(?P<prefix>[a-z][a-z0-9-]{1,18}[a-z0-9])-(?P<kind>api|ui|replication)$")

def participants(config: WorkshopConfig, account: Account | None = None) -> list[str]:
    """Every participant prefix found: kit stacks (deleted ones too), kit health checks,
    and the state files of this workshop home."""
    account = account or Account()
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
    account = Account()
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
                        account: Account) -> tuple[WorkshopConfig, str]:
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


def _domain_of(base: WorkshopConfig, prefix: str, account: Account) -> tuple[str | None, str]:
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

