"""DynamoDB Streams event source mappings, run the way Lambda runs them.

moto records stream records but, with a mapping present, tries to invoke the
function through Docker inside the write itself (and then clears the shard).
Here the write only appends the record, and a poller per mapping reads the
shard like Lambda's event source mapping does (Lambda developer guide, "Using
AWS Lambda with Amazon DynamoDB" and "services-ddb-params"):

* polls about four times a second; one batch at a time per shard, so records
  of one item arrive in order; BatchSize (default 100) and
  MaximumBatchingWindowInSeconds (default 0) decide when to invoke;
* StartingPosition TRIM_HORIZON (oldest record) or LATEST (records written
  after the mapping was created); Enabled/State pauses and resumes from the
  same position;
* a function error retries the batch; BisectBatchOnFunctionError splits it in
  halves first (splitting does not use up retries); MaximumRetryAttempts and
  MaximumRecordAgeInSeconds (-1 = until the record leaves the stream, 24 h)
  bound the retries; throttling is retried until the records age out;
* with FunctionResponseTypes ReportBatchItemFailures the function returns
  ``{"batchItemFailures": [{"itemIdentifier": "<SequenceNumber>"}]}`` and
  Lambda retries from the lowest failed sequence number; an empty or absent
  list is success, an unknown or empty identifier fails the whole batch;
* a discarded batch is described (not copied) to the on-failure destination
  (SQS queue or SNS topic): ``requestContext``, ``responseContext`` and
  ``DDBStreamBatchInfo`` with the shard and first/last sequence numbers;
* delivery is at least once: with a ``duplicate`` rule of
  :mod:`helpers.sandbox.faults` a successful batch is delivered a second time.

Durations a user configures (batching window, maximum record age, the 24 h
retention) run on the sandbox's scaled clock; polling and its retry backoff run in
real time (:mod:`helpers.sandbox.clock` declares both).
"""

from __future__ import annotations

import calendar
import contextlib
import json
import logging
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from helpers.sandbox import admin_paths
from helpers.sandbox.clock import aws_seconds, real_seconds
from helpers.sandbox.context import ACCOUNT_ID, SandboxContext

log = logging.getLogger("helpers.sandbox.dynamodb.streams")

POLL_INTERVAL_S = real_seconds("stream_poll_interval")  # about four times a second
STREAM_RETENTION_S = aws_seconds("stream_retention")  # 24 hours (AWS seconds)
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # synchronous invocation payload limit
MAX_RETRY_BACKOFF_S = real_seconds("stream_retry_backoff_max")

_write_lock = threading.Lock()
# Told of each change as it is appended to a stream (table, record), inside the write lock
# and so in stream order: global tables (helpers.sandbox.dynamodb.global_tables) stamp it there.
change_observers: list[Any] = []


# ---------------------------------------------------------------- moto patches
def _stream_shard_add(self, old: Any, new: Any) -> None:
    """Append the change to the shard, and nothing else.

    moto's version also invokes every mapped function through Docker inside
    the write and then empties the shard; delivery is the pollers' job.
    """
    from moto.dynamodb.models.table import StreamRecord

    view_type = self.table.stream_specification["StreamViewType"]
    event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    with _write_lock:  # sequence numbers stay unique under concurrent writes
        seq = len(self.items) + self.starting_sequence_number
        record = StreamRecord(self.table, view_type, event_name, old, new, seq)
        # As DynamoDB Streams reports it (moto says us-east-1 and version 1.0).
        record.record["awsRegion"] = self.table.region_name
        record.record["eventVersion"] = "1.1"
        for observe in change_observers:
            observe(self.table, record)
        self.items.append(record)


_STREAM_DEFAULTS = {
    # GetEventSourceMapping shows these for a stream source even when not given.
    "max_batch_window": 0,
    "parallelization_factor": 1,
    "max_record_age": -1,
    "bisect_on_error": False,
    "max_retry_attempts": -1,
    "tumbling_window": 0,
    "function_response_types": [],
    "destination_config": {"OnFailure": {}},
}


def _wrap_event_source_mapping_init(original_init: Any) -> Any:
    def init(self, spec: dict[str, Any]) -> None:
        original_init(self, spec)
        self.sandbox_created = time.time()
        self.sandbox_last_result = "No records processed"
        self.sandbox_latest_position = None
        if _service(self.event_source_arn) in ("dynamodb", "kinesis"):
            for attr, default in _STREAM_DEFAULTS.items():
                if getattr(self, attr, None) is None:
                    setattr(self, attr, json.loads(json.dumps(default)))
        if _service(self.event_source_arn) == "dynamodb":
            shard = _shard_for(self.event_source_arn)
            # LATEST: only records written after the mapping was created.
            self.sandbox_latest_position = len(shard.items) if shard is not None else 0

    return init


