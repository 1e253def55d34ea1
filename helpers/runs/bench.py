"""`workshop bench`: the kit's benchmarks, on a sandbox of their own.

Measured, in this order, on one freshly started sandbox (default time scale):

* **sandbox start**: :func:`helpers.sandbox.process.up` until every component
  is ready (the started one, plus two more starts for a median);
* **full workshop run**: notebooks 00-05 executed headless (``workshop run``);
* **replication lag** at 10, 50 and 100 writes/s: ticket items written
  straight into the primary table with boto3 ``PutItem`` (not through the
  API: the rate is the table's write rate, whatever the API's latency), each
  lag running from the acknowledged write until a consistent ``BatchGetItem``
  finds the item in the secondary's table;
* **replicator throughput**: the same number of items loaded into a fresh
  source table, then one event source mapping (batch size 100, as the kit's
  template) hands the stream to a replicator writing into a table in the
  other region: the kit's batching ``lambda_src/replicator.py``, and
  ``benchmarks/naive_replicator`` (one PutItem/DeleteItem per record, like the
  original workshop), each on its own pair of tables;
* the sandbox's own cost per item of a single ``PutItem`` and of a
  ``BatchWriteItem`` of 25, which bounds what batching can gain here;
* **both replication methods at 50 writes/s** (keys ``streams`` and
  ``global_tables``, each with ``lag_p50_ms`` and ``lag_p99_ms``): the lag
  above at 50 writes/s is the Streams replicator's; then the same tables are
  converted to a global table (:func:`helpers.aws.global_tables.convert`, the
  replicator retired) and the same load measured again;
* **a learner's memory** (``memory_mb_per_learner``, on a sandbox of its own): the
  whole workshop run with every notebook's kernel kept open, then the sandbox, its
  Lambda zygote and workers at their peak plus the kernels idle culling leaves (two),
  the count stated; all kernels open beside it. Alone:
  ``python -c "from helpers.runs import bench; bench.learner_memory()"``.
* **one participant's memory** (``memory_mb_one_participant``, on a sandbox of its
  own): one participant deployed through module 3.3 and each function invoked once,
  then the proportional set size (PSS) of the sandbox, its Lambda zygote and every
  Lambda worker, so pages the forked workers share are counted once; with the cold
  start the sandbox reports (``lambda_cold_start_modelled_ms``, AWS's figure at time
  scale 1.0) and the real fork-to-ready time (``lambda_fork_to_ready_ms_median``).
  Alone: ``python -c "from helpers import bench; bench.participant_memory()"``.

The replicator runs in the primary region and writes to the secondary, so each of
its calls pays the round trip between the two regions (``inter_region_round_trip``
in the results: a published table, real time, helpers.sandbox.distance), as on
AWS: the lag and the batching speedup include it.

Results go to ``benchmarks/results/latest.json`` and ``latest.png``.
Benchmarks are not part of the test suite.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import statistics
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from helpers.aws.tickets import stored_item
from helpers.base import polling, ticket_ids
from helpers.base.paths import REPO_ROOT
from helpers.base.say import Say, quiet
from helpers.core.config import WorkshopConfig

RATES = (10, 50, 100)  # writes per second
COMPARE_RATE = 50  # writes per second: the Streams replicator against the global table
THROUGHPUT_ITEMS = 2000
BATCH_SIZE = 100  # the kit's event source mapping batch size
RESULTS = REPO_ROOT / "benchmarks" / "results"
NAIVE_SRC = REPO_ROOT / "benchmarks" / "naive_replicator"
LAG_GOAL_S = 1.0  # p99 at 50 writes/s
SPEEDUP_GOAL, SPEEDUP_TARGET = 5.0, 10.0
POLL_S = 0.01  # between two looks for replicated items
THROUGHPUT_LABELS = {"batching": "batching\n(the kit's)", "per_item": "one write\nper record"}
WRITERS = 8  # threads writing at the chosen rate (a PutItem takes several ms)
MEMORY_GOAL_MB = 300  # one participant through 3.3 (560 MB with an interpreter per worker)
LEARNER_GOAL_MB = 1024  # a learner after the whole workshop, idle kernels culled (issue 26)
# The kernels idle culling leaves a learner (deploy/jupyter/jupyter_server_config.py culls a
# kernel after 10 minutes without a running cell): at the workshop's pace (two hours, nine
# notebooks, about 13 minutes each) the notebook being worked in and the one before it.
KERNELS_LEFT_BY_CULLING = 2
SAMPLE_EVERY_S = 2.0  # the sandbox's memory, sampled through the run for its peak


# ---------------------------------------------------------------- the whole suite


def run(seconds: float = 10.0, workshop_run: bool = True, say: Say = print,
        results_dir: Path | None = None) -> dict[str, Any]:
    """Every benchmark on a fresh sandbox; the results are also written to ``results_dir``."""
    from helpers.sandbox import SandboxSettings, running_sandbox

    results: dict[str, Any] = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                               "machine": machine()}
    with _isolated_environment():
        settings = SandboxSettings()
        with running_sandbox(settings) as info:
            starts = [info["start_seconds"]]
            say(f"sandbox started in {starts[0]:.2f} s (time scale {settings.time_scale})")
            if workshop_run:
                results["workshop_run"] = _workshop_run(say)
            config = WorkshopConfig(mode="sandbox", prefix="bench-lag",
                                    domain="bench.example.com")
            say("deploying the API stacks and replication for the lag benchmark")
            _deploy(config)
            results["replication_lag"] = {
                "method": "PutItem straight into the primary table at the rate (boto3, not "
                          "through the API); lag = acknowledged write -> first consistent "
                          "BatchGetItem that finds the item in the secondary table",
                "seconds_per_rate": seconds,
                "rates": [replication_lag(config, rate, seconds, say) for rate in RATES]}
            results["replicator_throughput"] = replicator_throughput(config, THROUGHPUT_ITEMS,
                                                                     say)
            results["inter_region_round_trip"] = inter_region_round_trip(config)
            results.update(both_methods(config, results["replication_lag"]["rates"], seconds,
                                        say))
        for _ in range(2):
            with running_sandbox(settings) as again:
                starts.append(again["start_seconds"])
        results.update(participant_memory(say))
        results.update(learner_memory(say))
        results["sandbox"] = {"time_scale": settings.time_scale, "start_seconds": starts,
                              "start_seconds_median": round(statistics.median(starts), 3)}
    results["machine"]["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    results["goals"] = goals(results)
    write(results, results_dir or RESULTS)
    return results


def inter_region_round_trip(config: WorkshopConfig) -> dict[str, Any]:
    """The round trip the replicator pays to reach the secondary region, from the published
    table the sandbox uses (real time, not scaled): both the lag and the batching speedup
    include it, as on AWS."""
    from helpers.sandbox.inter_region_latency import round_trip_ms

    primary, secondary = config.regions
    return {"from": primary, "to": secondary, "ms": round_trip_ms(primary, secondary),
            "source": "CloudPing p50 (helpers/sandbox/inter_region_latency.py)"}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(terse=True),
            # Other work on the machine slows the sandbox down: say how busy it was.
            "load_average_1min": round(os.getloadavg()[0], 2)}


@contextlib.contextmanager
def _isolated_environment() -> Iterator[None]:
    """Sandbox mode and a throw-away workshop home, without the learner's ``WORKSHOP_*``
    settings (the benchmarks use participants of their own); restored afterwards."""
    from helpers.base import environ
    from helpers.connect import session
    from helpers.core import settings

    with tempfile.TemporaryDirectory(prefix="workshop-bench-") as home, environ.scoped(
            {"WORKSHOP_HOME": home, **dict.fromkeys(settings.ENVIRONMENT.values())},
            every_variable=True):
        session.use_mode("sandbox")
        yield


def _workshop_run(say: Say) -> dict[str, Any]:
    from helpers.runs import runner

    say("running the whole workshop (notebooks 00-05)")
    config = WorkshopConfig(mode="sandbox")
    with tempfile.TemporaryDirectory(prefix="workshop-bench-run-") as out:
        started = time.monotonic()
        try:
            report = runner.run(config, Path(out), say=quiet)
        except Exception as exc:  # noqa: BLE001 - the other benchmarks still run
            say(f"  the workshop run failed: {exc}")
            return {"error": str(exc), "seconds": round(time.monotonic() - started, 2)}
    seconds = round(time.monotonic() - started, 2)
    say(f"  {len(report.notebooks)} notebooks in {seconds:.1f} s")
    return {"seconds": seconds,
            "notebooks": {name: round(s, 2) for name, s in report.notebooks}}


def _deploy(config: WorkshopConfig) -> None:
    from helpers.aws import deployment

    for region in config.regions:
        deployment.deploy_api(config, region)
    deployment.deploy_replication(config)


# ---------------------------------------------------------------- replication lag


def replication_lag(config: WorkshopConfig, rate: float, seconds: float,
                    say: Say = print) -> dict[str, Any]:
    """Write ``rate`` items a second for ``seconds`` s; each one's lag into the secondary."""
    from helpers.aws.deployment import stack_outputs
    from helpers.connect.session import client

    primary, secondary = config.regions
    source = stack_outputs(config, "api", primary)["TableName"]
    target = stack_outputs(config, "api", secondary)["TableName"]
    writer, reader = client("dynamodb", primary), client("dynamodb", secondary)
    acked: dict[str, float] = {}
    seen: dict[str, float] = {}
    lock = threading.Lock()
    writing_done = threading.Event()

    def put(item: dict[str, Any]) -> None:
        writer.put_item(TableName=source, Item=item)
        with lock:
            acked[item["id"]["S"]] = time.monotonic()

    def watch() -> None:
        deadline = None
        while True:
            with lock:
                pending = [i for i in acked if i not in seen]
            if writing_done.is_set():
                deadline = deadline or time.monotonic() + 60
                if not pending or time.monotonic() > deadline:
                    return
            if not pending:
                time.sleep(0.005)
                continue
            for found in ticket_ids.present(reader, target, pending[:100]):
                seen.setdefault(found, time.monotonic())
            time.sleep(POLL_S)  # each look is a request to the sandbox too: leave it room

    _warm_up(writer, reader, source, target)
    watcher = threading.Thread(target=watch, name=f"bench-lag-{rate}", daemon=True)
    watcher.start()
    count = max(1, int(rate * seconds))
    started = time.monotonic()
    with ThreadPoolExecutor(WRITERS) as pool:
        for i in range(count):
            time.sleep(max(0.0, started + i / rate - time.monotonic()))
            pool.submit(put, stored_item(f"bench lag {rate}/s #{i}"))
    elapsed = time.monotonic() - started
    writing_done.set()
    watcher.join()
    lags = sorted(seen[i] - acked[i] for i in seen if i in acked)
    result = {"rate": rate, "items": count, "achieved_rate": round(count / elapsed, 1),
              "replicated": len(lags), "p50_ms": _ms(_quantile(lags, 0.50)),
              "p99_ms": _ms(_quantile(lags, 0.99)), "max_ms": _ms(lags[-1] if lags else None),
              "mean_ms": _ms(statistics.fmean(lags) if lags else None)}
    say(f"  {rate:>3} writes/s: lag p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms "
        f"({result['replicated']}/{count} replicated, {result['achieved_rate']} writes/s "
        "achieved)")
    return result


