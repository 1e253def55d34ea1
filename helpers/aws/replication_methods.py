"""Module 4.1: the kit's Streams replicator and a DynamoDB global table, side by side.

:func:`figures` gathers one method's measurements (the lag of
:func:`helpers.aws.replication.measure_lag`, the RPO of a drill);
:func:`comparison` sets both methods beside each other with what they cost and
what the learner owns, :func:`comparison_chart` draws the figures (a lag the sandbox
models, not measures, is labelled modelled in both), and
:func:`same_ticket_in_both_regions` writes one ticket in both regions at once and
shows what each region holds afterwards.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from helpers.aws.global_tables import table_name
from helpers.aws.replication import MEASURED, MODELLED
from helpers.aws.tickets import stored_item
from helpers.base import polling
from helpers.base.tables import whole
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig

# The DynamoDB pricing page, quoted by the DynamoDB Developer Guide's "Choosing your disaster
# recovery strategy": replicated writes of a global table, on-demand, US East (N. Virginia),
# Standard table class, prices in effect since 2024-11-01 (docs/aws-sources.md).
REPLICATED_WRITE_USD_PER_MILLION = 0.625
PRICE_AS_OF = "2024-11-01"
METHODS = {"streams": "Streams + the kit's replicator", "global-tables": "global table"}
COLOURS = {"streams": "#1565c0", "global-tables": "#2e7d32"}


def figures(lags_s: list[float], drill_result: Any) -> dict[str, Any]:
    """One method's figures: lag p50/p99 (ms), whether the lag is measured or modelled
    (``lag_basis``: what :func:`helpers.aws.replication.measure_lag` says), and the drill's
    RPO (the writes the secondary lacked, and the window of time they span, in real time)."""
    lags = pd.Series(lags_s, dtype=float)
    return {"lag_p50_ms": round(float(lags.quantile(0.50)) * 1000, 1),
            "lag_p99_ms": round(float(lags.quantile(0.99)) * 1000, 1),
            "lag_basis": getattr(lags_s, "basis", MEASURED),
            "samples": len(lags),
            "rpo_items_at_switch": drill_result.rpo_items_at_switch,
            "rpo_items_after_drain": drill_result.rpo_items_after_drain,
            "rpo_seconds_at_switch": drill_result.rpo_seconds_at_switch,
            "rpo_seconds_after_drain": drill_result.rpo_seconds_after_drain,
            "rto_seconds": drill_result.rto_seconds}


def _lag(method: dict[str, Any], key: str) -> str:
    return f"{method[key]:.0f} ms ({method.get('lag_basis', MEASURED)})"


def comparison(streams: dict[str, Any], global_table: dict[str, Any]) -> pd.DataFrame:
    """Both methods in one table, every cell whole: the figures (each lag saying whether it
    is measured or modelled), then behaviour, cost and ownership."""
    rows = [
        ("replication lag p50", _lag(streams, "lag_p50_ms"), _lag(global_table, "lag_p50_ms")),
        ("replication lag p99", _lag(streams, "lag_p99_ms"), _lag(global_table, "lag_p99_ms")),
        ("RPO at the DNS switch (the window of writes not yet in the secondary, real time)",
         _rpo(streams, "at_switch"), _rpo(global_table, "at_switch")),
        ("RPO after replication drained", _rpo(streams, "after_drain"),
         _rpo(global_table, "after_drain")),
        ("direction", "primary → secondary only; the secondary's writes come back by a "
                      "reconcile (a copy with the same rule)", "both ways, by itself"),
        ("same ticket written in both regions at once",
         "the newer `updatedAt` (the API's clock) wins where the replicator or the reconcile "
         "writes; until the reconcile the regions can disagree",
         "last writer wins (DynamoDB's own write time); both regions converge"),
        ("cost per million replicated writes",
         "ordinary writes into the secondary's table, plus the replicator's Lambda "
         "invocations and duration",
         f"{REPLICATED_WRITE_USD_PER_MILLION} USD (replicated write request units, "
         f"on-demand, US East, Standard; prices since {PRICE_AS_OF})"),
        ("code you own", "lambda_src/replicator.py, backfill, redrive, reconcile",
         "none: one UpdateTable ReplicaUpdates setting"),
        ("resources you own", "a second table, the replication stack (function, role, log "
                              "group, event source mapping, failure queue)",
         "the replica (DynamoDB manages it)"),
    ]
    return whole(pd.DataFrame(rows, columns=["", METHODS["streams"], METHODS["global-tables"]]
                              ).set_index(""))


def comparison_chart(streams: dict[str, Any], global_table: dict[str, Any]) -> Figure:
    """Lag p50/p99 and the RPO at the switch and after drain, both methods side by side; a
    modelled lag is hatched and labelled so, in its legend entry and the title."""
    fig = Figure(figsize=(10, 3.6))
    lag_ax, rpo_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    methods = {"streams": streams, "global-tables": global_table}
    for ax, keys, labels, unit in (
            (lag_ax, ("lag_p50_ms", "lag_p99_ms"), ("lag p50", "lag p99"), "ms (real time)"),
            (rpo_ax, ("rpo_seconds_at_switch", "rpo_seconds_after_drain"),
             ("RPO at the switch", "RPO after drain"), "seconds (real time)")):
        for i, (method, values) in enumerate(methods.items()):
            heights = [values[k] or 0 for k in keys]
            xs = [x + (i - 0.5) * 0.38 for x in range(len(keys))]
            modelled = ax is lag_ax and values.get("lag_basis") == MODELLED
            label = METHODS[method] + (f" ({MODELLED})" if modelled else "")
            bars = ax.bar(xs, heights, 0.38, label=label, color=COLOURS[method],
                          hatch="//" if modelled else None, edgecolor="white")
            ax.bar_label(bars, labels=[f"{h:g}" for h in heights], fontsize="small")
        ax.set_xticks(range(len(keys)), labels)
        ax.set_ylabel(unit)
        ax.margins(y=0.2)
    lag_ax.set_title("Replication lag", fontsize="medium")
    rpo_ax.set_title("Recovery point: the window of writes not yet replicated (drill)",
                     fontsize="medium")
    lag_ax.legend(fontsize="small", loc="upper left")
    short = {"streams": "Streams + replicator", "global-tables": "global table"}
    fig.suptitle("Streams + replicator vs global table · lag "
                 + ", ".join(f"{v.get('lag_basis', MEASURED)} ({short[m]})"
                             for m, v in methods.items()), fontsize="medium")
    fig.tight_layout()
    return fig


def same_ticket_in_both_regions(config: WorkshopConfig, timeout: float = 30) -> pd.DataFrame:
    """Write one ticket (one id) in both regions at the same moment, each with its own
    description; wait until both regions hold the same version and show it."""
    ticket_id = f"conflict-{uuid.uuid4().hex[:8]}"
    tables = {region: client("dynamodb", region) for region in config.regions}
    wrote: dict[str, dict[str, Any]] = {}
    start = threading.Barrier(len(tables))

    def write(region: str) -> None:
        start.wait()
        item = stored_item(f"written in {region}", ticket_id, created_by="conflict demo")
        tables[region].put_item(TableName=table_name(config), Item=item)
        wrote[region] = {"wrote": item["description"]["S"], "at": time.time()}

    threads = [threading.Thread(target=write, args=(r,)) for r in config.regions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    held: dict[str, str] = {}

    def converged() -> bool:
        for region, db in tables.items():
            item = db.get_item(TableName=table_name(config), Key={"id": {"S": ticket_id}},
                               ConsistentRead=True).get("Item", {})
            held[region] = item.get("description", {}).get("S", "-")
        return len(set(held.values())) == 1

    polling.wait_until(converged, timeout, interval=0.2,
                       what=f"both regions to hold the same version of {ticket_id}")
    gap_ms = abs(wrote[config.primary_region]["at"] - wrote[config.secondary_region]["at"])
    return pd.DataFrame(
        [{"region": r, "wrote": wrote[r]["wrote"], "holds afterwards": held[r]}
         for r in config.regions]).set_index("region").assign(
        **{"writes apart (ms)": round(gap_ms * 1000, 1)})


def _rpo(measured: dict[str, Any], when: str) -> str:
    """An RPO as time: ``"0.84 s (2 writes)"``, the window the lacking writes span."""
    items, seconds = measured[f"rpo_items_{when}"], measured.get(f"rpo_seconds_{when}")
    if items is None:
        return "—"
    writes = f"{items} write{'' if items == 1 else 's'}"
    return writes if seconds is None else f"{seconds:.2f} s ({writes})"
