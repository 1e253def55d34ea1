"""DynamoDB global tables, version 2019.11.21 -- which moto does not implement.

``UpdateTable`` with ``ReplicaUpdates`` (moto ignores the parameter) adds or
removes a replica, as DynamoDB does for the current version of global tables
("How DynamoDB global tables work" and "UpdateTable" in the DynamoDB guides):

* **Create** checks what AWS checks: the table's stream is enabled with
  ``NEW_AND_OLD_IMAGES``; no table of that name exists in the replica's region
  (a table cannot be adopted as a replica, so the kit's conversion deletes the
  secondary's own table first); the region is another region the sandbox has;
  no replica of the table is being created or deleted. The replica is
  ``CREATING`` for ``replica_creation`` (scaled: :mod:`helpers.sandbox.clock`), the
  table it was added to ``UPDATING``; then the replica exists in its region with
  the same key schema, attributes, secondary indexes, billing mode and a
  ``NEW_AND_OLD_IMAGES`` stream, and every item the table holds at that moment; and
  it is ``ACTIVE``.
* **Delete** makes the replica ``DELETING`` for ``replica_deletion`` (scaled),
  then deletes its table. ``DeleteTable`` on a replica deletes that replica
  (both refused while a replica is being created or deleted). The last table
  left is a plain table again.
* ``DescribeTable`` of any replica lists the other replicas (``Replicas`` with
  ``RegionName`` and ``ReplicaStatus``) and ``GlobalTableVersion``.
* **Replication**: every write to a replica (put, update, delete) reaches every
  other ``ACTIVE`` replica asynchronously, in both directions, one inter-region
  round trip (:mod:`helpers.sandbox.inter_region_latency`, real time:
  ``inter_region_round_trip`` in :mod:`helpers.sandbox.clock`) after it
  was made. A conflict is settled per item by **last writer wins**: a change is
  applied only if it was written later than the version the replica holds
  (ties: the higher region name), so replicas converge on the same item. A
  replicated write appears in the replica's own stream, as on AWS, and is not
  sent back.

State: each replica's moto ``Table`` carries the :class:`GlobalTable` they share
(``sandbox_global_table``), with each replica's status, its per-link stream
positions and the write time and origin of each item's version; stream records
carry their write time and origin. All of it is pickled with moto's backends
(:mod:`helpers.sandbox.persistence`), so after a restart replication resumes at
the first change it had not sent; a change sent twice is harmless (last writer
wins makes replication idempotent).
"""

from __future__ import annotations

import copy
import json
import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from helpers.sandbox import admin_paths
from helpers.sandbox.clock import Clock, aws_seconds
from helpers.sandbox.context import ACCOUNT_ID, SandboxContext
from helpers.sandbox.dynamodb import streams
from helpers.sandbox.inter_region_latency import round_trip_ms

log = logging.getLogger("helpers.sandbox.dynamodb.global_tables")

VERSION = "2019.11.21"
# AWS seconds (helpers.sandbox.clock's table, which gives the reasons).
REPLICA_CREATION_S = aws_seconds("replica_creation")
REPLICA_DELETION_S = aws_seconds("replica_deletion")
POLL_S = 0.02  # how often the replication loop looks for changes (real time)
STREAM_VIEW = "NEW_AND_OLD_IMAGES"

_replicating = threading.local()  # set while a replicated change is applied: its origin


@dataclass
class Replica:
    region: str
    status: str  # CREATING | ACTIVE | DELETING, or a failure (a fault: FAILED below)
    until: float = 0.0  # epoch at which CREATING ends (ACTIVE) or DELETING ends (gone)
    copy_from: str = ""  # CREATING: the replica whose items it starts with
    # Index into this replica's stream of the next change to send, per target region.
    positions: dict[str, int] = field(default_factory=dict)
    sent: int = 0  # changes applied to other replicas
    skipped: int = 0  # changes another replica already held a later version of
    last_lag_ms: float | None = None  # write -> applied elsewhere, last change sent
    description: str = ""  # ReplicaStatusDescription, for a failed replica


