"""The kit's charts: health-check status, replication counts and lag, where DNS points.

Each function takes plain data (a pandas DataFrame of samples or a list of
numbers) and returns a matplotlib Figure, so notebooks, the CLI and tests can
all use them. Every chart states the sandbox time scale where timings matter.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from helpers.sandbox import clock

# Figures are built without pyplot: nothing is shown twice in a notebook and
# no global state leaks between charts. A notebook displays the returned Figure.



def _show_figures_in_notebooks() -> None:
    """Let IPython render a returned Figure as PNG (pyplot would do it, with global state)."""
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import select_figure_formats
    except ImportError:  # pragma: no cover - IPython ships with the kit
        return
    shell = get_ipython()
    if shell is not None:
        select_figure_formats(shell, {"png"})


_show_figures_in_notebooks()

HEALTHY, UNHEALTHY = "#2e7d32", "#c62828"
REGION_COLOURS = ["#1565c0", "#ef6c00", "#6a1b9a", "#00838f"]


def scale_note(time_scale: float | None) -> str:
    """What the x axis's seconds mean: on the sandbox, its clock (AWS's durations x its time
    scale); "" on AWS. :func:`helpers.sandbox.clock.scale_note`."""
    return clock.scale_note(time_scale)


def duration(seconds: float, time_scale: float | None = None,
             clock_name: clock.ClockName = clock.SCALED, digits: int = 1) -> str:
    """A measured duration with, on the sandbox, its clock and what it stands for on AWS's.

    ``duration(5.1, 0.1)`` -> ``"5.1 s on the sandbox's clock (51.0 s on AWS at time scale
    0.1)"``; ``duration(0.9, 0.1, clock.REAL)`` -> ``"0.9 s in real time, as on AWS"``; on
    AWS (scale 1) just ``"5.1 s"``. :func:`helpers.sandbox.clock.describe`, the kit's one
    formatter (:func:`helpers.connect.net.duration` reads the mode's clock itself).
    """
    return clock.describe(seconds, time_scale, clock_name, digits)


def health_status(samples: pd.DataFrame, time_scale: float | None = None,
                  title: str = "Route 53 health check") -> Figure:
    """Fraction of checkers reporting healthy, and the overall verdict, over time.

    ``samples`` columns: ``t`` (seconds), ``healthy`` (bool), ``healthy_fraction`` (0-1).
    """
    fig = Figure(figsize=(8, 3))
    ax = fig.subplots()
    ax.step(samples["t"], samples["healthy_fraction"] * 100, where="post", color="#455a64",
            label="checkers reporting healthy (%)")
    ax.axhline(18, color="#9e9e9e", linestyle=":", label="18 % threshold")
    for verdict, colour in ((True, HEALTHY), (False, UNHEALTHY)):
        part = samples[samples["healthy"] == verdict]
        ax.scatter(part["t"], [104] * len(part), marker="s", s=14, color=colour,
                   label="healthy" if verdict else "unhealthy")
    ax.set_ylim(-5, 110)
    ax.set_xlabel("seconds since start" + scale_note(time_scale))
    ax.set_ylabel("% healthy")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize="small", ncols=2)
    fig.tight_layout()
    return fig


def item_counts(samples: pd.DataFrame, regions: list[str],
                title: str = "Tickets in each region's table") -> Figure:
    """Item counts per region over time. ``samples``: ``t`` and one column per region."""
    fig = Figure(figsize=(8, 3))
    ax = fig.subplots()
    for colour, region in zip(REGION_COLOURS, regions, strict=False):
        ax.plot(samples["t"], samples[region], marker=".", color=colour, label=region)
    ax.set_xlabel(f"seconds since start ({clock.REAL})")  # sampled as it happens
    ax.set_ylabel("items")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    return fig


def lag_histogram(lags_s: list[float], time_scale: float | None = None) -> Figure:
    """Distribution of replication lag (seconds from write to visible in the secondary)."""
    fig = Figure(figsize=(8, 3))
    ax = fig.subplots()
    ms = [lag * 1000 for lag in lags_s]
    ax.hist(ms, bins=min(20, max(5, len(ms) // 2)), color="#1565c0", edgecolor="white")
    if ms:
        p50 = pd.Series(ms).quantile(0.5)
        ax.axvline(p50, color="#263238", linestyle="--", label=f"median {p50:.0f} ms")
        ax.legend(fontsize="small")
    # Lambda's stream polling and the round trips are in real time (helpers.sandbox.clock):
    # real milliseconds whatever the time scale.
    ax.set_xlabel(f"replication lag (ms, {clock.REAL}, as on AWS)"
                  if time_scale not in (None, 1.0) else "replication lag (ms)")
    ax.set_ylabel("tickets")
    ax.set_title(f"Replication lag, primary to secondary ({len(ms)} tickets)")
    fig.tight_layout()
    return fig


def failover_timeline(samples: pd.DataFrame, regions: list[str],
                      time_scale: float | None = None, events: dict[str, float] | None = None,
                      title: str = "Failover: health check, DNS answer and serving region"
                      ) -> Figure:
    """Three aligned lanes: health verdict, the region DNS points to, the region that served.

    ``samples`` columns: ``t``, ``healthy`` (bool), ``dns_region`` and ``served_region``
    (region names or None when nothing answered). ``events`` marks moments (label -> t).
    """
    fig = Figure(figsize=(8, 4.8 if events else 4.2))
    axes = fig.subplots(3, 1, sharex=True)
    # Route 53's own answer (the zone's name servers); "served by" is what a client, through
    # its cache, reached.
    lanes = [("health check", "healthy"), ("Route 53 answers", "dns_region"),
             ("served by", "served_region")]
    colours = {region: REGION_COLOURS[i % len(REGION_COLOURS)] for i, region in
               enumerate(regions)}
    colours.update({True: HEALTHY, False: UNHEALTHY, None: "#bdbdbd"})
    for ax, (label, column) in zip(axes, lanes, strict=True):
        values = samples[column].where(samples[column].notna(), None)
        ax.scatter(samples["t"], [0] * len(samples), c=[colours.get(v, "#bdbdbd") for v in values],
                   marker="s", s=40)
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
        for n, (name, t) in enumerate((events or {}).items()):
            ax.axvline(t, color="#263238", linestyle="--", linewidth=1)
            if ax is axes[0]:  # stagger the labels: moments are often close together
                ax.annotate(f" {name}", (t, 1.25 + 0.55 * (n % 3)), fontsize="small",
                            ha="left", annotation_clip=False)
        ax.set_ylim(-1, 1)
    handles = [Line2D([], [], marker="s", linestyle="", color=c, label=str(k))
               for k, c in colours.items() if k in regions]
    handles += [Line2D([], [], marker="s", linestyle="", color=HEALTHY, label="healthy"),
                Line2D([], [], marker="s", linestyle="", color=UNHEALTHY, label="unhealthy"),
                Line2D([], [], marker="s", linestyle="", color="#bdbdbd", label="no answer")]
    fig.legend(handles=handles, loc="lower center", ncols=5, fontsize="small", frameon=False)
    axes[-1].set_xlabel("seconds since start" + scale_note(time_scale))
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06, 1, 0.92 if events else 1))
    return fig
