"""The workshop's two clocks for a learner: which durations are scaled, which run in real time.

Notebook 00 explains the time scale with :func:`explain` and shows :func:`table`: the
durations a learner meets, each with AWS's figure, what it lasts here and its clock,
read from :data:`helpers.sandbox.clock.DURATIONS` (the one table the sandbox runs on).
On AWS (time scale 1) every figure is AWS's own.
"""

from __future__ import annotations

import pandas as pd

from helpers.base.tables import whole
from helpers.sandbox import clock

# The durations a learner meets in the notebooks, in the order they meet them, with the
# words they meet them by, and whether the sandbox models it (a wait it adds) rather than
# runs it (a wait of its own work, or AWS's behaviour it reproduces).
SHOWN = (
    ("route53_change_pending", "a Route 53 change is PENDING (03.3)", False),
    ("health_check_fast_interval", "health check request interval, fast (03.3, 04)", False),
    ("dns_record_ttl", "TTL of the kit's DNS records (03.3, 04)", False),
    ("lambda_cold_start", "a cold start's init (04)", True),
    ("apigateway_quota_window", "API Gateway: one custom domain per window (03.3, 05)",
     False),
    ("replica_creation", "a global table's replica is CREATING (04.1)", True),
    ("inter_region_round_trip", "round trip between two regions, e.g. Ireland-Singapore", True),
    ("stream_poll_interval", "Lambda polls the stream (03.2)", False),
    ("health_check_response_timeout", "a health check waits for an answer (03.3)", False),
)


def explain(on: clock.Clock) -> str:
    """The two clocks in a few sentences (:func:`helpers.sandbox.clock.explain`)."""
    return clock.explain(on.time_scale)


def table(on: clock.Clock) -> pd.DataFrame:
    """AWS's figure of each duration a learner meets, what it lasts here, and its clock
    (``on``: the mode's clock, :func:`helpers.connect.net.clock`); in the sandbox a
    duration it models says so."""
    rows = []
    for name, what, modelled in SHOWN:
        entry = clock.TABLE[name]
        kind = ("AWS's own" if on.time_scale == 1.0
                else "scaled" if entry.clock == clock.SCALED else "real time, as on AWS")
        if modelled and on.sandbox:
            kind += ", modelled"
        rows.append((what, _seconds(entry.aws_s), _seconds(on.seconds(name)), kind))
    return whole(pd.DataFrame(rows, columns=["duration", "on AWS", "here", "clock"]
                              ).set_index("duration"))


def _seconds(value: float) -> str:
    return f"{value:g} s"