def _warm_up(writer: Any, reader: Any, source: str, target: str) -> None:
    """One item end to end first, so a cold start of the replicator is not measured."""
    item = stored_item("bench warm-up")
    writer.put_item(TableName=source, Item=item)
    polling.wait_until(lambda: ticket_ids.present(reader, target, [item["id"]["S"]]), 60,
                       interval=0.05, what=f"the first item to reach {target} (is replication "
                       "running?)")


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[index]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


# ---------------------------------------------------------------- streams vs global tables


def both_methods(config: WorkshopConfig, streams_rates: list[dict[str, Any]], seconds: float,
                 say: Say = print) -> dict[str, dict[str, Any]]:
    """The Streams replicator's lag at :data:`COMPARE_RATE` writes/s (measured above), then
    the same tables converted to a global table and the same load measured again."""
    from helpers.aws import global_tables

    streams = next((r for r in streams_rates if r["rate"] == COMPARE_RATE), None)
    if streams is None:
        streams = replication_lag(config, COMPARE_RATE, seconds, say)
    say("converting the lag benchmark's tables to a global table (the replicator retired)")
    global_tables.convert(config)
    say("global table:")
    measured = replication_lag(config, COMPARE_RATE, seconds, say)
    return {"streams": _method(streams, "DynamoDB Streams + the kit's replicator (Lambda)"),
            "global_tables": _method(measured, f"DynamoDB global table "
                                               f"{global_tables.VERSION}")}