def _wrap_get_configuration(original_config: Any) -> Any:
    def get_configuration(self) -> dict[str, Any]:
        config = original_config(self)
        config["LastProcessingResult"] = getattr(self, "sandbox_last_result",
                                                 "No records processed")
        return config

    return get_configuration


# Installed by helpers.sandbox.patches.
PATCHES = (
    ("moto.dynamodb.models.table:StreamShard.add", lambda original: _stream_shard_add),
    ("moto.awslambda.models:EventSourceMapping.__init__", _wrap_event_source_mapping_init),
    ("moto.awslambda.models:EventSourceMapping.get_configuration", _wrap_get_configuration),
)


def _flag(value: Any) -> bool:
    # A String template parameter arrives as "true"/"false".
    return value.lower() == "true" if isinstance(value, str) else bool(value)


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _service(arn: str) -> str:
    return arn.split(":")[2] if arn.count(":") >= 5 else ""


def _shard_for(stream_arn: str) -> Any:
    """The in-memory shard of a stream ARN, or None if that stream no longer exists
    (table deleted, or its stream disabled and re-enabled under a new label)."""
    from moto.dynamodb.models import dynamodb_backends

    parts = stream_arn.split(":", 5)
    region, resource = parts[3], parts[5]
    _, table_name, _, label = resource.split("/", 3)
    backend = dynamodb_backends[ACCOUNT_ID][region]
    table = backend.tables.get(table_name)
    if table is None or table.stream_shard is None or table.latest_stream_label != label:
        return None
    return table.stream_shard


def _mapping_uuids() -> set[str]:
    """UUIDs of every event source mapping that exists now, in every region."""
    if "moto.awslambda.models" not in sys.modules:  # no mapping yet: nothing to import
        return set()
    from moto.awslambda.models import lambda_backends

    return {uid for _, backend in list(dict.items(lambda_backends[ACCOUNT_ID]))
            for uid in list(backend._event_source_mappings)}


# ---------------------------------------------------------------- one mapping
@dataclass
class _Stats:
    batches: int = 0  # invocations
    records: int = 0  # records delivered successfully
    failures: int = 0  # failed invocations (errors, partial failures, timeouts)
    throttles: int = 0
    discarded: int = 0  # records given up on (sent to the on-failure destination)
    duplicates: int = 0  # batches delivered a second time (the "duplicate" sandbox fault)
    last_lag_ms: float | None = None  # write -> successful delivery, last batch
    position: int = 0  # records of the shard read so far


@dataclass
class _Mapping:
    esm: Any
    position: int  # index into the shard's records of the next record to deliver
    stats: _Stats = field(default_factory=_Stats)
    thread: threading.Thread | None = None


@dataclass
class _Outcome:
    kind: str  # ok | partial | error | throttled
    failed_from: int = 0  # partial: index in the batch of the lowest failed record
    status_code: int = 200
    function_error: str | None = None
    version: str = "$LATEST"