@dataclass
class GlobalTable:
    name: str
    replicas: dict[str, Replica]
    updating: str = ""  # the region whose UpdateTable is in progress (its table is UPDATING)
    # region -> item key -> (written at, origin region) of the version that replica holds
    versions: dict[str, dict[str, tuple[float, str]]] = field(default_factory=dict)

    def busy(self) -> bool:
        return any(r.status in ("CREATING", "DELETING") for r in self.replicas.values())


# ---------------------------------------------------------------- moto patches
# Installed by helpers.sandbox.patches.
def _wrap_describe(original: Any) -> Any:
    def describe(self: Any, base_key: str = "TableDescription") -> dict[str, Any]:
        result = original(self, base_key)
        group = getattr(self, "sandbox_global_table", None)
        if group is not None:
            result[base_key].update(_description(group, self.region_name))
        return result

    return describe


def _wrap_update_table(original: Any) -> Any:
    def update_table(self: Any) -> Any:
        if "ReplicaUpdates" not in self.body:
            _refuse_disabling_stream(self.dynamodb_backend, self.body)
            return original(self)
        from moto.dynamodb.responses import DynamoResult

        table = _update_replicas(self.dynamodb_backend, self.body)
        return DynamoResult(table.describe())

    return update_table


def _wrap_delete_table(original: Any) -> Any:
    def delete_table(self: Any, name: str) -> Any:
        table = self.get_table(name)
        group = getattr(table, "sandbox_global_table", None)
        if group is not None:
            _refuse_while_busy(group, table.name)
        deleted = original(self, name)
        if group is not None:
            _leave(group, table.region_name)
        return deleted

    return delete_table


PATCHES = (
    ("moto.dynamodb.models.table:Table.describe", _wrap_describe),
    ("moto.dynamodb.responses:DynamoHandler.update_table", _wrap_update_table),
    ("moto.dynamodb.models:DynamoDBBackend.delete_table", _wrap_delete_table),
)


def _description(group: GlobalTable, region: str) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "GlobalTableVersion": VERSION,
        "Replicas": [{"RegionName": other, "ReplicaStatus": replica.status,
                      **({"ReplicaStatusDescription": replica.description}
                         if replica.description else {})}
                     for other, replica in sorted(group.replicas.items()) if other != region],
    }
    if group.updating == region and group.busy():
        extra["TableStatus"] = "UPDATING"
    return extra


def _validation(message: str) -> Exception:
    from moto.dynamodb.exceptions import MockValidationException

    return MockValidationException(message)


def _refuse_while_busy(group: GlobalTable, name: str) -> None:
    if group.busy():
        from moto.dynamodb.exceptions import ResourceInUseException

        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Table is being updated: "
            f"{name}; wait until every replica is ACTIVE (DescribeTable, Replicas)")


def _refuse_disabling_stream(backend: Any, body: dict[str, Any]) -> None:
    spec = body.get("StreamSpecification") or {}
    if spec.get("StreamEnabled") is not False:
        return
    table = backend.tables.get(body.get("TableName", ""))
    if table is not None and getattr(table, "sandbox_global_table", None) is not None:
        raise _validation("Table is a global table (version 2019.11.21): its replicas "
                          "replicate through its stream, which cannot be disabled")


def _update_replicas(backend: Any, body: dict[str, Any]) -> Any:
    table = backend.get_table(body["TableName"])
    updates = body["ReplicaUpdates"]
    if len(updates) != 1:
        raise _validation("One replica update per UpdateTable request: send ReplicaUpdates "
                          "with one Create or Delete, then wait for it to finish")
    update = updates[0]
    if "Create" in update:
        _create_replica(backend, table, update["Create"]["RegionName"])
    elif "Delete" in update:
        _delete_replica(table, update["Delete"]["RegionName"])
    else:
        raise _validation("ReplicaUpdates supports Create and Delete (the sandbox does not "
                          "emulate Update, per-replica settings)")
    return table


