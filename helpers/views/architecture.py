"""The deployment as it stands, drawn: both regions, the replication path, Route 53.

:func:`look` reads the real state - the stacks, the checklist
(:func:`helpers.checklist.check`), the failover records and which region DNS
answers for ``api.<domain>`` now - into a :class:`Picture`; :func:`draw` turns
a picture into a matplotlib Figure. What is not deployed yet is drawn faded,
what is deployed but failing its check is marked in red with the reason.
Keeping the two apart lets the drawing be tested without AWS.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from helpers.aws import failover, stacks
from helpers.base.regions import city_label
from helpers.connect import net
from helpers.core import settings
from helpers.core.config import WorkshopConfig
from helpers.views import charts

ABSENT, OK, UNHEALTHY = "absent", "ok", "unhealthy"
_LIVE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}
_EDGE = {OK: charts.HEALTHY, UNHEALTHY: charts.UNHEALTHY, ABSENT: "#9e9e9e"}
_FILL = {OK: "#f1f8e9", UNHEALTHY: "#ffebee", ABSENT: "#fafafa"}


@dataclass
class Part:
    state: str = ABSENT  # ABSENT, OK or UNHEALTHY
    note: str = ""  # why it is unhealthy, or a detail worth showing


@dataclass
class Picture:
    config: WorkshopConfig
    parts: dict[str, Part] = field(default_factory=dict)  # "<region>/api", "route53/zone", ...
    lag_s: float | None = None  # replication lag now (None: not replicating)
    dns_region: str | None = None  # the region api.<domain> resolves to now
    checked_at: str = ""
    global_table: bool = False  # module 4.1 done: the two tables are one global table

    def part(self, key: str) -> Part:
        return self.parts.get(key, Part())


# ---------------------------------------------------------------- the real state


def look(config: WorkshopConfig | None = None, status: Any = None) -> Picture:
    """The deployment of ``config``'s participant now (``status``: a checklist just taken)."""
    try:
        from helpers.checklist import check
    except ImportError:  # before the checklist package (the split of helpers.views.progress)
        from helpers.views.progress import check  # type: ignore[attr-defined,no-redef]

    config = config or settings.resolve()
    status = status or check(config, remember=False)
    items = status.items()
    done = {key: item.done for key, item in items.items()}
    picture = Picture(config, checked_at=dt.datetime.now(dt.UTC).strftime("%H:%M:%S UTC"))
    primary, secondary = config.regions
    broken = done["4/broken"] and not done["4/restored"]
    for region, answers, web in ((primary, "1/api-answers", "2/ui-answers"),
                                 (secondary, "3.1/api-answers", None)):
        api = _stack(config, "api", region)
        for name in ("api", "functions", "table"):
            picture.parts[f"{region}/{name}"] = api
        if api.state == OK and not done[answers]:
            picture.parts[f"{region}/api"] = Part(UNHEALTHY, items[answers].detail)
        if region == primary and api.state == OK and broken:
            picture.parts[f"{region}/api"] = Part(UNHEALTHY, "bad deploy: /health runs the "
                                                  "post function")
        website = _stack(config, "ui", region)
        if website.state == OK and web and not done[web]:
            website = Part(UNHEALTHY, items[web].detail)
        picture.parts[f"{region}/website"] = website
    replication = _stack(config, "replication", primary)
    picture.global_table = done.get("4.1/global-table", False)
    if picture.global_table:  # module 4.1: DynamoDB replicates; the replicator is retired
        replication = Part(OK, "global table")
    elif replication.state == OK:
        step = items["3.2/in-step"]
        picture.lag_s = step.data.get("lag_s", 0.0) if step.data else None
        failing = [items[k].detail for k in ("3.2/attached", "3.2/in-step") if not done[k]]
        if failing:
            replication = Part(UNHEALTHY, failing[0])
    picture.parts["replication"] = replication
    _route53(picture, done, items)
    return picture


def _stack(config: WorkshopConfig, kind: str, region: str) -> Part:
    status = stacks.stack_status(region, config.stack_name(kind))
    if status in (None, "DELETE_COMPLETE"):
        return Part(ABSENT)
    return Part(OK) if status in _LIVE else Part(UNHEALTHY, status)


