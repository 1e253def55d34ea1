"""``workshop drill``: one scenario under traffic, its figures as a table or JSON."""

from __future__ import annotations

import json
from typing import Any

from helpers.core.config import WorkshopConfig
from helpers.drill.charts import drill_timeline
from helpers.drill.engine import run
from helpers.drill.scenarios import restore


def command(config: WorkshopConfig, args: Any) -> int:
    """``workshop drill``: run one scenario and print its figures (table, or JSON with --json)."""
    say = None if args.json else print
    if args.restore:
        restore(config, progress=print)
        return 0
    # DrillNotReady / DrillUnavailable reach `workshop`, which prints their sentence.
    result = run(config, scenario=args.scenario, rate=args.rate, progress=say,
                 replication=getattr(args, "replication", "streams"))
    if args.chart:
        drill_timeline(result).savefig(args.chart, dpi=110)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, default=str))
    else:
        print(result.table().to_string())
        for note in result.notes:
            print(f"note: {note}")
        if args.chart:
            print(f"timeline saved to {args.chart}")
    ok = result.rpo_items_after_drain == 0 and result.lost_items == 0
    return 0 if ok else 1