def _create_replica(backend: Any, table: Any, region: str) -> None:
    from moto.dynamodb.models import dynamodb_backends

    group: GlobalTable | None = getattr(table, "sandbox_global_table", None)
    if group is not None:
        _refuse_while_busy(group, table.name)
    spec = table.stream_specification or {}
    if not spec.get("StreamEnabled") or spec.get("StreamViewType") != STREAM_VIEW:
        raise _validation(
            f"Table {table.name} must have DynamoDB Streams enabled with StreamViewType "
            f"{STREAM_VIEW} to add a replica (it has "
            f"{spec.get('StreamViewType') if spec.get('StreamEnabled') else 'no stream'}); "
            "enable it with UpdateTable StreamSpecification first")
    if region == table.region_name or (group is not None and region in group.replicas):
        raise _validation(f"Table {table.name} already has a replica in {region}")
    if region not in _REGIONS:
        raise _validation(f"Invalid region {region!r}: not a region this account can use")
    regional = dict.get(dynamodb_backends[ACCOUNT_ID], region)
    if regional is not None and table.name in regional.tables:
        raise _validation(
            f"Failed to create a the new replica of table with name: '{table.name}' because "
            f"one or more replicas already existed as tables. A table named {table.name} "
            f"exists in {region}: delete it first (a replica is always a new table)")
    if group is None:
        group = GlobalTable(table.name, {table.region_name: Replica(table.region_name,
                                                                    "ACTIVE")})
        table.sandbox_global_table = group
    group.replicas[region] = Replica(region, "CREATING", until=time.time() + _clock.seconds(
        "replica_creation"), copy_from=table.region_name)
    group.updating = table.region_name
    log.info("replica of %s in %s: CREATING", table.name, region)


def _delete_replica(table: Any, region: str) -> None:
    group: GlobalTable | None = getattr(table, "sandbox_global_table", None)
    if group is None or region not in group.replicas or region == table.region_name:
        raise _validation(f"Table {table.name} has no replica in {region} to delete "
                          "(DescribeTable lists its replicas)")
    _refuse_while_busy(group, table.name)
    replica = group.replicas[region]
    replica.status, replica.until = "DELETING", time.time() + _clock.seconds("replica_deletion")
    group.updating = table.region_name


def _leave(group: GlobalTable, region: str) -> None:
    """A replica's table is gone: the others stop replicating to it; one left is a plain table."""
    group.replicas.pop(region, None)
    group.versions.pop(region, None)
    for replica in group.replicas.values():
        replica.positions.pop(region, None)
    if len(group.replicas) == 1:
        (last,) = group.replicas
        table = _table(last, group.name)
        if table is not None:
            table.sandbox_global_table = None


# ---------------------------------------------------------------- versions
def _stamp(table: Any, record: Any) -> None:
    """Every change to a replica: when it was written, where, and the item's new version."""
    group: GlobalTable | None = getattr(table, "sandbox_global_table", None)
    if group is None:
        return
    origin = getattr(_replicating, "origin", None)
    record.sandbox_written_at, record.sandbox_origin = origin or (time.time(), table.region_name)
    group.versions.setdefault(table.region_name, {})[_key(record)] = (
        record.sandbox_written_at, record.sandbox_origin)


def _key(record: Any) -> str:
    return json.dumps(record.record["dynamodb"]["Keys"], sort_keys=True)


def _newer(change: tuple[float, str], held: tuple[float, str] | None) -> bool:
    """Last writer wins: the later write; for writes at the same instant, the higher region."""
    return held is None or change > held


# ---------------------------------------------------------------- the component
_REGIONS: tuple[str, ...] = ()
_clock = Clock()  # the sandbox's, once started


