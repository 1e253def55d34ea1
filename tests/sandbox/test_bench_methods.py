"""``workshop bench --json`` compares the two replication methods at 50 writes/s: keys
``streams`` and ``global_tables``, each with ``lag_p50_ms`` and ``lag_p99_ms`` (a short run:
one rate, no throughput benchmark, no workshop run; results in a temporary folder)."""

from __future__ import annotations

import json

from helpers import cli
from helpers.runs import bench


def test_bench_json_has_both_methods_lag_at_50_writes_a_second(sandbox, capsys, monkeypatch,
                                                                tmp_path):
    monkeypatch.setattr(bench, "RESULTS", tmp_path)  # never the committed results
    monkeypatch.setattr(bench, "RATES", (bench.COMPARE_RATE,))
    # The replicator throughput and memory benchmarks are not what this test is about
    # (the memory one deploys a participant through 3.3 in a sandbox of its own): skipped.
    monkeypatch.setattr(bench, "replicator_throughput", lambda *_args: {})
    monkeypatch.setattr(bench, "participant_memory", lambda *_args: {})
    monkeypatch.setattr(bench, "learner_memory", lambda *_args: {})  # a whole workshop
    code = cli.main(["bench", "--json", "--seconds", "2", "--skip-workshop-run"])
    assert code == 0
    results = json.loads(capsys.readouterr().out)
    for key in ("streams", "global_tables"):
        method = results[key]
        assert method["rate"] == 50, method
        assert method["lag_p50_ms"] is not None and method["lag_p99_ms"] is not None, method
        assert 0 < method["lag_p50_ms"] <= method["lag_p99_ms"], method
        assert method["replicated"] == method["items"], method
    assert (tmp_path / "latest.json").exists()
