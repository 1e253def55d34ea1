"""Module 3.2 from the outside: backfill, compare the two tables, measure replication lag,
and re-drive the batches the replicator gave up on.

The stream only carries changes made after it was attached (and at most 24 h
of them), so tickets written before the replication stack existed are copied
once by :func:`backfill`. It applies the replicator's own rule (a newer
``updatedAt`` in the secondary is never overwritten) by calling the very code
in ``lambda_src/replicator.py``, so the two can never disagree.

When the event source mapping runs out of retries for a batch, Lambda sends
the failure queue a *description* of it - shard and first/last sequence
numbers, not the records. :func:`redrive` (``workshop replication redrive``)
reads each description, re-reads those records from the stream
(``GetShardIterator AT_SEQUENCE_NUMBER`` + ``GetRecords``, within the stream's
24 h), and applies them with the replicator's own ``replicate``.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from botocore.exceptions import ClientError

from helpers.aws import tickets
from helpers.aws.deployment import stack_outputs
from helpers.base import polling, ticket_ids
from helpers.base.errors import UsageError, WorkshopError
from helpers.base.paths import LAMBDA_SRC
from helpers.base.say import Say, or_quiet
from helpers.connect.net import real_time
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig
from helpers.core.target import MODELLED_GLOBAL_TABLES

POLL_S = 0.05
REDRIVE_VISIBILITY_S = 120  # a message being re-driven stays hidden from other readers


def backfill(config: WorkshopConfig) -> int:
    """Copy the primary's items that the secondary lacks or holds an older version of.

    Idempotent: a second run finds every item up to date and copies nothing.
    Returns how many items were copied.
    """
    primary, secondary = config.regions
    return copy_newer(config, primary, secondary, retry_hint="run the backfill again")


def copy_newer(config: WorkshopConfig, source_region: str, target_region: str,
               retry_hint: str) -> int:
    """Copy the items of ``source_region``'s table that ``target_region``'s lacks or holds older.

    Scan page by page (the paginator follows LastEvaluatedKey), look up the
    target's versions in batches, BatchWrite the missing or older ones, with
    the replicator's own rule (a newer ``updatedAt`` is never overwritten).
    Returns how many items were copied.
    """
    replicator = _replicator()
    source = stack_outputs(config, "api", source_region)["TableName"]
    target = stack_outputs(config, "api", target_region)["TableName"]
    target_db = client("dynamodb", target_region)
    copied = 0
    pages = client("dynamodb", source_region).get_paginator("scan").paginate(
        TableName=source, ConsistentRead=True)
    for page in pages:
        changes = [replicator.Change(keys={"id": item["id"]}, remove=False, image=item)
                   for item in page["Items"]]
        current = replicator.current_versions(target_db, target, changes)
        missing = [c for c in changes if _needs_copy(replicator, c, current.get(c.key))]
        failed = replicator.write(target_db, target, missing)
        if failed:
            raise CopyIncomplete(
                f"{len(failed)} item(s) could not be written to {target} in {target_region} "
                f"(throttled or rejected); {retry_hint} - it only copies what is still missing")
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
        try:
            counts[region] = sum(page["Count"] for page in pages)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            raise MissingTable(config, region, table) from None
    return counts


class CopyIncomplete(WorkshopError):
    """Some items could not be copied to the other region; the sentence says how to retry."""


class MissingTable(WorkshopError):
    """A tickets table the stacks say exists is gone (deleted by hand)."""

    def __init__(self, config: WorkshopConfig, region: str, table: str) -> None:
        role = "secondary" if region == config.secondary_region else "primary"
        super().__init__(
            f"the {role} table {table} in {region} no longer exists (deleted outside "
            "CloudFormation?). Until it is back, every change the replicator cannot write "
            "ends in the failure queue (`workshop replication failed`). Bring it back - "
            "restore it from its point-in-time backup, or delete the stack "
            f"{config.stack_name('api')} in {region} and deploy it again - then run "
            "backfill() and `workshop replication redrive`")


MEASURED, MODELLED = "measured", "modelled"


class Lags(list):
    """Replication lags (seconds from a ticket's POST until the secondary has it), and how
    the figure came about: ``basis`` is ``measured`` (the replication really ran) or
    ``modelled`` (the sandbox's model of a global table: DynamoDB's own replication is not
    emulated); ``how`` says it in a sentence, so every label can follow."""

    def __init__(self, lags: list[float], basis: str = MEASURED, how: str = "") -> None:
        super().__init__(lags)
        self.basis = basis
        self.how = how

    def summary(self) -> str:
        """``30 tickets, slowest 0.26 s in real time, measured`` (or ``..., modelled (how)``)
        for a printed line: a lag runs in real time, said with the kit's one formatter."""
        if not self:
            return f"0 tickets, {self.basis}"
        if self.basis == MODELLED:
            return f"{len(self)} tickets, slowest {real_time(max(self), 2, modelled=self.how)}"
        return f"{len(self)} tickets, slowest {real_time(max(self), 2)}, {self.basis}"


def lag_basis(config: WorkshopConfig, table: str) -> tuple[str, str]:
    """``(basis, how)`` of a lag measured now into the secondary's ``table``: modelled where
    the target models a global table's replication and the table is a replica, else
    measured."""
    try:
        replicas = client("dynamodb", config.secondary_region).describe_table(
            TableName=table)["Table"].get("Replicas")
    except ClientError:
        replicas = None
    if replicas and config.target.supports(MODELLED_GLOBAL_TABLES):
        return MODELLED, ("the sandbox replicates a global table one modelled inter-region "
                          "round trip after each write; DynamoDB's own replication is not "
                          "emulated")
    return MEASURED, ""


def measure_lag(config: WorkshopConfig, api_url: str, n: int = 20, rate: float = 10.0,
                timeout: float = 60) -> Lags:
    """Post ``n`` tickets through ``api_url`` at ``rate`` a second; for each, the seconds
    until it is readable in the secondary (a :class:`Lags`, which says whether the figure
    is measured or modelled).

    The tickets go out as a steady stream, as a busy API would see them, while
    this thread looks for them in the secondary table (one consistent
    BatchGetItem every ``POLL_S``). Each lag runs from sending the POST to the
    first read that finds the item, so it slightly overstates the true lag (it
    includes the API call) - the safe side for an RPO estimate.
    """
    if n < 1 or rate <= 0:
        raise UsageError(f"measure_lag needs n >= 1 and a positive rate (got {n}, {rate})")
    secondary = config.secondary_region
    table = stack_outputs(config, "api", secondary)["TableName"]
    dynamodb = client("dynamodb", secondary)
    sent: dict[str, float] = {}  # ticket id -> when its POST was sent
    sent_lock = threading.Lock()
    failures: list[BaseException] = []

    def post_all() -> None:
        try:
            for i in range(n):
                due = started + i / rate
                time.sleep(max(0.0, due - time.monotonic()))
                at = time.monotonic()
                item = tickets.create_ticket(api_url, createdBy="measure_lag", priority="low",
                                             description=f"replication lag probe {i + 1}/{n}")
                with sent_lock:
                    sent[item["id"]] = at
        except BaseException as exc:  # reported by the measuring thread
            failures.append(exc)

    started = time.monotonic()
    writer = threading.Thread(target=post_all, name="measure-lag-writes", daemon=True)
    writer.start()
    lags: dict[str, float] = {}

    def all_arrived() -> bool:
        if failures:
            raise failures[0]
        with sent_lock:
            waiting = {i: at for i, at in sent.items() if i not in lags}
        found = ticket_ids.present(dynamodb, table, waiting)
        now = time.monotonic()  # after the read: a lag errs on the long side
        lags.update((i, now - waiting[i]) for i in found)
        return len(lags) == n

    polling.wait_until(all_arrived, timeout=timeout + n / rate, interval=POLL_S,
                       what=f"{n} tickets to reach {table} in {secondary} (is replication on?)")
    writer.join()
    return Lags([lags[i] for i in sent], *lag_basis(config, table))


def wait_until_equal(config: WorkshopConfig, timeout: float = 60) -> dict[str, int]:
    """Wait until both tables hold the same number of items; returns the counts."""
    last: dict[str, int] = {}

    def equal() -> bool:
        last.update(item_counts(config))
        return len(set(last.values())) == 1

    try:
        polling.wait_until(equal, timeout=timeout, interval=0.5, what="equal item counts")
    except TimeoutError:
        raise TimeoutError(
            f"the tables still differ after {timeout:.0f} s ({last}): check that the "
            "replication stack is deployed, then run backfill() for tickets older than "
            "the stream") from None
    return last


# ---------------------------------------------------------------- failed batches


@dataclass
class RedriveReport:
    """What :func:`redrive` did, one line per failed batch."""

    batches: int = 0  # failure-queue messages handled
    records: int = 0  # stream records re-read in their ranges
    written: int = 0
    deleted: int = 0
    skipped_stale: int = 0  # the secondary already held a newer version
    superseded: int = 0  # keys the primary has changed since: their later records carry them
    still_failing: list[str] = field(default_factory=list)  # keys, message kept in the queue
    unreadable: list[str] = field(default_factory=list)  # why a batch could not be re-read
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.still_failing and not self.unreadable

    def __str__(self) -> str:
        if not self.batches:
            return "the failure queue is empty: no batch to re-drive"
        head = (f"re-drove {self.batches} failed batch(es): {self.records} record(s) re-read "
                f"from the stream, {self.written} written, {self.deleted} deleted, "
                f"{self.skipped_stale} already newer in the secondary, {self.superseded} "
                "changed since in the primary")
        tail = []
        if self.still_failing:
            tail.append(f"still failing ({len(self.still_failing)}), kept in the queue: "
                        + ", ".join(self.still_failing[:10]))
        tail += [f"could not re-read: {why}" for why in self.unreadable]
        return "\n".join([head, *[f"  {line}" for line in self.lines], *tail])


def failed_batches(config: WorkshopConfig) -> list[dict[str, Any]]:
    """The batch descriptions waiting in the failure queue, without taking them out.

    Each is Lambda's ``DDBStreamBatchInfo`` (``shardId``, ``startSequenceNumber``,
    ``endSequenceNumber``, ``batchSize``, ``streamArn``, ...) plus the
    ``condition`` that made Lambda give up (e.g. ``RetryAttemptsExhausted``).
    """
    sqs, queue_url = _failure_queue(config)
    seen: dict[str, dict[str, Any]] = {}
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=0, WaitTimeSeconds=0
                                       ).get("Messages", [])
        new = [m for m in messages if m["MessageId"] not in seen]
        if not new:
            break
        for message in new:
            seen[message["MessageId"]] = _batch_info(message)
    return list(seen.values())