def _method(lag: dict[str, Any], what: str) -> dict[str, Any]:
    return {"method": what, "rate": lag["rate"], "lag_p50_ms": lag["p50_ms"],
            "lag_p99_ms": lag["p99_ms"], "lag_max_ms": lag["max_ms"], "items": lag["items"],
            "replicated": lag["replicated"]}


# ---------------------------------------------------------------- replicator throughput


def replicator_throughput(config: WorkshopConfig, items: int = THROUGHPUT_ITEMS,
                          say: Say = print) -> dict[str, Any]:
    """The batching replicator against the per-record one, on the same load."""
    from helpers.aws.packaging import build_zip

    say(f"replicator throughput: {items} items through a stream, batch size {BATCH_SIZE}")
    role = _role()
    measured = {}
    for name, code, handler, reports in (
            ("batching", build_zip(), "replicator.handler", True),
            ("per_item", _zip(NAIVE_SRC), "naive_replicator.handler", False)):
        measured[name] = _throughput(config, name, code, handler, reports, role, items)
        say(f"  {name}: {measured[name]['items_per_second']} items/s "
            f"({measured[name]['seconds']} s for {items})")
    speedup = measured["batching"]["items_per_second"] / measured["per_item"]["items_per_second"]
    costs = sandbox_costs(config)
    say(f"  speedup {speedup:.1f}x; the sandbox itself: PutItem {costs['put_item_ms']} ms, "
        f"BatchWriteItem {costs['batch_write_ms_per_item']} ms and BatchGetItem "
        f"{costs['batch_get_ms_per_item']} ms per item (cost ratio "
        f"{costs['cost_ratio_with_version_check']}x)")
    return {"items": items, "batch_size": BATCH_SIZE, **measured,
            "replicator_speedup_vs_per_item": round(speedup, 2), "sandbox_costs": costs}