def _route53(picture: Picture, done: dict[str, bool], items: dict[str, Any]) -> None:
    config = picture.config
    zone_id = failover.find_hosted_zone(config)
    if zone_id is None:
        return
    picture.parts["route53/zone"] = Part(OK, config.domain)
    check = failover.find_health_check(config)
    if check is not None:
        picture.parts["route53/health-check"] = (
            Part(OK) if done["3.3/health-check"]
            else Part(UNHEALTHY, items["3.3/health-check"].detail))
    roles = {r.get("Failover") for r in failover.records(zone_id)
             if r["Name"] == f"{config.api_host()}." and r.get("Failover")}
    if roles:
        picture.parts["route53/records"] = (
            Part(OK) if roles == {"PRIMARY", "SECONDARY"}
            else Part(UNHEALTHY, f"only {', '.join(sorted(roles))}"))
        try:
            picture.dns_region = failover.answer_region(net.resolve(config.api_host()))
        except Exception:  # no answer is shown as no answer
            picture.dns_region = None


# ---------------------------------------------------------------- the drawing


def draw(picture: Picture) -> Figure:
    """The picture as a Figure: Route 53 on top, a panel per region, replication between."""
    config = picture.config
    primary, secondary = config.regions
    fig = Figure(figsize=(11, 6.4))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 64)
    ax.axis("off")
    ax.text(50, 63.3, f"{config.prefix} · {config.mode} · as deployed at {picture.checked_at}",
            ha="center", va="top", fontsize=10, color="#424242")

    # Route 53 on top, then an arrow to the region DNS answers with now.
    zone = picture.part("route53/zone")
    _panel(ax, 30, 42.5, 40, 17.5, f"Route 53 · {config.domain}", zone.state != ABSENT)
    check_host = config.regional_host(primary)
    for row, (key, label) in enumerate((
            ("route53/zone", f"hosted zone {config.domain}"),
            ("route53/health-check", f"health check of {check_host}"),
            ("route53/records", f"failover records {config.api_host()}"))):
        _box(ax, 32, 52.6 - row * 4.4, 36, 3.5, label, picture.part(key))
    for region, x in ((primary, 22), (secondary, 78)):
        answers = picture.dns_region == region
        role = "PRIMARY" if region == primary else "SECONDARY"
        live = picture.part("route53/records").state != ABSENT
        ax.add_patch(FancyArrowPatch(
            (50 + (-8 if region == primary else 8), 42.2), (x, 38.6), arrowstyle="-|>",
            mutation_scale=14, linewidth=2.6 if answers else 1, linestyle="-" if answers else "--",
            color=charts.HEALTHY if answers else "#bdbdbd", alpha=1 if live else 0.35))
        label = f"{role}{' · DNS answers here now' if answers else ''}"
        ax.text((50 + x) / 2 + (-12 if region == primary else 12), 41.4, label, ha="center",
                fontsize=8, color=charts.HEALTHY if answers else "#757575",
                fontweight="bold" if answers else "normal", alpha=1 if live else 0.5)

    # One panel per region.
    for region, x, role in ((primary, 2, "primary"), (secondary, 58, "secondary")):
        deployed = any(picture.part(f"{region}/{n}").state != ABSENT
                       for n in ("api", "functions", "table", "website"))
        _panel(ax, x, 2, 40, 36, f"{role} · {region} ({city_label(region)})", deployed)
        _box(ax, x + 2, 29, 36, 4.4, f"API Gateway · {config.prefix}-api, stage prod",
             picture.part(f"{region}/api"))
        _box(ax, x + 2, 22, 36, 4.4, "Lambda · ticket-get, ticket-post, health-check",
             picture.part(f"{region}/functions"))
        table = ("(replica of the global table)" if picture.global_table else "(+ stream)")
        _box(ax, x + 2, 15, 36, 4.4, f"DynamoDB · {config.prefix}-tickets {table}",
             picture.part(f"{region}/table"))
        _box(ax, x + 2, 7, 36, 4.4, f"S3 website · {config.prefix}-ui-…",
             picture.part(f"{region}/website"))

    if picture.global_table:
        _global_table_link(ax)
    else:
        _replicator(ax, picture)

    ax.text(50, 0.6, "faded: not deployed yet · red: deployed but failing its check · "
            "green arrow: where api." + config.domain + " resolves now",
            ha="center", va="bottom", fontsize=7.5, color="#757575")
    return fig