def redrive(config: WorkshopConfig, progress: Say | None = None
            ) -> RedriveReport:
    """Re-apply every batch described in the failure queue, from the stream.

    For each message: read the records from ``startSequenceNumber`` to
    ``endSequenceNumber`` of its shard (``GetShardIterator AT_SEQUENCE_NUMBER``,
    ``GetRecords``) and apply them with the replicator's :func:`replicate`. A
    key the primary has changed since (a newer ``updatedAt``, or deleted or
    created again) is left out: its later stream record carries the newer
    state, so replaying the old one would bring back an outdated ticket. A
    message is deleted once all its changes are applied; otherwise it stays in
    the queue and the report names the keys still failing. Safe to run again.
    """
    say = or_quiet(progress)
    replicator = _replicator()
    primary, secondary = config.regions
    sqs, queue_url = _failure_queue(config)
    source = stack_outputs(config, "api", primary)["TableName"]
    target = stack_outputs(config, "api", secondary)["TableName"]
    source_db, target_db = client("dynamodb", primary), client("dynamodb", secondary)
    streams = client("dynamodbstreams", primary)
    report = RedriveReport()
    handled: set[str] = set()
    while True:
        messages = [m for m in sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=REDRIVE_VISIBILITY_S,
            WaitTimeSeconds=0).get("Messages", []) if m["MessageId"] not in handled]
        if not messages:
            break
        for message in messages:
            handled.add(message["MessageId"])
            report.batches += 1
            try:
                info = _batch_info(message)
                records = _read_range(streams, info)
            except (ValueError, KeyError, ClientError) as exc:
                report.unreadable.append(_unreadable(message, exc))
                continue
            changes, _ = replicator.newest_changes(records)
            now = replicator.current_versions(source_db, source, changes)
            superseded = {c.key for c in changes if _superseded(replicator, c, now.get(c.key))}
            outcome = replicator.replicate(target_db, target, [
                r for r in records if replicator.key_id(r["dynamodb"].get("Keys", {}))
                not in superseded])
            report.records += len(records)
            report.written += outcome.written
            report.deleted += outcome.deleted
            report.skipped_stale += outcome.skipped_stale
            report.superseded += len(superseded)
            keys = [_show_key(change.keys) for change in outcome.failed]
            line = (f"{info['shardId']} {info['startSequenceNumber']}..."
                    f"{info['endSequenceNumber']}: {len(records)} record(s), "
                    f"{len(outcome.done)} change(s) applied, {len(superseded)} changed since "
                    "in the primary")
            if keys:
                report.still_failing += keys
                line += f", {len(keys)} still failing ({', '.join(keys[:5])})"
            else:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            report.lines.append(line)
            say(line)
    return report