def _throughput(config: WorkshopConfig, name: str, code: bytes, handler: str, reports: bool,
                role: str, items: int) -> dict[str, Any]:
    from helpers.connect import sandbox_admin as admin
    from helpers.connect.session import client

    primary, secondary = config.regions
    source, target = f"bench-{name}-source", f"bench-{name}-target"
    _table(primary, source, stream=True)
    _table(secondary, target, stream=False)
    stream_arn = client("dynamodb", primary).describe_table(
        TableName=source)["Table"]["LatestStreamArn"]
    _load(primary, source, items)
    lam = client("lambda", primary)
    function = f"bench-{name}-replicator"
    lam.create_function(
        FunctionName=function, Runtime="python3.12", Role=role, Handler=handler,
        Code={"ZipFile": code}, Timeout=300, MemorySize=256,
        Environment={"Variables": {"TABLE_NAME": source, "TARGET_REGION": secondary,
                                   "TARGET_TABLE_NAME": target}})
    lam.invoke(FunctionName=function, Payload=json.dumps({"Records": []}))  # the cold start
    started = time.monotonic()
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=function, StartingPosition="TRIM_HORIZON",
        BatchSize=BATCH_SIZE, MaximumBatchingWindowInSeconds=0,
        FunctionResponseTypes=["ReportBatchItemFailures"] if reports else [])["UUID"]
    first_at: float | None = None
    first_count = 0
    deadline = started + 600
    while True:
        stats = admin.stream_mappings().get(mapping, {})
        done = stats.get("records", 0)
        if done and first_at is None:
            first_at, first_count = time.monotonic(), done
        if done >= items:
            finished = time.monotonic()
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"the {name} replicator delivered {done}/{items} in 600 s")
        time.sleep(0.02)
    lam.delete_event_source_mapping(UUID=mapping)
    pages = client("dynamodb", secondary).get_paginator("scan").paginate(
        TableName=target, Select="COUNT", ConsistentRead=True)
    copied = sum(page["Count"] for page in pages)
    steady = ((items - first_count) / (finished - first_at)
              if first_at is not None and finished > first_at else items / (finished - started))
    return {"seconds": round(finished - started, 2), "items_in_target": copied,
            "items_per_second": round(steady, 1),
            "end_to_end_items_per_second": round(items / (finished - started), 1),
            "batches": stats.get("batches"), "failures": stats.get("failures")}


