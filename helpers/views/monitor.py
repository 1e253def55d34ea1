"""Sampling something over time, with a chart that updates while it runs.

Used for the health check turning healthy, item counts while replicating and
the failover flip. The samples come back as a DataFrame so the final chart
stays in the notebook's stored output.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from helpers.views.live import LiveOutput

Probe = Callable[[], dict[str, Any]]


def watch(probe: Probe, *, timeout: float, interval: float,
          until: Callable[[pd.DataFrame], bool] | None = None,
          chart: Callable[[pd.DataFrame], Figure] | None = None,
          at: dict[float, Callable[[], Any]] | None = None, linger: float = 0.0,
          live_every: int = 5) -> pd.DataFrame:
    """Call ``probe`` every ``interval`` s until ``until(samples)`` holds or ``timeout`` passes.

    Each sample gets ``t`` (seconds since the start). ``at`` runs actions at
    given times (e.g. break something 2 s in, so the chart shows "before");
    ``linger`` keeps sampling that long after ``until`` first holds. With
    ``chart``, a figure is shown and redrawn every ``live_every`` samples; the
    last drawing stays. Raises TimeoutError (samples attached) if ``until`` never held.
    """
    rows: list[dict[str, Any]] = []
    pending = sorted((at or {}).items())
    live = LiveOutput()
    done_at: float | None = None
    started = time.monotonic()
    while True:
        elapsed = time.monotonic() - started
        while pending and pending[0][0] <= elapsed:
            pending.pop(0)[1]()
        sample = probe()
        rows.append({"t": round(time.monotonic() - started, 2), **sample})
        frame = pd.DataFrame(rows)
        if done_at is None and not pending and until is not None and until(frame):
            done_at = time.monotonic()
        done = done_at is not None and time.monotonic() - done_at >= linger
        out_of_time = time.monotonic() - started >= timeout
        if chart is not None and live.active and (done or out_of_time
                                                  or len(rows) % live_every == 0):
            live.show(chart(frame))
        if done or (until is None and out_of_time):
            return frame
        if out_of_time and done_at is None:
            error = TimeoutError(f"still waiting after {timeout:.0f} s; last sample: {sample}")
            error.samples = frame  # type: ignore[attr-defined]
            raise error
        time.sleep(interval)


def moments(samples: pd.DataFrame, start: float, **conditions: Any) -> dict[str, float]:
    """Seconds after ``start`` at which each ``column=value`` first held (in order found).

    ``moments(flip, start=2.0, healthy=False)`` -> ``{"healthy=False": 1.3}``; a
    condition that never held is left out.
    """
    found: dict[str, float] = {}
    after = samples[samples["t"] >= start]
    for column, value in conditions.items():
        hits = after[after[column] == value]
        if not hits.empty:
            found[f"{column}={value}"] = round(float(hits["t"].iloc[0]) - start, 2)
    return dict(sorted(found.items(), key=lambda item: item[1]))