class StreamPollers:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._mappings: dict[str, _Mapping] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # Saved positions and counters of a restored sandbox, by mapping UUID.
        self._resume: dict[str, dict[str, Any]] = dict(ctx.stream_checkpoints)
        # A saved state must not catch a batch between its invocation and its position
        # update: `paused` holds new steps back and waits for those in flight.
        self._steps = threading.Condition()
        self._in_flight = 0
        self._pausing = 0

    # -- component
    def start(self) -> None:
        self.ctx.add_intercept(self._stats_intercept)
        self._thread = threading.Thread(target=self._discover_loop, name="stream-pollers",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.ctx.stop_event.set()
        with self._lock:
            threads = [m.thread for m in self._mappings.values() if m.thread]
        if self._thread:
            threads.append(self._thread)
        deadline = time.monotonic() + 2  # a poller inside a long invocation is abandoned
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def stats(self) -> dict[str, dict[str, Any]]:
        """Counters per mapping UUID, for tests and benchmarks."""
        with self._lock:
            mappings = dict(self._mappings)
        return {uid: {**vars(m.stats), "function_arn": m.esm.function_arn,
                      "event_source_arn": m.esm.event_source_arn}
                for uid, m in mappings.items()}

    def checkpoints(self) -> dict[str, dict[str, Any]]:
        """Position and counters of every existing mapping, to resume from after a restart."""
        existing = _mapping_uuids()
        with self._lock:
            live = {uid: vars(m.stats).copy() for uid, m in self._mappings.items()}
        saved = {**self._resume, **live}
        return {uid: saved[uid] for uid in saved if uid in existing}

    @contextlib.contextmanager
    def paused(self, wait_s: float) -> Any:
        """No delivery step starts inside the block; on entry, waits up to ``wait_s`` for the
        steps under way (one invocation and its position update each) to finish."""
        with self._steps:
            self._pausing += 1
            self._steps.wait_for(lambda: self._in_flight == 0, wait_s)
        try:
            yield
        finally:
            with self._steps:
                self._pausing -= 1
                self._steps.notify_all()

    @contextlib.contextmanager
    def _step(self) -> Any:
        with self._steps:
            while self._pausing and not self.ctx.stop_event.is_set():
                self._steps.wait(POLL_INTERVAL_S)
            self._in_flight += 1
        try:
            yield
        finally:
            with self._steps:
                self._in_flight -= 1
                self._steps.notify_all()

    def _stats_intercept(self, request: Any) -> Any:
        if request.path != admin_paths.STREAMS:
            return None
        from werkzeug.wrappers import Response

        return Response(json.dumps(self.stats()), mimetype="application/json")

    # -- discovery
    def _discover_loop(self) -> None:
        while not self.ctx.stop_event.is_set():
            try:
                self._discover()
            except Exception:  # noqa: BLE001 - keep polling whatever one pass hit
                log.exception("discovering event source mappings failed")
            self.ctx.stop_event.wait(POLL_INTERVAL_S)

    def _discover(self) -> None:
        if "moto.awslambda.models" not in sys.modules:
            return  # no request could have created a mapping yet
        from moto.awslambda.models import lambda_backends

        account = lambda_backends[ACCOUNT_ID]
        for _, backend in list(dict.items(account)):
            for uid, esm in list(backend._event_source_mappings.items()):
                if uid in self._mappings or _service(esm.event_source_arn) != "dynamodb":
                    continue
                start = 0  # TRIM_HORIZON: the oldest record still in the stream
                if esm.starting_position == "LATEST":
                    start = getattr(esm, "sandbox_latest_position", None) or 0
                saved = self._resume.pop(uid, None)
                stats = _Stats(**saved) if saved else _Stats(position=start)
                mapping = _Mapping(esm, stats.position, stats)
                mapping.thread = threading.Thread(
                    target=self._poll, args=(mapping, backend), daemon=True,
                    name=f"stream-mapping-{uid[:8]}")
                with self._lock:
                    self._mappings[uid] = mapping
                mapping.thread.start()

    # -- polling one shard
    def _poll(self, mapping: _Mapping, backend: Any) -> None:
        esm = mapping.esm
        window_started: float | None = None
        while not self.ctx.stop_event.is_set():
            if backend._event_source_mappings.get(esm.uuid) is not esm:
                return  # the mapping was deleted
            shard = _shard_for(esm.event_source_arn)
            if not _flag(esm.enabled) or shard is None:
                window_started = None
                self.ctx.stop_event.wait(POLL_INTERVAL_S)
                continue
            pending = shard.items[mapping.position:mapping.position + esm.batch_size]
            if not pending:
                self.ctx.stop_event.wait(POLL_INTERVAL_S)
                continue
            window = self.ctx.clock.seconds("stream_batching_window",
                                            aws_s=max(0.0, _number(esm.max_batch_window, 0)))
            if len(pending) < esm.batch_size and window > 0:
                window_started = window_started or time.monotonic()
                if time.monotonic() - window_started < window:
                    self.ctx.stop_event.wait(min(POLL_INTERVAL_S, window))
                    continue
            window_started = None
            try:
                self._deliver(mapping, backend, shard, mapping.position, pending)
            except Exception:  # noqa: BLE001 - a poller must survive anything
                log.exception("stream mapping %s failed", esm.uuid)
                self.ctx.stop_event.wait(POLL_INTERVAL_S)

    def _deliver(self, mapping: _Mapping, backend: Any, shard: Any, first: int,
                 records: list[Any]) -> None:
        """Deliver one batch read at shard index ``first``, advancing the position as
        records are done (delivered or discarded)."""
        work = deque([(first, records, 0)])  # (shard index, records, failed invocations)
        last_failure: _Outcome | None = None
        while work:
            if self.ctx.stop_event.is_set() or not _flag(mapping.esm.enabled):
                return  # the position says where to resume
            with self._step():
                wait, failure = self._deliver_step(mapping, backend, shard, work, last_failure)
            last_failure = failure or last_failure
            if wait:
                self.ctx.stop_event.wait(wait)

    def _deliver_step(self, mapping: _Mapping, backend: Any, shard: Any, work: deque,
                      last_failure: _Outcome | None) -> tuple[float, _Outcome | None]:
        """Invoke for the first work item and record the outcome. Returns how long to wait
        before the next step (retry back-off) and the outcome if the invocation failed."""
        esm = mapping.esm
        stats = mapping.stats
        start, batch, failures = work.popleft()
        aged = self._drop_aged(mapping, shard, start, batch, last_failure, failures)
        start, batch = start + aged, batch[aged:]
        if not batch:
            return 0, None
        fitted, payload = self._fit_payload(mapping, batch)
        if len(fitted) < len(batch):
            work.appendleft((start + len(fitted), batch[len(fitted):], failures))
            batch = fitted
        outcome = self._invoke(mapping, backend, batch, payload)
        if outcome.kind == "ok" and self._duplicate(esm):
            # At-least-once delivery (a sandbox fault, see helpers.sandbox.faults): the
            # batch goes out again as if the first answer had been lost; this one counts.
            stats.batches += 1
            stats.duplicates += 1
            outcome = self._invoke(mapping, backend, batch, payload)
        if outcome.kind == "throttled":  # not invoked: retried until the records age out
            stats.throttles += 1
            work.appendleft((start, batch, failures))
            return POLL_INTERVAL_S, None
        stats.batches += 1
        if outcome.kind == "ok":
            self._done(mapping, start, batch)
            esm.sandbox_last_result = "OK"
            return 0, None
        stats.failures += 1
        esm.sandbox_last_result = "PROBLEM: Function call failed"
        if outcome.kind == "error" and _flag(esm.bisect_on_error) and len(batch) > 1:
            half = len(batch) // 2  # splitting does not use up a retry
            work.appendleft((start + half, batch[half:], failures))
            work.appendleft((start, batch[:half], failures))
            return 0, outcome
        if outcome.kind == "partial":
            # Records before the lowest failed one are done; retry from it.
            self._done(mapping, start, batch[:outcome.failed_from])
            start, batch = start + outcome.failed_from, batch[outcome.failed_from:]
        failures += 1
        retries = _number(esm.max_retry_attempts, -1)
        if retries >= 0 and failures > retries:
            self._discard(mapping, shard, start, batch, "RetryAttemptsExhausted",
                          outcome, failures)
            return 0, outcome
        work.appendleft((start, batch, failures))
        return min(POLL_INTERVAL_S * 2 ** (failures - 1), MAX_RETRY_BACKOFF_S), outcome

    def _duplicate(self, esm: Any) -> bool:
        faults = self.ctx.faults
        return faults is not None and faults.fire_for_function(
            "duplicate", (esm.function_arn.split(":") + [""] * 7)[6])

    def _done(self, mapping: _Mapping, start: int, batch: list[Any]) -> None:
        if not batch:
            return
        mapping.position = max(mapping.position, start + len(batch))
        mapping.stats.position = mapping.position
        mapping.stats.records += len(batch)
        created = _created_epoch(batch[-1])
        mapping.stats.last_lag_ms = round((time.time() - created) * 1000, 1)
        self.ctx.state_changed()

    def _drop_aged(self, mapping: _Mapping, shard: Any, start: int, batch: list[Any],
                   last_failure: _Outcome | None, invocations: int) -> int:
        """Discard leading records past MaximumRecordAgeInSeconds (or the stream's 24 h
        retention); returns how many."""
        max_age = _number(mapping.esm.max_record_age, -1)
        if max_age < 0:  # -1: until the record leaves the stream
            max_age = STREAM_RETENTION_S
        cutoff = time.time() - self.ctx.clock.seconds("stream_retention", aws_s=max_age)
        aged = 0
        while aged < len(batch) and _created_epoch(batch[aged]) < cutoff:
            aged += 1
        if aged:
            self._discard(mapping, shard, start, batch[:aged], "RecordAgeExceeded",
                          last_failure, invocations)
        return aged

    def _fit_payload(self, mapping: _Mapping, batch: list[Any]) -> tuple[list[Any], bytes]:
        """The batch, shortened until its event fits the 6 MB invocation payload."""
        while True:
            payload = json.dumps(self._event(mapping, batch)).encode()
            if len(payload) <= MAX_PAYLOAD_BYTES or len(batch) == 1:
                return batch, payload
            batch = batch[:len(batch) // 2]

    # -- invocation
    def _event(self, mapping: _Mapping, batch: list[Any]) -> dict[str, Any]:
        esm = mapping.esm
        region = esm.event_source_arn.split(":")[3]
        records = []
        for item in batch:
            record = item.to_json()
            dynamodb = dict(record["dynamodb"])
            # Lambda events carry the creation time as epoch seconds.
            dynamodb["ApproximateCreationDateTime"] = int(_created_epoch(item))
            records.append({
                "eventID": record["eventID"],
                "eventName": record["eventName"],
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": region,
                "dynamodb": dynamodb,
                "eventSourceARN": esm.event_source_arn,
            })
        return {"Records": records}

    def _invoke(self, mapping: _Mapping, backend: Any, batch: list[Any],
                payload: bytes) -> _Outcome:
        from helpers.sandbox.awslambda.runtime import FunctionNotFound, Throttled

        esm = mapping.esm
        runtime = self.ctx.lambda_runtime
        if runtime is None:
            return _Outcome("throttled")
        try:
            fn = backend.get_function(esm.function_arn)
            result = runtime.invoke_function(fn, payload)
        except (Throttled, FunctionNotFound):
            return _Outcome("throttled")
        except Exception as exc:  # noqa: BLE001 - e.g. the function was deleted
            log.warning("mapping %s could not invoke %s: %s", esm.uuid, esm.function_arn, exc)
            return _Outcome("throttled")
        outcome = _Outcome("ok", status_code=result.status_code,
                           function_error=result.function_error,
                           version=result.executed_version)
        if result.function_error:
            outcome.kind = "error"
        elif "ReportBatchItemFailures" in (esm.function_response_types or []):
            failed_from = _lowest_failure(result.payload, batch)
            if failed_from is None:
                outcome.kind = "error"  # malformed report: the whole batch failed
                outcome.function_error = None
            elif failed_from < len(batch):
                outcome.kind, outcome.failed_from = "partial", failed_from
        return outcome

    # -- giving up on records
    def _discard(self, mapping: _Mapping, shard: Any, start: int, batch: list[Any],
                 condition: str, outcome: _Outcome | None, invocations: int) -> None:
        esm = mapping.esm
        mapping.position = max(mapping.position, start + len(batch))
        mapping.stats.position = mapping.position
        mapping.stats.discarded += len(batch)
        self.ctx.state_changed()
        destination = ((esm.destination_config or {}).get("OnFailure") or {}).get("Destination")
        if not destination:
            return
        first, last = batch[0].to_json()["dynamodb"], batch[-1].to_json()["dynamodb"]
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": esm.function_arn,
                "condition": condition,
                "approximateInvokeCount": invocations,
            },
            "responseContext": {
                "statusCode": outcome.status_code if outcome else 200,
                "executedVersion": outcome.version if outcome else "$LATEST",
                "functionError": (outcome.function_error or "Unhandled") if outcome else "",
            },
            "version": "1.0",
            "timestamp": _iso(time.time(), millis=True),
            "DDBStreamBatchInfo": {
                "shardId": shard.id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(_created_epoch(batch[0])),
                "approximateArrivalOfLastRecord": _iso(_created_epoch(batch[-1])),
                "batchSize": len(batch),
                "streamArn": esm.event_source_arn,
            },
        }
        try:
            _send_to_destination(destination, json.dumps(record))
        except Exception:  # noqa: BLE001 - as on AWS, a failed send does not stop the shard
            log.exception("could not send the discarded batch to %s", destination)


