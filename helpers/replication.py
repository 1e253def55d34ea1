"""Module 3.2 from the outside: backfill, compare the two tables, measure replication lag.

The stream only carries changes made after it was attached (and at most 24 h
of them), so tickets written before the replication stack existed are copied
once by :func:`backfill`. It applies the replicator's own rule (a newer
``updatedAt`` in the secondary is never overwritten) by calling the very code
in ``lambda_src/replicator.py``, so the two can never disagree.
"""

from __future__ import annotations

import importlib
import sys
import time
from types import ModuleType
from typing import Any

from helpers import net, tickets
from helpers.config import WorkshopConfig
from helpers.deployment import stack_outputs
from helpers.paths import LAMBDA_SRC
from helpers.session import client

POLL_S = 0.05


def backfill(config: WorkshopConfig) -> int:
    """Copy the primary's items that the secondary lacks or holds an older version of.

    Scan page by page (the paginator follows LastEvaluatedKey), look up the
    secondary's versions in batches, BatchWrite the missing or older ones.
    Idempotent: a second run finds every item up to date and copies nothing.
    Returns how many items were copied.
    """
    replicator = _replicator()
    primary, secondary = config.regions
    source = stack_outputs(config, "api", primary)["TableName"]
    target = stack_outputs(config, "api", secondary)["TableName"]
    target_db = client("dynamodb", secondary)
    copied = 0
    pages = client("dynamodb", primary).get_paginator("scan").paginate(
        TableName=source, ConsistentRead=True)
    for page in pages:
        changes = [replicator.Change(keys={"id": item["id"]}, remove=False, image=item)
                   for item in page["Items"]]
        current = replicator.current_versions(target_db, target, changes)
        missing = [c for c in changes if _needs_copy(replicator, c, current.get(c.key))]
        failed = replicator.write(target_db, target, missing)
        if failed:
            raise RuntimeError(
                f"{len(failed)} item(s) could not be written to {target} in {secondary} "
                "(throttled or rejected); run the backfill again - it only copies what is "
                "still missing")
        copied += len(missing)
    return copied


def _needs_copy(replicator: ModuleType, change: Any, current: dict | None) -> bool:
    """The replicator's rule, minus rewriting items the secondary already holds as is."""
    if current is None:
        return True
    same = replicator.version(current) == replicator.version(change.image)
    return not same and not replicator.is_stale(change, current)


def item_counts(config: WorkshopConfig) -> dict[str, int]:
    """Items in each region's table (a paginated ``Select=COUNT`` scan: exact, not estimated)."""
    counts = {}
    for region in config.regions:
        table = stack_outputs(config, "api", region)["TableName"]
        pages = client("dynamodb", region).get_paginator("scan").paginate(
            TableName=table, Select="COUNT", ConsistentRead=True)
        counts[region] = sum(page["Count"] for page in pages)
    return counts


def measure_lag(config: WorkshopConfig, api_url: str, n: int = 20,
                timeout: float = 60) -> list[float]:
    """Post ``n`` tickets through ``api_url``; seconds until each is readable in the secondary.

    Each lag runs from sending the POST to the first GetItem that finds the
    item in the secondary table, so it slightly overstates the true lag (it
    includes the API call) - the safe side for an RPO estimate.
    """
    secondary = config.secondary_region
    table = stack_outputs(config, "api", secondary)["TableName"]
    dynamodb = client("dynamodb", secondary)
    lags = []
    for i in range(n):
        started = time.monotonic()
        item = tickets.create_ticket(api_url, description=f"replication lag probe {i + 1}/{n}",
                                     createdBy="measure_lag", priority="low")
        key = {"id": {"S": item["id"]}}
        net.wait_until(lambda k=key: "Item" in dynamodb.get_item(
            TableName=table, Key=k, ConsistentRead=True, ProjectionExpression="id"),
            timeout=timeout, interval=POLL_S,
            what=f"ticket {item['id']} to reach {table} in {secondary} (is replication on?)")
        lags.append(time.monotonic() - started)
    return lags


def wait_until_equal(config: WorkshopConfig, timeout: float = 60) -> dict[str, int]:
    """Wait until both tables hold the same number of items; returns the counts."""
    last: dict[str, int] = {}

    def equal() -> bool:
        last.update(item_counts(config))
        return len(set(last.values())) == 1

    try:
        net.wait_until(equal, timeout=timeout, interval=0.5, what="equal item counts")
    except TimeoutError:
        raise TimeoutError(
            f"the tables still differ after {timeout:.0f} s ({last}): check that the "
            "replication stack is deployed, then run backfill() for tickets older than "
            "the stream") from None
    return last


def _replicator() -> ModuleType:
    """``lambda_src/replicator.py`` as a module (it imports ``common`` as a top-level name)."""
    if "replicator" in sys.modules:
        return sys.modules["replicator"]
    sys.path.insert(0, str(LAMBDA_SRC))
    try:
        return importlib.import_module("replicator")
    finally:
        sys.path.remove(str(LAMBDA_SRC))
