"""Copy DynamoDB Streams changes into the table of another region.

The event source mapping hands this function batches of stream records from
the primary table. For each batch:

1. keep only the newest change per key (records arrive in stream order);
2. read the target's current `updatedAt` for those keys, and skip any change
   older than what the target already holds (a retried or late batch must never
   roll a ticket back);
3. write the rest with BatchWriteItem, 25 requests per call, retrying the
   unprocessed ones with exponential backoff and jitter;
4. report failed records as `batchItemFailures`, so Lambda retries from the
   first failed record instead of the whole batch (or losing it).

Stream images are already DynamoDB JSON, so the low-level client writes them
unchanged. Writing the same image twice leaves the same item, so a batch
delivered twice is harmless. :func:`replicate` holds the whole rule; the kit's
re-drive of a discarded batch (``workshop replication redrive``) calls it too.
"""

import json
import os
import random
import time
from dataclasses import dataclass, field

import common
from botocore.exceptions import BotoCoreError, ClientError

WRITE_BATCH = 25  # BatchWriteItem's limit
READ_BATCH = 100  # BatchGetItem's limit
MAX_ATTEMPTS = 5
BASE_DELAY = 0.05  # seconds; the n-th retry waits up to BASE_DELAY * 2**n
MAX_DELAY = 2.0
_sleep = time.sleep  # tests swap this out to run without waiting


@dataclass
class Change:
    """The newest change to one key in this batch."""

    keys: dict  # the key in DynamoDB JSON, e.g. {"id": {"S": "..."}}
    remove: bool
    image: dict | None  # NewImage to put, or OldImage of the removed item
    sequence_numbers: list = field(default_factory=list)  # every record of this key

    @property
    def key(self):
        return key_id(self.keys)


def handler(event, context=None):
    started = time.monotonic()
    records = (event or {}).get("Records") or []
    target_table, target_region = target()
    outcome = replicate(common.dynamodb(target_region), target_table, records)
    failed_sequence_numbers = outcome.failed_sequence_numbers
    common.log(
        "WARNING" if outcome.failed else "INFO", "replicated batch",
        records=len(records),
        written=outcome.written,
        deleted=outcome.deleted,
        skipped_stale=outcome.skipped_stale,
        failed=len(failed_sequence_numbers),
        duration_ms=round((time.monotonic() - started) * 1000, 1),
        target_table=target_table, target_region=target_region,
    )
    if not failed_sequence_numbers:
        return {"batchItemFailures": []}
    # Lambda retries from the reported record onwards, so the lowest failed one is
    # enough. Sequence numbers are decimal strings of varying length: compare as ints.
    lowest = min(failed_sequence_numbers, key=int)
    return {"batchItemFailures": [{"itemIdentifier": lowest}]}


@dataclass
class Outcome:
    """What :func:`replicate` did with one batch of stream records."""

    done: list = field(default_factory=list)  # Changes applied to the target
    failed: list = field(default_factory=list)  # Changes not applied (logged with their key)
    skipped_stale: int = 0  # changes older than what the target holds

    @property
    def written(self):
        return sum(not change.remove for change in self.done)

    @property
    def deleted(self):
        return sum(change.remove for change in self.done)

    @property
    def failed_sequence_numbers(self):
        return [seq for change in self.failed for seq in change.sequence_numbers]


def replicate(client, table, records):
    """Apply stream records (in stream order) to ``table``; the whole rule in one place.

    The handler calls it for every batch, and the kit's re-drive of a discarded
    batch (helpers/aws/replication.py) calls it with the records it re-reads from
    the stream, so both apply exactly the same logic.
    """
    changes, failed = newest_changes(records)
    try:
        current = current_versions(client, table, changes)
    except (ClientError, BotoCoreError, RuntimeError) as err:
        log_failure(changes, f"could not read the target's current versions: {err}")
        return Outcome(failed=failed + changes)
    fresh = [change for change in changes if not is_stale(change, current.get(change.key))]
    write_failed = write(client, table, fresh)
    failed_keys = {change.key for change in write_failed}
    done = [change for change in fresh if change.key not in failed_keys]
    return Outcome(done=done, failed=failed + write_failed,
                   skipped_stale=len(changes) - len(fresh))


def target():
    table = os.environ.get("TARGET_TABLE_NAME") or common.table_name()
    region = os.environ.get("TARGET_REGION")
    if not region:
        raise RuntimeError("TARGET_REGION is not set: the region to replicate into.")
    if region == common.aws_region() and table == os.environ.get("TABLE_NAME"):
        raise RuntimeError("The target is the source table itself; set TARGET_REGION.")
    return table, region


def key_id(keys):
    """A hashable identity for a key given in DynamoDB JSON."""
    return json.dumps(keys, sort_keys=True, separators=(",", ":"))


