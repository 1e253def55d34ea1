"""The architecture picture, drawn from a given state (no AWS)."""

from __future__ import annotations

from helpers.core.config import WorkshopConfig
from helpers.views import architecture as arch

CONFIG = WorkshopConfig(mode="sandbox", prefix="alice", domain="example.com")
PRIMARY, SECONDARY = CONFIG.regions


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


def _box(fig, label: str):
    """The box drawn behind the text that starts with or contains ``label``."""
    ax = fig.axes[0]
    text = next(t for t in ax.texts if label in t.get_text())
    x, y = text.get_position()
    return next(p for p in reversed(ax.patches) if p.get_window_extent().contains(
        *ax.transData.transform((x, y))))


def test_nothing_deployed_is_all_faded_and_replication_not_deployed():
    fig = arch.draw(arch.Picture(CONFIG, checked_at="12:00:00 UTC"))
    assert "replication\nnot deployed yet" in _texts(fig)
    assert not any(t.startswith(("✓", "✗")) for t in _texts(fig))
    assert _box(fig, "hosted zone").get_alpha() < 1


def test_a_full_deployment_marks_health_lag_and_where_dns_answers():
    ok = arch.Part(arch.OK)
    parts = {f"{r}/{n}": ok for r in CONFIG.regions for n in ("api", "functions", "table",
                                                                "website")}
    parts |= {"replication": ok, "route53/zone": ok, "route53/health-check": ok,
              "route53/records": ok}
    parts[f"{PRIMARY}/api"] = arch.Part(arch.UNHEALTHY, "bad deploy")
    fig = arch.draw(arch.Picture(CONFIG, parts, lag_s=0.25, dns_region=SECONDARY,
                                 checked_at="12:00:00 UTC"))
    texts = _texts(fig)
    assert ("replication\nlag 0.2 s (real time)" in texts
            or "replication\nlag 0.3 s (real time)" in texts)
    assert "SECONDARY · DNS answers here now" in texts and "PRIMARY" in texts
    assert "✗ API Gateway · alice-api, stage prod" in texts and "bad deploy" in texts
    assert "✓ hosted zone example.com" in texts
    red, green = _box(fig, "✗ API Gateway"), _box(fig, "✓ Lambda")
    assert red.get_edgecolor()[:3] != green.get_edgecolor()[:3]


def test_after_module_4_1_a_global_table_link_replaces_the_retired_replicator():
    ok = arch.Part(arch.OK)
    parts = {f"{r}/{n}": ok for r in CONFIG.regions for n in ("api", "functions", "table",
                                                                "website")}
    parts |= {"replication": ok, "route53/zone": ok, "route53/health-check": ok,
              "route53/records": ok}
    fig = arch.draw(arch.Picture(CONFIG, parts, dns_region=PRIMARY, checked_at="12:00:00 UTC",
                                 global_table=True))
    texts = _texts(fig)
    assert "global table" in texts
    assert "replication\nnot deployed yet" not in texts
    assert not any(t.endswith("Lambda\nreplicator") for t in texts)
    assert texts.count("✓ DynamoDB · alice-tickets (replica of the global table)") == 2