def _role() -> str:
    from helpers.connect.session import client

    iam = client("iam", "us-east-1")
    name = "bench-replicator"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName=name,
                               AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _table(region: str, name: str, stream: bool) -> None:
    from helpers.connect.session import client

    db = client("dynamodb", region)
    kwargs: dict[str, Any] = {}
    if stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True,
                                         "StreamViewType": "NEW_AND_OLD_IMAGES"}
    db.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], **kwargs)
    db.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})


def _load(region: str, table: str, items: int) -> None:
    from helpers.connect.session import client

    db = client("dynamodb", region)
    batch = [stored_item(f"bench throughput #{i}") for i in range(items)]
    for start in range(0, len(batch), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in batch[start:start + 25]]}
        while request:
            request = db.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.glob("*.py")):
            archive.write(path, path.name)
    return buffer.getvalue()


def sandbox_costs(config: WorkshopConfig, calls: int = 40) -> dict[str, float]:
    """What one item costs the sandbox: alone (PutItem) and in a BatchWriteItem of 25."""
    from helpers.connect.session import client

    db = client("dynamodb", config.secondary_region)
    table = "bench-per_item-target"
    started = time.monotonic()
    for i in range(calls):
        db.put_item(TableName=table, Item=stored_item(f"cost {i}"))
    single = (time.monotonic() - started) / calls
    started = time.monotonic()
    for i in range(calls):
        db.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": stored_item(f"cost {i}/{j}")}} for j in range(25)]})
    batched = (time.monotonic() - started) / (calls * 25)
    ids = [item["id"]["S"] for item in db.scan(TableName=table, Limit=100,
                                               ProjectionExpression="id")["Items"]]
    started = time.monotonic()
    for _ in range(calls):
        ticket_ids.present(db, table, ids)
    read = (time.monotonic() - started) / (calls * len(ids))
    return {"put_item_ms": round(single * 1000, 2),
            "batch_write_ms_per_item": round(batched * 1000, 2),
            "batch_get_ms_per_item": round(read * 1000, 2),
            # One PutItem against one item's share of a BatchWriteItem (plus the version
            # check's BatchGetItem the naive one skips): what moto's costs alone allow. A
            # guide, not a bound: the per-record replicator also pays per-record work in
            # its Lambda, which these calls from outside do not.
            "cost_ratio": round(single / batched, 1),
            "cost_ratio_with_version_check": round(single / (batched + read), 1)}


# ---------------------------------------------------------------- one participant's memory


def participant_memory(say: Say = print) -> dict[str, Any]:
    """PSS of the sandbox, its zygote and its Lambda workers once one participant is
    deployed through 3.3 on a fresh sandbox (no saved state: the once-a-second forked
    save would share the sandbox's pages while it runs) and each function has run."""
    from helpers.aws import deployment, failover, tickets
    from helpers.connect.sandbox_admin import SandboxAdmin
    from helpers.connect.session import client
    from helpers.sandbox import SandboxSettings, running_sandbox
    from helpers.sandbox.awslambda.runtime import COLD_START_INIT_S

    with _isolated_environment(), running_sandbox(SandboxSettings(persist=False)) as info:
        config = WorkshopConfig(mode="sandbox", prefix="bench-mem",
                                domain="bench-mem.example.com")
        say("memory: deploying one participant through module 3.3")
        for region in config.regions:
            outputs = deployment.deploy_api(config, region)
            deployment.deploy_ui(config, region, outputs["ApiUrl"])
        deployment.deploy_replication(config)
        zone_id = failover.hosted_zone(config, create=True)["Id"]
        failover.request_certificates(config)
        failover.write_validation_records(config, zone_id)
        failover.wait_for_certificates(config, timeout=120)
        failover.create_custom_domains(config, progress=say)  # --json: stdout is the JSON
        failover.create_regional_records(config, zone_id)
        check_id = failover.create_health_check(config)
        failover.wait_until_healthy(config, timeout=60)
        failover.create_failover_records(config, zone_id, check_id)
        # Every function once (the health checks probe the health page): tickets posted
        # and read in both regions, the primary's replicated. Each has an environment (a
        # function called twice at once has two, as on Lambda: the count varies a little).
        posted = [tickets.create_ticket(deployment.api_url(config, region),
                                        description="bench memory") for region in config.regions]
        for region in config.regions:
            tickets.list_tickets(deployment.api_url(config, region))
        target = deployment.stack_outputs(config, "api", config.secondary_region)["TableName"]
        reader = client("dynamodb", config.secondary_region)
        polling.wait_until(lambda: ticket_ids.present(reader, target, [posted[0]["id"]]), 60,
                           interval=0.1, what="the replicator to copy a ticket")
        lam = SandboxAdmin(info["endpoint_url"]).lambda_environments()
        parts = _sandbox_parts(info["pid"], lam)
        total = parts["total_mb"]
        del parts["total_mb"]
        ready = [c["ready_ms"] for c in lam["cold_starts"] if c["forked"]]
    result = {"memory_mb_one_participant": total, "memory_parts": parts,
              "memory_method": "PSS from /proc/<pid>/smaps_rollup: sandbox + Lambda zygote + "
                               "Lambda workers, one participant through 3.3, each function "
                               "invoked once",
              "lambda_cold_start_modelled_ms": COLD_START_INIT_S * 1000,
              "lambda_fork_to_ready_ms_median": (round(statistics.median(ready), 1)
                                                 if ready else None),
              "lambda_cold_starts": len(lam["cold_starts"])}
    say(f"  one participant: {total} MB (sandbox {parts['sandbox_mb']}, zygote "
        f"{parts['zygote_mb']}, {parts['workers']} workers {parts['workers_mb']}); cold start "
        f"reported {result['lambda_cold_start_modelled_ms']:.0f} ms at time scale 1, real "
        f"fork to ready {result['lambda_fork_to_ready_ms_median']} ms (median)")
    return result


