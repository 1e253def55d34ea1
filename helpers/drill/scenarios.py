"""The faults the drill injects into the primary, how each is undone, and whether it can run now.

Each :class:`Scenario` pairs an ``inject`` with a ``restore``; :func:`restore`
undoes whichever is in place (safe any time), :func:`check_ready` says what is
missing before a drill can start.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helpers.aws import failover, global_tables
from helpers.aws.deployment import stack_outputs
from helpers.aws.stacks import StackError
from helpers.base.errors import UsageError, WorkshopError
from helpers.base.say import Say, or_quiet
from helpers.connect.session import client
from helpers.core import state
from helpers.core.config import WorkshopConfig
from helpers.core.target import SANDBOX_CONTROL, Target

REPLICATIONS = ("streams", "global-tables")  # how the tables replicate
API_FUNCTIONS = ("GetFunctionName", "PostFunctionName", "HealthFunctionName")


class DrillNotReady(WorkshopError):
    """The workshop is not deployed far enough, or a fault is still in place."""


class DrillUnavailable(WorkshopError):
    """The scenario cannot be played in this mode (a region outage on AWS)."""


def throttle_primary(config: WorkshopConfig) -> None:
    """Reserved concurrency 0 on the primary's three API functions: every call is throttled.

    API Gateway then answers 429 (or 502), ``/health`` included. A reserved
    concurrency the learner had set is remembered and put back by :func:`unthrottle_primary`.
    """
    region = config.primary_region
    api = stack_outputs(config, "api", region)
    lam = client("lambda", region)
    previous = {}
    for output in API_FUNCTIONS:
        name = api[output]
        current = lam.get_function_concurrency(FunctionName=name).get(
            "ReservedConcurrentExecutions")
        if current not in (None, 0):
            previous[name] = current
    saved = state.load(config.prefix).get("drill", {}).get("reserved_concurrency")
    if saved is None:  # a second throttle must not record the zeros as "previous"
        state.update(config.prefix, drill={"reserved_concurrency": previous})
    for output in API_FUNCTIONS:
        lam.put_function_concurrency(FunctionName=api[output], ReservedConcurrentExecutions=0)


def unthrottle_primary(config: WorkshopConfig) -> None:
    """Undo :func:`throttle_primary` (idempotent)."""
    region = config.primary_region
    api = stack_outputs(config, "api", region)
    lam = client("lambda", region)
    saved = state.load(config.prefix).get("drill", {}).get("reserved_concurrency") or {}
    for output in API_FUNCTIONS:
        name = api[output]
        if saved.get(name):
            lam.put_function_concurrency(FunctionName=name,
                                         ReservedConcurrentExecutions=int(saved[name]))
        else:
            lam.delete_function_concurrency(FunctionName=name)
    state.update(config.prefix, drill={"reserved_concurrency": None})


def primary_outage(config: WorkshopConfig) -> None:
    """The whole primary region stops answering HTTP (sandbox only)."""
    from helpers.connect import sandbox_admin as admin

    admin.set_region_available(config.primary_region, False)


def end_primary_outage(config: WorkshopConfig) -> None:
    from helpers.connect import sandbox_admin as admin

    admin.set_region_available(config.primary_region, True)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    inject: Callable[[WorkshopConfig], Any]
    restore: Callable[[WorkshopConfig], Any]
    needs: str | None = None  # what the mode's target must support (helpers.core.target)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("bad-deploy", "a bad deploy: the primary's GET /health runs the wrong function "
             "and answers 400 (module 4)", failover.break_primary, failover.restore_primary),
    Scenario("throttle", "the primary's three API functions throttled to zero "
             "(reserved concurrency 0): every API call answers 429/502",
             throttle_primary, unthrottle_primary),
    Scenario("region-outage", "the whole primary region unreachable over HTTP (connections "
             "refused; its tables and the replicator keep running)",
             primary_outage, end_primary_outage, needs=SANDBOX_CONTROL),
)}


def available(scenario: str, target: Target) -> bool:
    """Whether ``target`` (a mode's, e.g. ``config.target``) can play ``scenario``."""
    needs = SCENARIOS[scenario].needs
    return needs is None or target.supports(needs)


def restore(config: WorkshopConfig, progress: Say | None = None) -> list[str]:
    """Undo every fault the drill can inject (safe to run any time); returns what was undone."""
    say = or_quiet(progress)
    undone = []
    if failover.restore_primary(config):
        undone.append("bad-deploy")
    saved = state.load(config.prefix).get("drill", {}).get("reserved_concurrency")
    if saved is not None or throttled(config):
        unthrottle_primary(config)
        undone.append("throttle")
    if config.target.supports(SANDBOX_CONTROL):
        from helpers.connect import sandbox_admin as admin

        if not admin.regions_available().get(config.primary_region, True):
            end_primary_outage(config)
            undone.append("region-outage")
    say(f"restored: {', '.join(undone)}" if undone else "no fault was in place")
    return undone


def throttled(config: WorkshopConfig) -> bool:
    api = stack_outputs(config, "api", config.primary_region)
    lam = client("lambda", config.primary_region)
    return any(lam.get_function_concurrency(FunctionName=api[o]).get(
        "ReservedConcurrentExecutions") == 0 for o in API_FUNCTIONS)


def check_ready(config: WorkshopConfig, scenario: str, replication: str = "streams") -> None:
    """Raise DrillUnavailable / DrillNotReady with what is missing; return quietly when ready.

    ``replication`` is how the tables replicate: ``streams`` (the replication stack of
    notebook 03.2) or ``global-tables`` (the global table of notebook 04.1).
    """
    if scenario not in SCENARIOS:
        raise UsageError(f"unknown scenario {scenario!r}: choose one of {', '.join(SCENARIOS)}")
    if replication not in REPLICATIONS:
        raise UsageError(f"unknown replication {replication!r}: choose one of "
                         f"{', '.join(REPLICATIONS)}")
    if not available(scenario, config.target):
        raise DrillUnavailable(
            f"the {scenario} scenario ({SCENARIOS[scenario].description}) is played by the "
            f"sandbox's outage switch and is not available on AWS (mode {config.mode!r}): "
            "choose --scenario bad-deploy or throttle there")
    primary, secondary = config.regions
    missing = []
    if replication == "global-tables" and not global_tables.is_global(config):
        raise DrillNotReady(
            f"--replication global-tables needs {global_tables.table_name(config)} to be a "
            f"global table with an ACTIVE replica in {secondary} (notebook 04.1); it is not: "
            "convert it there, or drill the replicator with --replication streams")
    needed = [("api", primary, "01"), ("api", secondary, "03.1")]
    if replication == "streams":
        needed.append(("replication", primary, "03.2"))
    for kind, region, notebook in needed:
        try:
            stack_outputs(config, kind, region)
        except StackError:
            missing.append(f"the {kind} stack {config.stack_name(kind)} in {region} "
                           f"(notebook {notebook})")
    if not missing and failover.find_health_check(config) is None:
        missing.append(f"the Route 53 health check of {config.regional_host(primary)} "
                       "(notebook 03.3)")
    dns_region = None
    if not missing:
        with contextlib.suppress(Exception):  # NXDOMAIN and friends: the records are missing
            dns_region = failover.answer_region(failover.dns_answer(config, "api"))
        if dns_region is None:
            missing.append(f"the failover records of {config.api_host()} (notebook 03.3)")
    if replication == "streams" and any(m.startswith("the replication") for m in missing) \
            and global_tables.is_global(config):
        raise DrillNotReady(
            f"{global_tables.table_name(config)} is a global table (notebook 04.1) and the "
            "replicator is retired: drill it with --replication global-tables")
    if missing:
        raise DrillNotReady(
            f"the drill needs the workshop deployed through notebook 03.3 for participant "
            f"{config.prefix!r} ({config.mode} mode); missing: {'; '.join(missing)}. Run those "
            "notebooks (or `workshop run --until 03.3`) and start the drill again")
    healthy, _ = failover.health_check_status(config)
    if not healthy or dns_region != primary:
        raise DrillNotReady(
            f"the primary is not serving right now (health check "
            f"{'healthy' if healthy else 'unhealthy'}, DNS answers {dns_region}): a fault is "
            "still in place. Undo it with `workshop drill --restore` (drill.restore(config)), "
            "wait for the health check to turn healthy, then start the drill again")