def _superseded(replicator: ModuleType, change: Any, now: dict | None) -> bool:
    """Has the primary moved past this change (so a later stream record carries the key)?"""
    if now is None:
        return not change.remove  # deleted since
    if change.remove:
        return True  # created again since
    return replicator.version(now) > replicator.version(change.image)


def _failure_queue(config: WorkshopConfig) -> tuple[Any, str]:
    outputs = stack_outputs(config, "replication", config.primary_region)
    return client("sqs", config.primary_region), outputs["FailureQueueUrl"]


def _batch_info(message: dict[str, Any]) -> dict[str, Any]:
    """The ``DDBStreamBatchInfo`` of an on-failure destination record (ValueError if none)."""
    try:
        body = json.loads(message["Body"])
        info = dict(body["DDBStreamBatchInfo"])
    except (ValueError, KeyError, TypeError):
        raise ValueError("not a Lambda on-failure record of a DynamoDB stream batch "
                         "(no DDBStreamBatchInfo)") from None
    info["condition"] = body.get("requestContext", {}).get("condition", "")
    return info


def _read_range(streams: Any, info: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream records from ``startSequenceNumber`` to ``endSequenceNumber``, in order."""
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"], ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"])["ShardIterator"]
    records: list[dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator,
                                   Limit=max(1, min(1000, end - start + 1 - len(records))))
        records += [r for r in page["Records"] if int(_seq(r)) <= end]
        if not page["Records"] or int(_seq(page["Records"][-1])) >= end:
            break
        iterator = page.get("NextShardIterator")
    if not records or int(_seq(records[0])) != start:
        raise ValueError(f"sequence number {start} is no longer in the stream")
    return records


def _seq(record: dict[str, Any]) -> str:
    return record["dynamodb"]["SequenceNumber"]


def _show_key(keys: dict[str, Any]) -> str:
    return ", ".join(f"{name}={next(iter(value.values()))}" for name, value in keys.items())


def _unreadable(message: dict[str, Any], exc: Exception) -> str:
    code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else ""
    if code == "TrimmedDataAccessException" or "no longer in the stream" in str(exc):
        why = ("its records have left the stream (older than 24 h): run backfill() to copy "
               "what the secondary lacks, then delete the message")
    elif code == "ResourceNotFoundException":
        why = ("its stream no longer exists (table deleted or stream switched off): run "
               "backfill() to copy what the secondary lacks, then delete the message")
    else:
        why = str(exc)
    return f"message {message['MessageId']}: {why}"


def _replicator() -> ModuleType:
    """``lambda_src/replicator.py`` as a module (it imports ``common`` as a top-level name)."""
    if "replicator" in sys.modules:
        return sys.modules["replicator"]
    sys.path.insert(0, str(LAMBDA_SRC))
    try:
        return importlib.import_module("replicator")
    finally:
        sys.path.remove(str(LAMBDA_SRC))