def learner_memory(say: Say = print, until: str | None = None) -> dict[str, Any]:
    """``memory_mb_per_learner``: what one learner holds after the whole workshop (00-05)
    on a sandbox of their own: the sandbox with its Lambda zygote and workers at their
    peak through the run (sampled every :data:`SAMPLE_EVERY_S` s: notebook 05 deletes the
    functions) plus one kernel per open notebook, each kernel kept after its notebook ran.
    With idle culling the learner keeps :data:`KERNELS_LEFT_BY_CULLING` kernels (the
    largest measured are counted, at their RSS); without, all of them (PSS). The notebook
    server itself (JupyterLab) is not included: JupyterHub's long test measures it.
    ``until`` stops after that notebook (a shorter run, for the fast test)."""
    from helpers.connect.sandbox_admin import SandboxAdmin
    from helpers.runs import kernels, runner
    from helpers.sandbox import SandboxSettings, running_sandbox

    kept: list[kernels.Kernel] = []
    peak: dict[str, Any] = {"total_mb": 0.0}
    with _isolated_environment(), running_sandbox(SandboxSettings(persist=False)) as info, \
            tempfile.TemporaryDirectory(prefix="workshop-bench-learner-") as out:
        admin = SandboxAdmin(info["endpoint_url"])
        done = threading.Event()

        def sample() -> None:
            while not done.wait(SAMPLE_EVERY_S):
                with contextlib.suppress(Exception):  # a busy sandbox skips a sample
                    parts = _sandbox_parts(info["pid"], admin.lambda_environments())
                    if parts["total_mb"] > peak["total_mb"]:
                        peak.update(parts)

        sampler = threading.Thread(target=sample, name="bench-learner-memory", daemon=True)
        say(f"memory per learner: notebooks 00-{until or '05'}, every notebook's kernel kept "
            "open")
        sampler.start()
        try:
            report = runner.run(WorkshopConfig(mode="sandbox"), Path(out), until=until,
                                say=quiet, keep_kernels=kept)
            last = _sandbox_parts(info["pid"], admin.lambda_environments())
            if last["total_mb"] > peak["total_mb"]:
                peak.update(last)
            ran = list(zip((name for name, _ in report.notebooks), kept, strict=True))
            kernel_mb = {name: _pss_mb(kernel.pid) for name, kernel in ran}
            kernel_rss_mb = {name: _rss_mb(kernel.pid) for name, kernel in ran}
        finally:
            done.set()
            sampler.join()
            for kernel in kept:
                kernels.shut_down(kernel)
    # The kernels culling leaves are counted at their RSS, every page they share in full:
    # nine kernels share their libraries' pages, two would share less (PSS would flatter).
    largest = sorted(kernel_rss_mb.values(), reverse=True)[:KERNELS_LEFT_BY_CULLING]
    sandbox_mb = peak.pop("total_mb")
    total = round(sandbox_mb + sum(largest), 1)
    every_kernel = round(sandbox_mb + sum(kernel_mb.values()), 1)
    say(f"  per learner: {total} MB with idle culling (sandbox and Lambda at their peak "
        f"{sandbox_mb}, {len(largest)} kernels {round(sum(largest), 1)}); {every_kernel} MB "
        f"with all {len(kernel_mb)} notebooks' kernels open")
    return {"memory_mb_per_learner": total,
            "memory_per_learner": {
                "notebooks": f"00-{until or '05'}",
                "kernels_counted": len(largest), "kernels_mb": round(sum(largest), 1),
                "sandbox_peak": {**peak, "total_mb": sandbox_mb},
                "kernel_mb_by_notebook": kernel_mb,
                "kernel_rss_mb_by_notebook": kernel_rss_mb,
                "all_kernels_open_mb": every_kernel, "all_kernels_open": len(kernel_mb),
                "idle_culling": "a kernel 10 minutes without a running cell is shut down "
                                "(deploy/jupyter/jupyter_server_config.py); at the "
                                "workshop's pace that leaves the current notebook's and "
                                "the previous one's",
                "method": "PSS from /proc/<pid>/smaps_rollup after `workshop run` (00-05) on "
                          "a sandbox of its own: sandbox + Lambda zygote + workers at their "
                          "sampled peak (PSS), plus the kernels culling leaves at their RSS "
                          "(the largest); all kernels open: their PSS; the notebook server "
                          "(JupyterLab) is not included"}}