def _table(region: str, name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    backend = dict.get(dynamodb_backends[ACCOUNT_ID], region)
    return backend.tables.get(name) if backend is not None else None


class GlobalTables:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        global _REGIONS, _clock
        _REGIONS, _clock = tuple(self.ctx.settings.regions), self.ctx.clock
        if _stamp not in streams.change_observers:
            streams.change_observers.append(_stamp)
        self.ctx.add_intercept(self._intercept)
        self._thread = threading.Thread(target=self._loop, name="global-tables", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.ctx.stop_event.set()
        if self._thread:
            self._thread.join(timeout=2)

    def _intercept(self, request: Any) -> Any:
        if request.path != admin_paths.GLOBAL_TABLES:
            return None
        from werkzeug.wrappers import Response

        return Response(json.dumps(self.stats()), mimetype="application/json")

    def stats(self) -> dict[str, Any]:
        """Each global table's replicas: status and what each sent (tests, benchmarks)."""
        return {f"{group.name}": {region: {"status": r.status, "sent": r.sent,
                                           "skipped": r.skipped, "last_lag_ms": r.last_lag_ms,
                                           "positions": dict(r.positions)}
                                  for region, r in sorted(group.replicas.items())}
                for group in self._groups()}

    # -- the loop
    def _groups(self) -> list[GlobalTable]:
        if "moto.dynamodb.models" not in sys.modules:  # no table yet: nothing to look at
            return []
        from moto.dynamodb.models import dynamodb_backends

        found: dict[int, GlobalTable] = {}
        for _, backend in list(dict.items(dynamodb_backends[ACCOUNT_ID])):
            for table in list(backend.tables.values()):
                group = getattr(table, "sandbox_global_table", None)
                if group is not None:
                    found[id(group)] = group
        return list(found.values())

    def _loop(self) -> None:
        while not self.ctx.stop_event.is_set():
            for group in self._groups():
                try:
                    self._advance(group)
                    self._replicate(group)
                except Exception:  # noqa: BLE001 - one table's trouble must not stop the others
                    log.exception("global table %s: replication step failed", group.name)
            self.ctx.stop_event.wait(POLL_S)

    def _advance(self, group: GlobalTable) -> None:
        """Replicas whose creation or deletion time has come."""
        now = time.time()
        for region, replica in list(group.replicas.items()):
            if replica.status in ("CREATING", "ACTIVE") and self._fails(group, replica):
                continue
            if replica.status == "CREATING" and now >= replica.until:
                self._activate(group, replica)
            elif replica.status == "DELETING" and now >= replica.until:
                from moto.dynamodb.models import dynamodb_backends

                backend = dict.get(dynamodb_backends[ACCOUNT_ID], region)
                table = backend.tables.pop(group.name, None) if backend is not None else None
                if table is not None:
                    table.sandbox_global_table = None
                _leave(group, region)
                self.ctx.state_changed()
                log.info("replica of %s in %s deleted", group.name, region)

    def _fails(self, group: GlobalTable, replica: Replica) -> bool:
        """A ``replica`` fault (:mod:`helpers.sandbox.faults`) turns the replica its failure
        state; one that was being created never gets its table."""
        faults = self.ctx.faults
        rule = faults.fire_for_replica(group.name, replica.region) if faults else None
        if rule is None:
            return False
        replica.status, replica.description = rule.code or "CREATION_FAILED", rule.message or ""
        self.ctx.state_changed()
        log.info("replica of %s in %s: %s (a fault)", group.name, replica.region, replica.status)
        return True

    def _activate(self, group: GlobalTable, replica: Replica) -> None:
        from moto.dynamodb.models import dynamodb_backends

        source = _table(replica.copy_from, group.name)
        if source is None:  # the table it was added to is gone: nothing to copy
            group.replicas.pop(replica.region)
            return
        # Positions first, then the items: a write in between is in both, and applying
        # it twice changes nothing (last writer wins).
        for other in group.replicas.values():
            if other is not replica and other.status == "ACTIVE":
                other.positions[replica.region] = _shard_length(_table(other.region, group.name))
        target = dynamodb_backends[ACCOUNT_ID][replica.region].create_table(
            name=group.name, schema=source.schema, throughput=None, attr=source.attr,
            global_indexes=[_index_spec(i) for i in source.global_indexes],
            indexes=[_index_spec(i) for i in source.indexes],
            streams={"StreamEnabled": True, "StreamViewType": STREAM_VIEW},
            billing_mode=source.billing_mode, sse_specification=source.sse_specification,
            tags=[], deletion_protection_enabled=False, warm_throughput=None)
        if source.billing_mode != "PAY_PER_REQUEST":
            target.throughput = dict(source.throughput)
        target.items = copy.deepcopy(_snapshot(source.items))
        group.versions[replica.region] = dict(group.versions.get(replica.copy_from, {}))
        replica.positions = {other.region: 0 for other in group.replicas.values()
                             if other is not replica and other.status == "ACTIVE"}
        target.sandbox_global_table = group
        replica.status, replica.copy_from = "ACTIVE", ""
        self.ctx.state_changed()
        log.info("replica of %s in %s: ACTIVE with %d item(s)", group.name, replica.region,
                 len(target.items))

    def _replicate(self, group: GlobalTable) -> None:
        """Send each ACTIVE replica's own changes to every other ACTIVE replica, each one
        round trip after it was written."""
        active = {r: rep for r, rep in group.replicas.items() if rep.status == "ACTIVE"}
        for source_region, source in active.items():
            table = _table(source_region, group.name)
            if table is None or table.stream_shard is None:
                continue
            records = table.stream_shard.items
            for target_region in active:
                if target_region == source_region:
                    continue
                position = source.positions.setdefault(target_region, len(records))
                delay = _clock.seconds("inter_region_round_trip",
                                       aws_s=round_trip_ms(source_region, target_region) / 1000)
                sent = self._send(group, source, target_region, records, position, delay)
                if sent != position:
                    source.positions[target_region] = sent
                    self.ctx.state_changed()

    def _send(self, group: GlobalTable, source: Replica, target_region: str,
              records: list[Any], position: int, delay: float) -> int:
        """Apply the changes from ``position`` on that are due; return the next position."""
        target = _table(target_region, group.name)
        if target is None:
            return position
        now = time.time()
        while position < len(records):
            record = records[position]
            origin = getattr(record, "sandbox_origin", None)
            if origin != source.region:  # a replicated write, or one from before it was global
                position += 1
                continue
            if record.sandbox_written_at + delay > now:
                break  # still crossing the distance; later changes are later still
            self._apply(group, target, record)
            source.last_lag_ms = round((time.time() - record.sandbox_written_at) * 1000, 1)
            position += 1
        return position

    def _apply(self, group: GlobalTable, target: Any, record: Any) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        change = (record.sandbox_written_at, record.sandbox_origin)
        held = group.versions.get(target.region_name, {}).get(_key(record))
        source = group.replicas[record.sandbox_origin]
        if not _newer(change, held):
            source.skipped += 1
            return
        data = record.record["dynamodb"]
        _replicating.origin = change
        try:
            if record.record["eventName"] == "REMOVE":
                keys = data["Keys"]
                range_key = keys.get(target.range_key_attr) if target.range_key_attr else None
                removed = target.delete_item(DynamoType(keys[target.hash_key_attr]),
                                             DynamoType(range_key) if range_key else None)
                if removed is None:  # nothing to delete: still the item's latest version
                    group.versions.setdefault(target.region_name, {})[_key(record)] = change
            else:
                target.put_item(copy.deepcopy(data["NewImage"]), overwrite=True)
        finally:
            _replicating.origin = None
        source.sent += 1


def _shard_length(table: Any) -> int:
    return len(table.stream_shard.items) if table is not None and table.stream_shard else 0


def _snapshot(items: Any) -> Any:
    """A copy of a table's items that concurrent writes cannot change under the copy."""
    from collections import defaultdict

    return defaultdict(dict, {k: (dict(v) if isinstance(v, dict) else v)
                              for k, v in dict(items).items()})


def _index_spec(index: Any) -> dict[str, Any]:
    spec = {"IndexName": index.name, "KeySchema": index.schema, "Projection": index.projection}
    throughput = getattr(index, "throughput", None)
    if throughput:
        spec["ProvisionedThroughput"] = throughput
    return spec