def _global_table_link(ax: Any) -> None:
    """Module 4.1: both tables are replicas of one global table, replicated by DynamoDB
    both ways; the replicator is retired."""
    ax.add_patch(FancyArrowPatch((40, 17.2), (60, 17.2), arrowstyle="<|-|>", mutation_scale=12,
                                 color=charts.HEALTHY, linewidth=1.8))
    ax.text(50, 18.4, "global table", ha="center", va="bottom", fontsize=8,
            fontweight="bold", color=charts.HEALTHY)
    ax.text(50, 16.0, "DynamoDB replicates\nboth ways\n(replicator retired)", ha="center",
            va="top", fontsize=7, color=charts.HEALTHY)


def _replicator(ax: Any, picture: Picture) -> None:
    """Modules 3.2 to 4: the primary's stream -> the replicator -> the secondary's table."""
    replication = picture.part("replication")
    _box(ax, 44, 14.6, 12, 5.2, "Lambda\nreplicator", replication, fontsize=7.5)
    colour = _EDGE[replication.state]
    alpha = 1 if replication.state != ABSENT else 0.35
    for start, end in (((40, 17.2), (44, 17.2)), ((56, 17.2), (60, 17.2))):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12,
                                     color=colour, linewidth=1.6, alpha=alpha))
    lag = ("not deployed yet" if replication.state == ABSENT
           else f"lag {picture.lag_s:.1f} s (real time)" if picture.lag_s is not None
           else "lag unknown")
    ax.text(50, 12.6, f"replication\n{lag}", ha="center", va="top", fontsize=8,
            color=colour, alpha=alpha)


def _panel(ax: Any, x: float, y: float, w: float, h: float, title: str, deployed: bool) -> None:
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.3,rounding_size=1.2",
                                facecolor="#f5f7fb" if deployed else "#fbfbfb",
                                edgecolor="#90a4ae", linewidth=1.2,
                                linestyle="-" if deployed else "--"))
    ax.text(x + w / 2, y + h - 1.2, title, ha="center", va="top", fontsize=9.5,
            fontweight="bold", color="#263238" if deployed else "#9e9e9e")


def _box(ax: Any, x: float, y: float, w: float, h: float, label: str, part: Part,
         fontsize: float = 8.5) -> None:
    absent = part.state == ABSENT
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.2,rounding_size=0.6",
                                facecolor=_FILL[part.state], edgecolor=_EDGE[part.state],
                                linewidth=2 if part.state == UNHEALTHY else 1.2,
                                linestyle="--" if absent else "-", alpha=0.45 if absent else 1))
    mark = {OK: "✓ ", UNHEALTHY: "✗ ", ABSENT: ""}[part.state]
    text_y = y + h / 2 + (0.7 if part.state == UNHEALTHY and part.note else 0)
    ax.text(x + w / 2, text_y, mark + label, ha="center", va="center", fontsize=fontsize,
            color="#9e9e9e" if absent else "#212121")
    if part.state == UNHEALTHY and part.note:
        note = part.note if len(part.note) <= 70 else part.note[:67] + "…"
        ax.text(x + w / 2, y + h / 2 - 1.1, note, ha="center", va="center", fontsize=6.5,
                color=charts.UNHEALTHY)


def show(config: WorkshopConfig | None = None) -> Any:
    """The deployment of the participant now, drawn (a notebook shows the returned Figure);
    when it cannot be looked at (no sandbox, no credentials), one line saying why."""
    from helpers.base.errors import explain

    try:
        return draw(look(config))
    except Exception as exc:
        message = explain(exc)
        if message is None:
            raise
        from IPython.display import HTML

        return HTML(f"<b>Cannot draw the deployment yet:</b> {html.escape(message)}")