def _sandbox_parts(sandbox_pid: int, lam: dict[str, Any]) -> dict[str, Any]:
    """PSS of the sandbox, its Lambda zygote and workers (``lam``: the sandbox's
    ``lambda_environments``); a worker that ended meanwhile counts nothing."""
    workers = [mb for mb in (_pss_mb_if_running(w["pid"]) for w in lam["workers"])
               if mb is not None]
    parts = {"sandbox_mb": _pss_mb(sandbox_pid),
             "zygote_mb": _pss_mb(lam["zygote_pid"]) if lam["zygote_pid"] else 0.0,
             "workers": len(workers), "workers_mb": round(sum(workers), 1),
             "workers_forked": sum(w["forked"] for w in lam["workers"])}
    parts["total_mb"] = round(parts["sandbox_mb"] + parts["zygote_mb"] + parts["workers_mb"], 1)
    return parts


def _pss_mb_if_running(pid: int) -> float | None:
    try:
        return _pss_mb(pid)
    except (FileNotFoundError, ProcessLookupError):
        return None  # it ended meanwhile (a worker Lambda retired)


def _pss_mb(pid: int) -> float:
    """Proportional set size: a page shared by N processes counts 1/N in each."""
    return _rollup_mb(pid, "Pss")


def _rss_mb(pid: int) -> float:
    """Resident set size: every page the process maps, shared ones in full."""
    return _rollup_mb(pid, "Rss")


def _rollup_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise ValueError(f"no {field} in /proc/{pid}/smaps_rollup")


# ---------------------------------------------------------------- goals, files, chart


def goals(results: dict[str, Any]) -> dict[str, Any]:
    lag50 = next((r for r in results.get("replication_lag", {}).get("rates", [])
                  if r["rate"] == 50), None)
    p99 = lag50["p99_ms"] if lag50 else None
    speedup = results.get("replicator_throughput", {}).get("replicator_speedup_vs_per_item")
    memory = results.get("memory_mb_one_participant")
    learner = results.get("memory_mb_per_learner")
    return {
        "memory_mb_one_participant": memory,
        f"memory_at_most_{MEMORY_GOAL_MB}_mb": memory is not None and memory <= MEMORY_GOAL_MB,
        "memory_mb_per_learner": learner,
        f"learner_at_most_{LEARNER_GOAL_MB}_mb": learner is not None and learner <= LEARNER_GOAL_MB,
        "lag_p99_at_50_per_s_ms": p99,
        "lag_p99_under_1_s_at_50_per_s": p99 is not None and p99 < LAG_GOAL_S * 1000,
        "replicator_speedup_vs_per_item": speedup,
        f"speedup_at_least_{SPEEDUP_GOAL:g}x": speedup is not None and speedup >= SPEEDUP_GOAL,
        f"speedup_goal_{SPEEDUP_TARGET:g}x": speedup is not None and speedup >= SPEEDUP_TARGET,
    }


