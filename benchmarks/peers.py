"""`make bench-peers`: the same notebooks on the sandbox and on MiniStack, side by side.

MiniStack (a free AWS emulator from PyPI) goes into a virtual environment of its
own under benchmarks/.peers/ (its pins conflict with the kit's), with boto3 for
its Lambda workers, and listens on 127.0.0.1. Each peer runs in a process of
its own (the kit chooses one mode per process) with an empty workshop home:
`workshop run` as far as the peer gets before notebook 05, then the API's
GET /ticket and POST /ticket latencies (p50/p99, through the kit's own client,
helpers.connect.net) and, where notebook 03.2 ran, the replication lag; then notebook 05
cleans up. The table goes to benchmarks/results/peers.md (and peers.json).

    python benchmarks/peers.py            # both peers, the table
    python benchmarks/peers.py --only ministack
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PEERS = REPO / "benchmarks" / ".peers"
MINISTACK_VENV = PEERS / "ministack-venv"
MINISTACK = MINISTACK_VENV / "bin" / "ministack"
# Pinned: the table is about this version. boto3 is what its Lambda workers import.
MINISTACK_PINS = ("ministack==1.5.33", "boto3==1.43.106")
MINISTACK_PORT = 4566
RESULTS = REPO / "benchmarks" / "results"
GETS, POSTS, LAG_SAMPLES = 200, 100, 20


# ---------------------------------------------------------------- MiniStack


def install_ministack() -> None:
    """MiniStack in its own venv (once; kept in the gitignored benchmarks/.peers/)."""
    if MINISTACK.exists():
        return
    PEERS.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(MINISTACK_VENV)], check=True)
    subprocess.run([str(MINISTACK_VENV / "bin" / "pip"), "install", "--quiet",
                    *MINISTACK_PINS], check=True)


@contextlib.contextmanager
def ministack(port: int = MINISTACK_PORT) -> Iterator[str]:
    """A fresh MiniStack on 127.0.0.1:``port``; yields its endpoint URL, stops it after."""
    log = open(PEERS / f"ministack-{port}.log", "w")  # noqa: SIM115 - open while it runs
    env = {**os.environ, "BIND_HOST": "127.0.0.1", "GATEWAY_PORT": str(port),
           "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([str(MINISTACK)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/_ministack/health", timeout=2).read()
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"MiniStack did not start; see {log.name}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# ---------------------------------------------------------------- one peer (own process)


def measure_one(mode: str, out: Path) -> dict:
    """Run the notebooks in ``mode`` (this process's environment chose the endpoint and the
    workshop home), measure, clean up; the figures as a dict."""
    from helpers.aws import deployment, replication
    from helpers.connect import session
    from helpers.core import curriculum, settings
    from helpers.runs import runner
    from helpers.sandbox import process as sandbox

    config = settings.resolve({"mode": mode})
    session.use_mode(mode)
    started_sandbox = False
    if mode == "sandbox":
        sandbox.up()
        started_sandbox = True
    notebooks: dict[str, float] = {}
    result: dict = {"mode": mode, "notebooks": notebooks, "stopped": None}
    running: list[str] = []

    def say(line: str) -> None:
        print(f"[{mode}] {line}", flush=True)
        if result.get("measured"):  # the clean-up's run is not counted
            return
        if m := re.match(r"running (\S+) \.\.\.", line):
            running.append(m[1])
        elif m := re.match(r"\s+done in ([\d.]+) s", line):
            notebooks[running[-1]] = float(m[1])

    last = curriculum.CURRICULUM[-2].number  # everything before the clean-up
    try:
        try:
            runner.run(config, out, until=last, say=say, rerun=True)
        except runner.RunError as exc:
            result["stopped"] = {"notebook": running[-1] if running else None, "why": str(exc)}
        primary = config.primary_region
        if "01-api-layer.ipynb" in notebooks:
            api = deployment.api_url(config, primary)
            result["get_ms"] = _latencies(lambda: _get(api), GETS)
            result["post_ms"] = _latencies(lambda: _post(api), POSTS)
        if "03.2-replicate-data.ipynb" in notebooks:
            lags = replication.measure_lag(config, deployment.api_url(config, primary),
                                           n=LAG_SAMPLES)
            result["lag_ms"] = _percentiles([s * 1000 for s in lags])
            result["time_scale"] = (sandbox.read_status() or {}).get("time_scale")
        result["measured"] = True  # from here on, the clean-up's run is not counted
        with contextlib.suppress(runner.RunError):
            runner.run(config, out, say=say, rerun=False)  # notebook 05 cleans up
    finally:
        if started_sandbox:
            sandbox.down(forget=True)
    return result


def _get(api: str) -> None:
    from helpers.aws import tickets
    from helpers.connect import net

    response = net.request("GET", tickets.endpoint(api, "ticket"), params={"limit": 10})
    assert response.status_code == 200, response.text[:200]


def _post(api: str) -> None:
    from helpers.aws import tickets

    tickets.create_ticket(api, description="peer benchmark", createdBy="bench", priority="low")


def _latencies(call, n: int) -> dict:
    call()  # warm: the first request finds the URL form and starts the function
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return _percentiles(samples)


def _percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"n": len(ordered), "p50": round(statistics.median(ordered), 1),
            "p99": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 1)}


# ---------------------------------------------------------------- both, and the table


def run_peer(name: str, mode: str, env: dict[str, str]) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"peer-{name}-"))
    out = home / "out"
    figures = home / "figures.json"
    try:
        subprocess.run([sys.executable, __file__, "--one", mode, "--figures", str(figures),
                        "--out", str(out)], cwd=REPO, check=True,
                       env={**os.environ, **env, "WORKSHOP_HOME": str(home)})
        return {"peer": name, **json.loads(figures.read_text())}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def table(results: list[dict]) -> str:
    from helpers.core import curriculum

    names = [m.notebook for m in curriculum.CURRICULUM]
    header = "| | " + " | ".join(r["peer"] for r in results) + " |"
    rows = [header, "|---|" + "---|" * len(results)]

    def row(label: str, cell) -> None:
        rows.append(f"| {label} | " + " | ".join(cell(r) for r in results) + " |")

    def how_far(r: dict) -> str:
        ran = [n.split("-")[0] for n in names if n in r["notebooks"]]
        text = f"ran {ran[0]}–{ran[-1]}" if ran else "ran nothing"
        if r["stopped"]:
            sentence = r["stopped"]["why"].split(": ", 1)[-1]
            text += f"; stopped at {r['stopped']['notebook']}: {sentence}"
        return text

    row("how far", how_far)
    for name in names:
        row(f"{name.split('-')[0]} time (s)",
            lambda r, n=name: f"{r['notebooks'][n]:.1f}" if n in r["notebooks"] else "—")

    def figure(key: str):
        return lambda r: (f"{r[key]['p50']:.0f} / {r[key]['p99']:.0f}" if key in r
                          else "— (not reached)")

    row(f"API GET /ticket p50 / p99 (ms, n={GETS})", figure("get_ms"))
    row(f"API POST /ticket p50 / p99 (ms, n={POSTS})", figure("post_ms"))
    row(f"replication lag p50 / p99 (ms, n={LAG_SAMPLES})", figure("lag_ms"))
    return "\n".join(rows)


def machine() -> str:
    load = os.getloadavg()[0]
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip()
                   for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    return (f"{dt.date.today().isoformat()}, {os.cpu_count()} × {cpu}, Python "
            f"{platform.python_version()}, {platform.system()}, 1-minute load {load:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("sandbox", "ministack"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--figures", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        Path(args.figures).write_text(json.dumps(measure_one(args.one, Path(args.out))))
        return 0
    started = machine()
    results = []
    if args.only in (None, "sandbox"):
        results.append(run_peer("kit sandbox", "sandbox", {}))
    if args.only in (None, "ministack"):
        install_ministack()
        with ministack() as url:
            results.append(run_peer("MiniStack 1.5.33 (endpoint mode)", "endpoint", {
                "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test"}))
    text = (f"Measured {started} at the start; 1-minute load {os.getloadavg()[0]:.1f} at the "
            f"end. Sandbox time scale 0.1.\n\n{table(results)}\n")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "peers.md").write_text(text)
    (RESULTS / "peers.json").write_text(json.dumps(results, indent=2))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