def key_of(item, names):
    """key_id of a whole item, given the table's key attribute names."""
    return key_id({name: item[name] for name in names if name in item})


def newest_changes(records):
    """Fold records into one Change per key (the last one wins); return (changes, malformed)."""
    changes, malformed = {}, []
    for record in records:
        data = record.get("dynamodb") or {}
        sequence_number = data["SequenceNumber"]
        keys = data.get("Keys")
        name = record.get("eventName")
        remove = name == "REMOVE"
        image = data.get("OldImage") if remove else data.get("NewImage")
        usable = keys and name in ("INSERT", "MODIFY", "REMOVE") and (remove or image)
        if not usable:
            bad = Change(keys or {}, remove, None, [sequence_number])
            log_failure([bad], f"unusable {name} record (the stream must send new and old images)")
            malformed.append(bad)
            continue
        earlier = changes.pop(key_id(keys), None)
        seen = earlier.sequence_numbers if earlier else []
        changes[key_id(keys)] = Change(keys, remove, image, seen + [sequence_number])
    return list(changes.values()), malformed


def version(item):
    """An item's `updatedAt`; ISO-8601 UTC strings sort in time order. Missing = oldest."""
    return (item or {}).get("updatedAt", {}).get("S", "")


def is_stale(change, current):
    """True when the target already holds a newer version than this change."""
    if current is None or change.image is None:
        return False  # nothing to protect, or no image to compare (then apply it)
    return version(current) > version(change.image)


def current_versions(client, table, changes):
    """Map key_id -> the target's item (key and updatedAt only) for the keys that exist."""
    names = sorted({name for change in changes for name in change.keys})
    aliases = {f"#k{i}": name for i, name in enumerate(names)}
    projection = ", ".join([*aliases, "#updatedAt"])
    current = {}
    for start in range(0, len(changes), READ_BATCH):
        request = {table: {
            "Keys": [change.keys for change in changes[start:start + READ_BATCH]],
            "ConsistentRead": True,  # compare against the latest write, not a stale copy
            "ProjectionExpression": projection,
            "ExpressionAttributeNames": {**aliases, "#updatedAt": "updatedAt"},
        }}
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                backoff(attempt)
            result = client.batch_get_item(RequestItems=request)
            for item in result.get("Responses", {}).get(table, []):
                current[key_of(item, names)] = item
            request = result.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise RuntimeError(f"keys still unprocessed after {MAX_ATTEMPTS} attempts")
    return current


def write(client, table, changes):
    """Apply the changes in batches of 25; return the changes that could not be written."""
    failed = []
    for start in range(0, len(changes), WRITE_BATCH):
        failed += write_batch(client, table, changes[start:start + WRITE_BATCH])
    return failed


def write_batch(client, table, changes):
    names = sorted({name for change in changes for name in change.keys})
    pending = {change.key: change for change in changes}
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            backoff(attempt)
        requests = [write_request(change) for change in pending.values()]
        try:
            result = client.batch_write_item(RequestItems={table: requests})
        except ClientError as err:
            code = err.response["Error"]["Code"]
            if code == "ValidationException" and len(pending) > 1:
                # One bad item rejects the whole call: retry one by one so the
                # others still get through.
                return [bad for change in pending.values()
                        for bad in write_batch(client, table, [change])]
            log_failure(pending.values(), f"BatchWriteItem failed: {code}: {err}")
            return list(pending.values())
        except BotoCoreError as err:
            log_failure(pending.values(), f"BatchWriteItem failed: {err}")
            return list(pending.values())
        unprocessed = result.get("UnprocessedItems", {}).get(table, [])
        pending = {key: pending[key] for key in (request_key(r, names) for r in unprocessed)}
        if not pending:
            return []
    log_failure(pending.values(), f"still unprocessed after {MAX_ATTEMPTS} attempts")
    return list(pending.values())


def write_request(change):
    if change.remove:
        return {"DeleteRequest": {"Key": change.keys}}
    return {"PutRequest": {"Item": change.image}}


def request_key(request, names):
    """key_id of an unprocessed write request, to match it back to its Change."""
    if "DeleteRequest" in request:
        return key_id(request["DeleteRequest"]["Key"])
    return key_of(request["PutRequest"]["Item"], names)


def backoff(attempt):
    # "Full jitter": a random wait up to the exponential bound, so retries from
    # many concurrent batches do not hit the table in lockstep.
    _sleep(random.uniform(0, min(MAX_DELAY, BASE_DELAY * 2 ** attempt)))


def log_failure(changes, reason):
    for change in changes:
        common.log("ERROR", "record not replicated", key=change.keys,
                   sequence_numbers=change.sequence_numbers, reason=reason)
