"""Sandbox benchmarks (not tests): start time, API latency, replication lag.

    .venv/bin/python benchmarks/sandbox_bench.py [--quick] [--out FILE]

Measures, on this machine:

1. **Start time**: ``helpers.sandbox.process.up()`` until the sandbox answers
   (control plane, every region listener, DNS, the data plane), then ``down()``;
   ``--starts`` times (default 5), each a fresh process; the median is reported.
2. **API latency**: ``GET /ticket`` and ``POST /ticket`` on the primary's stage
   URL through ``helpers.aws.tickets`` (so ``helpers.connect.net``: the sandbox DNS, then
   plain HTTP to the region's loopback listener, API Gateway's proxy event, the
   deployed Lambda code in a warm worker, moto's DynamoDB). One request at a
   time, ``--requests`` of each (default 200) after ``--warmup`` (default 20).
   The GETs read the first page (20 tickets, newest first) of a table that
   holds the warm-up tickets.
3. **Replication lag**: ``POST /ticket`` through the API at ``--rate`` writes
   a second (default 50) for ``--duration`` seconds (default 20), after 2 s of
   the same load as warm-up; a thread pool keeps to the schedule. A reader
   polls the secondary table with consistent ``BatchGetItem`` every
   ``POLL_S``; an item's lag runs from the moment its POST's answer arrived to
   the first poll that found it in the secondary table (so it includes up to
   one poll interval of measurement error, on the high side).

Prints a table and writes JSON (default ``benchmarks/results/sandbox.json``).
Every figure states the sandbox time scale; it shortens health checks and TTLs,
not stream polling (four times a second, as Lambda does) or request handling.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# ruff: noqa: E402 - the kit is imported after the mode is set
os.environ["WORKSHOP_MODE"] = "sandbox"

from helpers.aws import (
    deployment,  # noqa: E402
    tickets,  # noqa: E402
)
from helpers.base import ticket_ids  # noqa: E402
from helpers.connect.session import client  # noqa: E402
from helpers.core.config import WorkshopConfig  # noqa: E402
from helpers.sandbox import SandboxSettings, running_sandbox  # noqa: E402
from helpers.sandbox import process as sandbox_process  # noqa: E402

POLL_S = 0.05  # how often the lag reader looks at the secondary table
LAG_WARMUP_S = 2.0
DEFAULT_OUT = REPO / "benchmarks" / "results" / "sandbox.json"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1), "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1) if ms else float("nan"),
            "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan")}


# ---------------------------------------------------------------- 1. start time


def bench_start(starts: int, settings: SandboxSettings) -> dict[str, Any]:
    ups, downs = [], []
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as tmp:
        for i in range(starts):
            path = Path(tmp) / f"sandbox-{i}.json"
            began = time.monotonic()
            sandbox_process.up(settings, status_file=path, stop_with_parent=True)
            ups.append(time.monotonic() - began)
            began = time.monotonic()
            sandbox_process.down(path)
            downs.append(time.monotonic() - began)
            print(f"  start {i + 1}/{starts}: up {ups[-1]:.2f} s, down {downs[-1]:.2f} s",
                  flush=True)
    return {"runs": starts, "up_s": [round(s, 3) for s in ups],
            "median_up_s": round(statistics.median(ups), 3),
            "median_down_s": round(statistics.median(downs), 3)}


# ---------------------------------------------------------------- 2. API latency


def timed_calls(fn, n: int) -> list[float]:
    took = []
    for i in range(n):
        began = time.perf_counter()
        fn(i)
        took.append(time.perf_counter() - began)
    return took


def bench_api(api_url: str, requests_n: int, warmup: int) -> dict[str, Any]:
    def post(i: int) -> None:
        tickets.create_ticket(api_url, description=f"benchmark ticket {i}", createdBy="bench",
                              priority="low")

    def get(_i: int) -> None:
        page = tickets.list_tickets(api_url)
        assert page["Count"] > 0

    timed_calls(post, warmup)
    timed_calls(get, warmup)
    gets = timed_calls(get, requests_n)
    posts = timed_calls(post, requests_n)
    return {"GET /ticket": summary_ms(gets), "POST /ticket": summary_ms(posts),
            "requests_after_warmup": requests_n, "warmup_each": warmup}


# ---------------------------------------------------------------- 3. replication lag


class LagReader(threading.Thread):
    """Polls the secondary table for written ids; records when each first shows up."""

    def __init__(self, region: str, table: str) -> None:
        super().__init__(name="lag-reader", daemon=True)
        self.dynamodb = client("dynamodb", region)
        self.table = table
        self.pending: dict[str, float] = {}  # id -> time its POST was answered
        self.lags: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stop_at: float | None = None  # set once no more writes come
        self.polls = 0

    def add(self, item_id: str, acked: float) -> None:
        with self.lock:
            self.pending[item_id] = acked

    def run(self) -> None:
        while True:
            with self.lock:
                batch = sorted(self.pending, key=self.pending.get)[:ticket_ids.BATCH_GET_MAX]
            if not batch:
                if self.stop_at is not None:
                    return
                time.sleep(POLL_S)
                continue
            began = time.monotonic()
            found = ticket_ids.present(self.dynamodb, self.table, batch)
            seen = time.monotonic()
            self.polls += 1
            with self.lock:
                for item_id in found:
                    acked = self.pending.pop(item_id, None)
                    if acked is not None:
                        self.lags[item_id] = seen - acked
            if self.stop_at is not None and time.monotonic() > self.stop_at:
                return
            time.sleep(max(0.0, POLL_S - (time.monotonic() - began)))


def paced_posts(api_url: str, rate: float, duration: float, label: str,
                on_ack=None) -> tuple[int, float, list[float]]:
    """POST at ``rate``/s for ``duration`` s; returns (count, achieved rate, latencies)."""
    count = int(rate * duration)
    latencies: list[float] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        began = time.monotonic()
        item = tickets.create_ticket(api_url, description=f"{label} {i}", createdBy="bench",
                                     priority="low")
        acked = time.monotonic()
        with lock:
            latencies.append(acked - began)
        if on_ack:
            on_ack(item["id"], acked)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=32, thread_name_prefix="writer") as pool:
        futures = []
        for i in range(count):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(one, i))
        for future in futures:
            future.result()
    elapsed = time.monotonic() - started
    return count, count / elapsed, latencies


def bench_lag(config: WorkshopConfig, api_url: str, rate: float,
              duration: float) -> dict[str, Any]:
    secondary = config.secondary_region
    table = deployment.stack_outputs(config, "api", secondary)["TableName"]
    paced_posts(api_url, rate, LAG_WARMUP_S, "lag warm-up")
    reader = LagReader(secondary, table)
    reader.start()
    count, achieved, post_latencies = paced_posts(api_url, rate, duration, "lag probe",
                                                  on_ack=reader.add)
    reader.stop_at = time.monotonic() + 60
    reader.join()
    lags = list(reader.lags.values())
    return {
        "writes": count, "target_rate_per_s": rate, "achieved_rate_per_s": round(achieved, 1),
        "duration_s": duration, "writes_via": "POST /ticket through the primary's API "
        "(helpers.aws.tickets.create_ticket), 32 writer threads on a fixed schedule",
        "lag_measured_as": "POST answer received -> first consistent BatchGetItem on the "
        f"secondary table that returns the item (reader polls every {POLL_S * 1000:.0f} ms)",
        "replicated": len(lags), "missing_after_60_s": len(reader.pending),
        "lag": summary_ms(lags), "POST /ticket under load": summary_ms(post_latencies),
        "reader_polls": reader.polls,
    }


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--time-scale", type=float, default=SandboxSettings.time_scale)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 2 starts, 30 requests, 5 s of writes")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.quick:
        args.starts, args.requests, args.warmup, args.duration = 2, 30, 5, 5

    settings = SandboxSettings(time_scale=args.time_scale)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(),
                    # Other work on the machine skews every figure: say how busy it was.
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "time_scale": settings.time_scale,
    }
    print(f"1/3 sandbox start time ({args.starts} runs)", flush=True)
    results["start"] = bench_start(args.starts, settings)

    with tempfile.TemporaryDirectory(prefix="sandbox-bench-home-") as home, \
            running_sandbox(settings):
        os.environ["WORKSHOP_HOME"] = home
        token = secrets.token_hex(3)
        config = WorkshopConfig(prefix=f"bench-{token}", domain=f"bench-{token}.example.com")
        print("    deploying the API in both regions and the replication stack", flush=True)
        began = time.monotonic()
        for region in config.regions:
            deployment.deploy_api(config, region)
        deployment.deploy_replication(config)
        results["deploy_s"] = round(time.monotonic() - began, 2)
        api_url = deployment.stack_outputs(config, "api", config.primary_region)["ApiUrl"]

        print(f"2/3 API latency ({args.requests} GET + {args.requests} POST after "
              f"{args.warmup} of each)", flush=True)
        results["api"] = bench_api(api_url, args.requests, args.warmup)
        print(f"3/3 replication lag ({args.rate:g} writes/s for {args.duration:g} s)",
              flush=True)
        results["replication"] = bench_lag(config, api_url, args.rate, args.duration)

    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {args.out}")
    return 0


def print_table(r: dict[str, Any]) -> None:
    start, api, rep = r["start"], r["api"], r["replication"]
    rows = [
        ("sandbox start (up, median of "
         f"{start['runs']})", f"{start['median_up_s']:.2f} s",
         "runs: " + ", ".join(f"{s:.2f}" for s in start["up_s"])),
        ("sandbox stop (down, median)", f"{start['median_down_s']:.2f} s", ""),
    ]
    for name in ("GET /ticket", "POST /ticket"):
        s = api[name]
        rows.append((f"{name} p50 / p95", f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f} ms",
                     f"n={s['n']}, p99 {s['p99_ms']:.1f}, max {s['max_ms']:.1f} ms"))
    lag = rep["lag"]
    rows.append((f"replication lag p50 / p99 at {rep['target_rate_per_s']:g} w/s",
                 f"{lag['p50_ms']:.0f} / {lag['p99_ms']:.0f} ms",
                 f"{rep['replicated']}/{rep['writes']} replicated, p95 {lag['p95_ms']:.0f}, "
                 f"max {lag['max_ms']:.0f} ms; achieved {rep['achieved_rate_per_s']:g} w/s"))
    load = rep["POST /ticket under load"]
    rows.append(("POST /ticket p50 / p95 under that load",
                 f"{load['p50_ms']:.1f} / {load['p95_ms']:.1f} ms", ""))
    width = max(len(row[0]) for row in rows)
    machine = r["machine"]
    print(f"\nsandbox benchmarks (time scale {r['time_scale']}, {machine['cpus']} CPUs, "
          f"Python {machine['python']}, 1-min load average "
          f"{machine['load_average_at_start'][0]} -> {machine['load_average_at_end'][0]})")
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>18}  {note}")


if __name__ == "__main__":
    sys.exit(main())
