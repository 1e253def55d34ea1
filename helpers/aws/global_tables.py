"""Module 4.1: turn the tickets table into a DynamoDB global table (version 2019.11.21).

The conversion AWS supports for a table that already holds data is ``UpdateTable``
with ``ReplicaUpdates: [{"Create": {"RegionName": <secondary>}}]`` on the
primary's table. AWS requires the table's stream to carry new and old images
(the kit's does) and refuses the replica while a table of that name exists in
the replica's region -- and the secondary's own tickets table has that name.
``AWS::DynamoDB::GlobalTable`` is no shortcut: CloudFormation cannot turn the
stack's ``AWS::DynamoDB::Table`` into one in place. So, in order:

1. :func:`retire_replicator`: let the replicator drain, then delete the
   replication stack (a global table replicates by itself).
2. :func:`bring_back_secondary_only`: copy into the primary what only the
   secondary holds (tickets written there while the primary was failed over),
   with the replicator's ``updatedAt`` rule -- no ticket is lost.
3. :func:`release_secondary_table`: update the secondary's API stack with
   ``TableSource=global-table-replica``; CloudFormation deletes the table the
   stack owned, and the functions keep the table name, which the replica takes.
4. :func:`add_replica`: ``UpdateTable ReplicaUpdates Create`` and wait until
   the replica is ``ACTIVE``; it starts with every item of the primary.

Both regions' functions already name ``<prefix>-tickets``: once the replica
exists, each region reads and writes its own replica of the global table.
:func:`remove_replicas` is the clean-up's first step: replicas before tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from helpers.aws import deployment, replication, stacks
from helpers.base import polling
from helpers.base.errors import PermissionDenied, WorkshopError
from helpers.base.say import Say, or_quiet
from helpers.base.tables import whole
from helpers.connect.net import duration, time_scale
from helpers.connect.session import client
from helpers.core import state
from helpers.core.config import WorkshopConfig

VERSION = "2019.11.21"
STATE_KEY = "global_table"
REPLICA_SOURCE = "global-table-replica"  # the API template's TableSource for a replica
REPLICA_PATIENCE_S = 1800  # AWS: minutes for a small table; scaled in the sandbox
POLL_S = 5.0  # between DescribeTable calls while a replica is created or deleted (scaled)
FUNCTIONS = ("ticket-get", "ticket-post", "health-check")


class ConversionError(WorkshopError):
    """The table cannot be converted as it is; the sentence says what to change."""


class ReplicaFailed(ConversionError):
    """A replica is in a state DynamoDB does not leave by itself; the sentence says what
    happened and what to do."""


# ReplicaStatus values DynamoDB does not leave by itself (DescribeTable, "ReplicaDescription"
# in the DynamoDB API reference): what happened, and what to do about it.
FAILED = {
    "CREATION_FAILED": (
        "DynamoDB could not create it",
        "remove it with global_tables.remove_replicas(config) (or `workshop cleanup`), check "
        "requirements(config), then run the conversion again"),
    "REGION_DISABLED": (
        "its region is disabled for the account (an opt-in region turned off, or restricted)",
        "enable the region for the account (AWS console: Account, AWS Regions) and run this "
        "step again, or remove the replica and use another secondary region"),
    "INACCESSIBLE_ENCRYPTION_CREDENTIALS": (
        "DynamoDB cannot use the table's KMS key there (disabled, scheduled for deletion, or "
        "its grant revoked)",
        "make the key usable again and run this step again (a replica whose key stays "
        "inaccessible for seven days is archived)"),
}


@dataclass
class Conversion:
    """What :func:`convert` did, step by step."""

    items_before: dict[str, int] = field(default_factory=dict)  # region -> tickets
    copied_back: int = 0  # tickets only the secondary held, copied into the primary
    replica: dict[str, Any] = field(default_factory=dict)  # the primary's DescribeTable
    items_after: dict[str, int] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        rows = [("tickets before", *self._by_region(self.items_before)),
                ("copied back from the secondary", self.copied_back, ""),
                ("tickets after (each region's replica)", *self._by_region(self.items_after))]
        return pd.DataFrame(rows, columns=["step", "primary", "secondary"]).set_index("step")

    @staticmethod
    def _by_region(counts: dict[str, int]) -> tuple[Any, Any]:
        values = list(counts.values()) + ["", ""]
        return values[0], values[1]


def table_name(config: WorkshopConfig) -> str:
    return f"{config.prefix}-tickets"


def describe(config: WorkshopConfig, region: str) -> dict[str, Any] | None:
    """The region's tickets table as DescribeTable shows it, or None if there is none."""
    try:
        return client("dynamodb", region).describe_table(TableName=table_name(config))["Table"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise


def replicas(config: WorkshopConfig) -> dict[str, str]:
    """Replica region -> status, as the primary's table lists them (empty: not global)."""
    table = describe(config, config.primary_region) or {}
    return {r["RegionName"]: r["ReplicaStatus"] for r in table.get("Replicas", [])}


def is_global(config: WorkshopConfig) -> bool:
    """The primary's table has an ACTIVE replica in the secondary."""
    return replicas(config).get(config.secondary_region) == "ACTIVE"


def requirements(config: WorkshopConfig) -> pd.DataFrame:
    """What ``UpdateTable ReplicaUpdates`` requires, and how the tables stand now."""
    primary, secondary = config.regions
    table = describe(config, primary) or {}
    stream = table.get("StreamSpecification") or {}
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    other = describe(config, secondary)
    rows = [
        ("stream with new and old images", "NEW_AND_OLD_IMAGES",
         stream.get("StreamViewType", "no stream"),
         stream.get("StreamViewType") == "NEW_AND_OLD_IMAGES"),
        ("capacity that follows replicated writes", "PAY_PER_REQUEST (or auto scaling)",
         billing, billing == "PAY_PER_REQUEST"),
        (f"no table named {table_name(config)} in {secondary}", "none",
         "a replica" if other and other.get("Replicas") else "the secondary's own table"
         if other else "none", other is None or bool(other.get("Replicas"))),
    ]
    return pd.DataFrame(rows, columns=["requirement", "needs", "now", "met"]).set_index(
        "requirement")


def retire_replicator(config: WorkshopConfig, progress: Say | None = None,
                      timeout: float = 120) -> bool:
    """Let the replicator catch up, then delete the replication stack. False if none."""
    say = or_quiet(progress)
    name = config.stack_name("replication")
    if stacks.stack_status(config.primary_region, name) in (None, "DELETE_COMPLETE"):
        say(f"{name} is not deployed: nothing to retire")
        return False
    say("waiting for the replicator to catch up")
    polling.wait_until(lambda: _caught_up(config), timeout, interval=0.5,
                       what="the secondary to hold every ticket of the primary")
    stacks.delete(config.primary_region, name, say)
    deployment.forget(config, "replication", config.primary_region)
    return True


def _versions(config: WorkshopConfig, region: str) -> dict[str, str]:
    pages = client("dynamodb", region).get_paginator("scan").paginate(
        TableName=table_name(config), ConsistentRead=True, ProjectionExpression="id, updatedAt")
    return {i["id"]["S"]: i.get("updatedAt", {}).get("S", "") for p in pages for i in p["Items"]}


def _caught_up(config: WorkshopConfig) -> bool:
    """Every primary ticket is in the secondary, as new or newer (the secondary may hold
    more: tickets written there during a failover)."""
    primary, secondary = (_versions(config, r) for r in config.regions)
    return all(key in secondary and secondary[key] >= version
               for key, version in primary.items())


def bring_back_secondary_only(config: WorkshopConfig) -> int:
    """Copy into the primary the tickets the secondary holds newer or alone (written there
    during a failover: the replicator only copies primary -> secondary). Returns how many."""
    if describe(config, config.secondary_region) is None:
        return 0
    primary, secondary = config.regions
    return replication.copy_newer(config, secondary, primary,
                                  retry_hint="run bring_back_secondary_only again")


def release_secondary_table(config: WorkshopConfig, progress: Say | None = None) -> None:
    """The secondary's API stack lets go of its table (CloudFormation deletes it): a replica
    can only be created where no table of its name exists."""
    secondary = config.secondary_region
    table = describe(config, secondary)
    if table is not None and table.get("Replicas"):
        return  # already a replica
    state.update(config.prefix, **{STATE_KEY: {"table": table_name(config),
                                                "regions": list(config.regions)}})
    deployment.deploy_api(config, secondary, progress)


def add_replica(config: WorkshopConfig, progress: Say | None = None) -> dict[str, Any]:
    """``UpdateTable ReplicaUpdates Create`` in the secondary; waits until it is ACTIVE and
    returns the primary's DescribeTable."""
    say = or_quiet(progress)
    primary, secondary = config.regions
    if replicas(config).get(secondary) is None:
        try:
            client("dynamodb", primary).update_table(
                TableName=table_name(config),
                ReplicaUpdates=[{"Create": {"RegionName": secondary}}])
        except PermissionDenied:
            raise  # its own sentence: the action, the notebook, `workshop iam-policy`
        except ClientError as exc:
            error = exc.response["Error"]
            raise ConversionError(
                f"DynamoDB refused the replica in {secondary}: {error['Code']}: "
                f"{error['Message']} - check requirements(config); a table of that name "
                f"in {secondary} goes with release_secondary_table(config)") from None
        say(f"replica of {table_name(config)} in {secondary}: CREATING")
    _wait_for(config, lambda found: found.get(secondary) == "ACTIVE",
              f"the replica in {secondary} to be ACTIVE", say)
    say(f"replica of {table_name(config)} in {secondary}: ACTIVE")
    return describe(config, primary) or {}


def failure_sentence(config: WorkshopConfig, replica: dict[str, Any]) -> str:
    """What happened to a failed replica (DescribeTable's ``Replicas`` entry), and what to do."""
    status = replica["ReplicaStatus"]
    happened, to_do = FAILED[status]
    why = replica.get("ReplicaStatusDescription")
    return (f"the replica of {table_name(config)} in {replica['RegionName']} is {status}: "
            f"{happened}{f' ({why})' if why else ''}; {to_do}")


def convert(config: WorkshopConfig, progress: Say | None = None) -> Conversion:
    """Steps 1-4 of the module doc, each skipped when already done (safe to run again)."""
    result = Conversion()
    if not is_global(config):
        result.items_before = replication.item_counts(config)
        retire_replicator(config, progress)
        result.copied_back = bring_back_secondary_only(config)
        release_secondary_table(config, progress)
    result.replica = add_replica(config, progress)
    result.items_after = replication.item_counts(config)
    return result


def functions_table(config: WorkshopConfig) -> pd.DataFrame:
    """Each region's functions, the table they name, and what that table is in the region."""
    rows = []
    for region in config.regions:
        table = describe(config, region) or {}
        others = ", ".join(f"{r['RegionName']} {r['ReplicaStatus']}"
                           for r in table.get("Replicas", []))
        what = (f"replica of global table {table.get('GlobalTableVersion')} (others: {others})"
                if table.get("GlobalTableVersion") else "a table of its own" if table
                else "no table")
        lam = client("lambda", region)
        for name in FUNCTIONS:
            function = f"{config.prefix}-{name}"
            try:
                env = lam.get_function_configuration(FunctionName=function).get(
                    "Environment", {}).get("Variables", {})
            except ClientError:
                env = {}
            rows.append({"region": region, "function": function,
                         "TABLE_NAME": env.get("TABLE_NAME", "-"), "that table is": what})
    return whole(pd.DataFrame(rows))


def remove_replicas(config: WorkshopConfig, progress: Say | None = None) -> list[str]:
    """Delete every replica of the participant's global table (clean-up, before the stacks
    delete the tables); returns what was deleted. Nothing to do for a plain table."""
    say = or_quiet(progress)
    removed = []
    for region in config.regions:
        table = describe(config, region)
        for replica in (table or {}).get("Replicas", []):
            other = replica["RegionName"]
            if replica["ReplicaStatus"] != "DELETING":
                # A replica that failed to be created is only deleted; the other failures
                # end the wait with their sentence.
                _wait_for(config, lambda found: all(s in ("ACTIVE", "DELETING", "CREATION_FAILED")
                                                    for s in found.values()),
                          "the global table's replicas to settle", say, region,
                          deletable=True)
                client("dynamodb", region).update_table(
                    TableName=table_name(config),
                    ReplicaUpdates=[{"Delete": {"RegionName": other}}])
                say(f"replica of {table_name(config)} in {other}: DELETING")
            _wait_for(config, lambda found, o=other: o not in found,
                      f"the replica in {other} to be deleted", say, region, deletable=True)
            removed.append(f"replica of table {table_name(config)} ({other})")
        if removed:
            break
    data = state.load(config.prefix)
    if data.pop(STATE_KEY, None) is not None:
        state.save(config.prefix, data)
    return removed


def _wait_for(config: WorkshopConfig, done: Callable[[dict[str, str]], bool], what: str,
              say: Say, region: str | None = None, deletable: bool = False) -> None:
    """Wait until ``done(replica region -> status)``; a replica in a FAILED state ends the
    wait at once with its sentence (but CREATION_FAILED when ``deletable``: clean-up deletes
    it)."""
    region = region or config.primary_region
    seen: dict[str, str] = {}

    def check() -> bool:
        table = describe(config, region) or {}
        seen.clear()
        seen.update({r["RegionName"]: r["ReplicaStatus"] for r in table.get("Replicas", [])})
        for replica in table.get("Replicas", []):
            status = replica["ReplicaStatus"]
            if status in FAILED and not (deletable and status == "CREATION_FAILED"):
                raise ReplicaFailed(failure_sentence(config, replica))
        return done(seen)

    scale = time_scale()
    try:
        polling.wait_until(check, REPLICA_PATIENCE_S * scale, interval=POLL_S * scale,
                           what=what)
    except TimeoutError:
        raise ConversionError(
            f"still waiting for {what} after {duration(REPLICA_PATIENCE_S * scale, digits=0)} "
            "(replicas: "
            f"{seen or 'none'}); DescribeTable in {region} shows progress - run the cell "
            "again to keep waiting") from None
    say(f"{what}: done")