def _lowest_failure(payload: bytes, batch: list[Any]) -> int | None:
    """Index of the lowest reported failure, len(batch) for none, None if malformed."""
    try:
        response = json.loads(payload or b"null")
    except ValueError:
        return None
    if response is None or response == {}:
        return len(batch)
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if not failures:
        return len(batch)  # an empty or null list: complete success
    if not isinstance(failures, list):
        return None
    positions = {r.to_json()["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(batch)}
    lowest = len(batch)
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in positions:
            return None  # empty, null, misspelled or unknown identifier
        lowest = min(lowest, positions[identifier])
    return lowest


def _send_to_destination(arn: str, body: str) -> None:
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends

    service, region = arn.split(":")[2], arn.split(":")[3]
    if service == "sqs":
        sqs_backends[ACCOUNT_ID][region].send_message(arn.split(":")[5], body)
    elif service == "sns":
        sns_backends[ACCOUNT_ID][region].publish(body, arn=arn)
    else:
        log.warning("on-failure destination %s is not supported by the sandbox", arn)


def _created_epoch(record: Any) -> float:
    created = record.to_json()["dynamodb"]["ApproximateCreationDateTime"]
    if isinstance(created, datetime):
        if created.tzinfo is None:
            return calendar.timegm(created.timetuple()) + created.microsecond / 1e6
        return created.timestamp()
    with contextlib.suppress(TypeError, ValueError):
        return float(created)
    return time.time()


def _iso(epoch: float, millis: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
