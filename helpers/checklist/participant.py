"""One participant's checklist: every module checked against what really runs.

Every item is decided by looking at the resources themselves (stack states,
the APIs' and websites' answers, DNS answers, the health check's verdict, the
replicator's event source mapping, the primary API's deployment history),
never by whether a notebook ran; after the clean-up, by the history it left
(:mod:`helpers.checklist.history`).
"""

from __future__ import annotations

import datetime as dt
import time

from helpers.checklist import history, room_reporter
from helpers.checklist.model import MODULES, Item, Module, Status
from helpers.checklist.probes import CHECKS, run_item
from helpers.checklist.resources import Account, Look
from helpers.connect import net
from helpers.core import capabilities, curriculum, settings, state
from helpers.core.config import WorkshopConfig
from helpers.core.target import CAPABILITY_PROBES


def check(config: WorkshopConfig | None = None, remember: bool = True,
          account: Account | None = None) -> Status:
    """Check every module for ``config``'s participant against the real resources.

    ``remember`` (the participant's own check, not the room's) records the modules
    seen done in the participant's state file (the history the clean-up leaves
    behind) and reports the checklist to the instructor's room when
    ``WORKSHOP_ROOM`` names one (:mod:`helpers.checklist.room_reporter`: in the
    background, never failing the check). Errors reaching the service at
    all (no sandbox, no credentials) are raised; a single item that cannot be
    checked is reported as not done, with the reason.
    """
    started = time.monotonic()
    config = config or settings.resolve()
    account = account or Account()
    net._cache.clear()  # a status reports what DNS answers now, not a client's cached answer
    look = Look(config, account)
    live = look.live_stacks()  # the first call: unreachable services raise here
    saved = state.load(config.prefix)
    record = saved.get("progress", {}).get("reached", {})
    cleaned = history.cleaned_up(look, live)
    modules: list[Module] = []
    for spec in MODULES[:-1]:
        if cleaned[0]:
            modules.append(history.from_history(look, spec, record))
            continue
        items = [run_item(key, label, probe, spec.notebook)
                 for key, label, probe in CHECKS[spec.id](look)]
        modules.append(Module(spec.id, spec.title, spec.notebook, items))
    spec = curriculum.module("5")
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
                    seconds=time.monotonic() - started, endpoint_note=_endpoint_note(config))
    if remember:
        history.remember(config.prefix, status, record)
        room_reporter.offer(status)
    return status


def _endpoint_note(config: WorkshopConfig) -> str:
    """Endpoint mode: which modules the endpoint can run, as preflight recorded it."""
    endpoint = capabilities.endpoint_url()
    if not config.target.supports(CAPABILITY_PROBES) or not endpoint:
        return ""
    verdicts = capabilities.recorded(endpoint)
    if verdicts is None:
        return ("this endpoint's capabilities are not probed yet: notebook 00's preflight "
                "(or workshop run) probes them")
    return capabilities.runnable(verdicts)
