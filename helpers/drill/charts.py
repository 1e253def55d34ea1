"""The failover drill's timeline: requests by serving region, health check, DNS answer.

:func:`drill_timeline` takes a :class:`~helpers.drill.result.DrillResult`
(final, or a partial one while the drill runs) and returns a matplotlib Figure,
built without pyplot like the rest of :mod:`helpers.views.charts`. The measured
moments are marked, the RTO and RPO are in the title and the sandbox time scale
is stated. :class:`LiveTimeline` redraws it in the notebook while the drill runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from helpers.views.charts import HEALTHY, REGION_COLOURS, UNHEALTHY, scale_note
from helpers.views.live import LiveOutput

if TYPE_CHECKING:  # pragma: no cover
    from helpers.drill.result import DrillResult

FAILED = "#c62828"
UNKNOWN = "#bdbdbd"
# moment -> (label on the chart, line colour)
MOMENTS = {
    "fault": ("fault", "#c62828"),
    "detected": ("detected", "#455a64"),
    "dns_switch": ("DNS switched", "#455a64"),
    "first_failure": ("first failure", "#c62828"),
    "recovered": ("recovered", "#2e7d32"),
    "restore": ("restore", "#2e7d32"),
    "dns_back": ("DNS back", "#455a64"),
    "served_back": ("failed back", "#2e7d32"),
}
LANES = {"create": 2, "list": 1, "health": 0}
CHAR_WIDTH = 0.0068  # of the x axis, per character of an x-small label
LIVE_REDRAW_S = 1.0


def _title(result: DrillResult) -> str:
    """RTO with its AWS figure (scaled clock), RPO as writes and the window they span (real
    time)."""
    if result.rto_seconds is None:
        rto = "…"
    elif result.time_scale == 1.0:
        rto = f"{result.rto_seconds:.2f} s"
    else:
        rto = f"{result.rto_seconds:.2f} s ≈ {result.rto_aws_seconds:.1f} s on AWS"
    bound = result.theoretical_bound_seconds
    return (f"Failover drill '{result.scenario}': RTO {rto} (bound {bound:.2f} s) · RPO "
            f"{_rpo(result.rpo_items_at_switch, result.rpo_seconds_at_switch)} at the switch "
            f"(real time), {_rpo(result.rpo_items_after_drain, result.rpo_seconds_after_drain)}"
            f" after drain · {result.reconciled_items} reconciled")


def _rpo(items: int | None, seconds: float | None) -> str:
    if items is None:
        return "…"
    writes = f"{items} write{'' if items == 1 else 's'}"
    return writes if seconds is None else f"{writes} in {seconds:.2f} s"


def drill_timeline(result: DrillResult) -> Figure:
    """Three aligned lanes over the drill's seconds, with the measured moments as lines.

    * requests: one mark per request, on its operation's row, coloured by the
      region that served it; failures are red crosses;
    * health check: % of checkers reporting healthy, and the verdict;
    * DNS: the region ``api.<domain>`` points at, in two rows: Route 53's answer (asked
      of the zone's name servers at each probe) and the client's (its cached answer,
      at each request), which follows up to a TTL later.

    The moments: ``fault`` is when the fault was in place (its API calls answered);
    ``first failure`` the first request that failed once the fault began (the RTO's start:
    the next request of a broken route, or one sent while the fault's calls ran);
    ``detected`` the first probe that saw the check unhealthy; ``DNS switched`` Route 53's
    first answer with the secondary; ``recovered`` the first request the secondary served
    (the RTO's end); ``restore``, ``DNS back`` and ``failed back`` the same on the way back.
    """
    regions = [result.primary, result.secondary]
    colours = {region: REGION_COLOURS[i] for i, region in enumerate(regions)}
    fig = Figure(figsize=(10, 5.4))
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 1.4, 1.0]})
    requests, probes = result.requests, result.probes

    ax = axes[0]
    if not requests.empty:
        rows = requests["op"].map(LANES)
        ok = requests["ok"].astype(bool)
        for region in regions:
            part = ok & (requests["region"] == region)
            ax.scatter(requests["t"][part], rows[part], marker="o", s=14, color=colours[region])
        other = ok & ~requests["region"].isin(regions)
        ax.scatter(requests["t"][other], rows[other], marker="o", s=14, color=UNKNOWN)
        ax.scatter(requests["t"][~ok], rows[~ok], marker="x", s=24, color=FAILED)
    ax.set_yticks(list(LANES.values()), list(LANES))
    ax.set_ylim(-0.7, 2.7)
    ax.set_ylabel("requests")

    ax = axes[1]
    if not probes.empty:
        fraction = probes["healthy_fraction"].astype(float) * 100
        ax.step(probes["t"], fraction, where="post", color="#455a64")
        for verdict, colour in ((True, HEALTHY), (False, UNHEALTHY)):
            part = probes["healthy"] == verdict
            ax.scatter(probes["t"][part], [108] * int(part.sum()), marker="s", s=10,
                       color=colour)
        throttled = _throttled(probes)
        if throttled.any():  # recorded, their verdict unknown: a gap with its reason
            ax.scatter(probes["t"][throttled], [108] * int(throttled.sum()), marker="x", s=18,
                       color=FAILED)
    ax.axhline(18, color="#9e9e9e", linestyle=":")
    ax.set_ylim(-5, 115)
    ax.set_ylabel("health\n% healthy")

    ax = axes[2]
    if not probes.empty:
        answer = probes["dns_region"]
        ax.scatter(probes["t"], [1] * len(probes), marker="s", s=22,
                   c=[colours.get(value, UNKNOWN) for value in answer])
    if not requests.empty and "sent_to" in requests:
        ax.scatter(requests["t"], [0] * len(requests), marker="s", s=10,
                   c=[colours.get(value, UNKNOWN) for value in requests["sent_to"]])
    ax.set_yticks([1, 0], ["Route 53", "client (cached)"], fontsize="x-small")
    ax.set_ylim(-0.7, 1.7)
    ax.set_ylabel("DNS\nanswer")

    _mark_moments(axes, result.moments)

    handles = [Line2D([], [], marker="o", linestyle="", color=colours[r], label=f"served by {r}")
               for r in regions]
    handles += [Line2D([], [], marker="x", linestyle="", color=FAILED, label="failed request"),
                Line2D([], [], marker="s", linestyle="", color=HEALTHY, label="healthy"),
                Line2D([], [], marker="s", linestyle="", color=UNHEALTHY, label="unhealthy")]
    if not probes.empty and _throttled(probes).any():
        handles.append(Line2D([], [], marker="x", linestyle="", color=FAILED,
                              label="probe throttled"))
    axes[-1].legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.9), ncols=6,
                    fontsize="x-small", frameon=False)
    axes[-1].set_xlabel("seconds since the drill began"
                        + (scale_note(result.time_scale) or "  (AWS timings)"))
    fig.suptitle(_title(result), fontsize="medium")
    fig.tight_layout()
    return fig


def _mark_moments(axes, moments: dict[str, float]) -> None:
    """A dashed line per measured moment; moments at the same time share one label, and a
    label that would run into the previous one goes on a row above it."""
    found: dict[float, list[tuple[str, str]]] = {}
    for name, (label, colour) in MOMENTS.items():
        if moments.get(name) is not None:
            found.setdefault(round(moments[name], 2), []).append((label, colour))
    low, high = axes[0].get_xlim()
    char = (high - low) * CHAR_WIDTH  # the width of one label character, in seconds
    rows_end: list[float] = []  # where the last label of each row ends
    for at in sorted(found):
        labels = found[at]
        text = ", ".join(label for label, _ in labels)
        for lane in axes:
            lane.axvline(at, color=labels[0][1], linestyle="--", linewidth=0.9, alpha=0.8)
        row = next((i for i, end in enumerate(rows_end) if end < at), len(rows_end))
        if row == len(rows_end):
            rows_end.append(0.0)
        rows_end[row] = at + (len(text) + 2) * char
        axes[0].annotate(text, (at, 2.75), xytext=(2, 9 * row), textcoords="offset points",
                         fontsize="x-small", ha="left", va="bottom", annotation_clip=False)


class LiveTimeline:
    """The timeline and a status line in the notebook, redrawn while the drill runs."""

    def __init__(self) -> None:
        self.output = LiveOutput(every=LIVE_REDRAW_S)

    def due(self) -> bool:
        return self.output.due()

    def update(self, result: DrillResult, force: bool = False) -> None:
        if not self.output.active or not (force or self.output.due()):
            return  # a script or the CLI: nothing to draw on
        from IPython.display import HTML

        counts = result.counts()
        text = HTML(
            f"<b>{result.scenario}</b> · {result.phase} · {counts['requests']} requests, "
            f"{counts['failed']} failed, {counts['writes_acknowledged']} writes acknowledged")
        self.output.show(text, drill_timeline(result))


def _throttled(probes: Any) -> Any:
    """Which probes Route 53 throttled (a boolean column; all False for older records)."""
    if "throttled" not in probes:
        return probes["t"] != probes["t"]
    return probes["throttled"].fillna(False).astype(bool)