def write(results: dict[str, Any], folder: Path = RESULTS) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    chart(results).savefig(folder / "latest.png", dpi=110)


def chart(results: dict[str, Any]) -> Figure:
    """Lag per rate, replicator throughput and run times, side by side."""
    fig = Figure(figsize=(12, 4))
    lag_ax, tput_ax, time_ax = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.3, 1, 1]})
    rates = results.get("replication_lag", {}).get("rates", [])
    labels = [f"{r['rate']}/s" for r in rates]
    x = list(range(len(rates)))
    lag_ax.bar([i - 0.2 for i in x], [r["p50_ms"] or 0 for r in rates], 0.4, label="p50",
               color="#1565c0")
    lag_ax.bar([i + 0.2 for i in x], [r["p99_ms"] or 0 for r in rates], 0.4, label="p99",
               color="#ef6c00")
    lag_ax.axhline(LAG_GOAL_S * 1000, color="#c62828", linestyle=":",
                   label=f"goal p99 < {LAG_GOAL_S * 1000:.0f} ms at 50/s")
    top = max([LAG_GOAL_S * 1000] + [r["p99_ms"] or 0 for r in rates])
    lag_ax.set_ylim(0, top * 1.3)
    lag_ax.set_xticks(x, labels)
    lag_ax.set_xlabel("writes per second (PutItem into the primary)")
    lag_ax.set_ylabel("ms")
    lag_ax.set_title("Replication lag", fontsize="medium")
    lag_ax.legend(fontsize="small", loc="upper left", ncols=2)

    tput = results.get("replicator_throughput", {})
    names = [n for n in ("batching", "per_item") if n in tput]
    tput_ax.bar([THROUGHPUT_LABELS[n] for n in names], [tput[n]["items_per_second"] for n in names],
                color=["#2e7d32", "#9e9e9e"][:len(names)])
    for i, n in enumerate(names):
        tput_ax.annotate(f"{tput[n]['items_per_second']:.0f}", (i, tput[n]["items_per_second"]),
                         ha="center", va="bottom", fontsize="small")
    speedup = tput.get("replicator_speedup_vs_per_item")
    tput_ax.set_title(f"Replicator throughput ({speedup}x)" if speedup else
                      "Replicator throughput", fontsize="medium")
    tput_ax.set_ylabel("items per second")

    bars = {"sandbox start": results.get("sandbox", {}).get("start_seconds_median")}
    run_seconds = results.get("workshop_run", {}).get("seconds")
    if run_seconds is not None and "error" not in results.get("workshop_run", {}):
        bars["workshop run"] = run_seconds
    bars = {k: v for k, v in bars.items() if v is not None}
    time_ax.barh(list(bars), list(bars.values()), color="#455a64")
    for i, value in enumerate(bars.values()):
        time_ax.annotate(f" {value:.1f} s", (value, i), va="center", fontsize="small")
    time_ax.set_xscale("log")
    time_ax.set_xlim(0.5, max([10.0, *bars.values()]) * 4)
    time_ax.set_xlabel("seconds (log scale)")
    time_ax.set_title("Start and full run", fontsize="medium")

    box = results.get("machine", {})
    scale = results.get("sandbox", {}).get("time_scale")
    fig.suptitle(f"Sandbox benchmarks · {box.get('nproc')} × {box.get('cpu')} · Python "
                 f"{box.get('python')} · sandbox time scale {scale}", fontsize="medium")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- command line


def command(args: Any) -> int:
    """``workshop bench``: run everything, print a summary (or the JSON), write the files."""
    say = quiet if args.json else print
    results = run(seconds=args.seconds, workshop_run=not args.skip_workshop_run, say=say)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"results written to {RESULTS / 'latest.json'} and {RESULTS / 'latest.png'}")
    for name, value in results["goals"].items():
        print(f"  {name}: {value}")
    return 0
