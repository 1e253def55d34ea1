"""Sampling something over time, with a chart that updates while it runs.

Used for the health check turning healthy, item counts while replicating and
the failover flip. The samples come back as a DataFrame so the final chart
stays in the notebook's stored output.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

Probe = Callable[[], dict[str, Any]]


def watch(probe: Probe, *, timeout: float, interval: float,
          until: Callable[[pd.DataFrame], bool] | None = None,
          chart: Callable[[pd.DataFrame], Figure] | None = None,
          live_every: int = 5) -> pd.DataFrame:
    """Call ``probe`` every ``interval`` s until ``until(samples)`` holds or ``timeout`` passes.

    Each sample gets ``t`` (seconds since the start). With ``chart``, a figure is
    shown and redrawn every ``live_every`` samples; the last drawing stays.
    Raises TimeoutError (with the samples attached) when ``until`` never held.
    """
    rows: list[dict[str, Any]] = []
    handle = None
    started = time.monotonic()
    while True:
        sample = probe()
        rows.append({"t": round(time.monotonic() - started, 2), **sample})
        frame = pd.DataFrame(rows)
        done = until(frame) if until else False
        out_of_time = time.monotonic() - started >= timeout
        if chart is not None and (done or out_of_time or len(rows) % live_every == 0):
            handle = _draw(chart(frame), handle)
        if done or (until is None and out_of_time):
            return frame
        if out_of_time:
            error = TimeoutError(f"still waiting after {timeout:.0f} s; last sample: {sample}")
            error.samples = frame  # type: ignore[attr-defined]
            raise error
        time.sleep(interval)


def _draw(fig: Figure, handle: Any) -> Any:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython ships with the kit
        plt.close(fig)
        return None
    if get_ipython() is None:  # a script or the CLI: nothing to draw on
        plt.close(fig)
        return None
    if handle is None:
        handle = display(fig, display_id=True)
    else:
        handle.update(fig)
    plt.close(fig)  # the inline backend would otherwise show it a second time
    return handle
