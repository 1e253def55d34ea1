"""What notebooks 03.2, 03.3 and 04.1 say about AWS stays true (issue 25's review).

Each misstatement found in review is a phrase that must not come back; each fix is a
statement that must stay, with its source in docs/aws-sources.md. The notebook sources
are read as text (jupytext percent format), so a check needs no kernel.
"""

from __future__ import annotations

import pytest

from helpers.base.paths import REPO_ROOT

SOURCES = REPO_ROOT / "notebook_sources"
AWS_SOURCES = (REPO_ROOT / "docs" / "aws-sources.md").read_text()


def text(notebook: str) -> str:
    """The notebook's words, comment marks and line breaks removed."""
    lines = (SOURCES / f"{notebook}.py").read_text().splitlines()
    return " ".join(line.removeprefix("#").strip() for line in lines)


# (notebook, a phrase that was untrue, why)
RETRACTED = [
    ("03.2-replicate-data", "only those are retried",
     "Lambda retries every record from the lowest failed one, not only the failed ones"),
    ("04.1-global-tables", "takes the first half",
     "the kit does not follow AWS's CloudFormation route; it says so"),
    ("04.1-global-tables", "lag and RPO measured above",
     "in the sandbox the global table's lag is modelled"),
    ("03.3-route53-failover", "until Route 53 calls the primary healthy",
     "a new check is healthy from its creation"),
]

# (notebook, a statement that must stay, the page docs/aws-sources.md cites for it)
STATED = [
    ("03.2-replicate-data", "retries every record from there",
     "services-ddb-batchfailurereporting.html"),
    ("03.3-route53-failover", "considers a new health check healthy until it has enough data",
     "dns-failover-determining-health-of-endpoints.html"),
    ("03.3-route53-failover", "failover.health_check_settings(config)",
     "API_HealthCheckConfig.html"),
    ("04.1-global-tables", "stays in its API stack as a plain table",
     "globaltables-bestpractices.html"),
    ("04.1-global-tables", "Tutorial: Creating a global table", "V2globaltables.tutorial.html"),
    ("04.1-global-tables", "the secondary has no table", "API_UpdateTable.html"),
]


@pytest.mark.parametrize(("notebook", "phrase", "why"), RETRACTED)
def test_a_retracted_claim_does_not_come_back(notebook, phrase, why):
    assert phrase not in text(notebook), f"{notebook} says {phrase!r} again: {why}"


@pytest.mark.parametrize(("notebook", "phrase", "page"), STATED)
def test_a_corrected_claim_stays_with_its_source(notebook, phrase, page):
    assert phrase in text(notebook), f"{notebook} no longer says {phrase!r}"
    assert page in AWS_SOURCES, f"docs/aws-sources.md no longer cites {page}"


def test_04_1_cites_no_legacy_global_table_page_for_the_current_version():
    assert "CreateGlobalTable" not in text("04.1-global-tables")
