"""One costs table (notebooks 00, 03.3 and 05): every price dated from its AWS page or called
the kit's estimate, the health check priced as AWS prices this check, what bills after the
clean-up, and every cell readable whole in a notebook (helpers.aws.costs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.aws import costs

ROOT = Path(__file__).resolve().parents[2]
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def test_every_price_has_its_date_or_says_it_is_the_kits_estimate():
    for cost in costs.COSTS:
        if cost.price.startswith("not bought"):
            continue  # the domain: no AWS price
        assert cost.source == costs.ESTIMATE or DATE.search(cost.source), cost
    # The dates are the ones docs/aws-sources.md gives for those pages.
    sources = (ROOT / "docs" / "aws-sources.md").read_text()
    costs_section = sources[sources.index("## Costs"):]
    for date in {DATE.search(c.source)[0] for c in costs.COSTS if DATE.search(c.source)}:
        assert date in costs_section, f"{date}: no source row in docs/aws-sources.md's Costs"


def test_the_health_check_is_priced_as_an_aws_endpoint_with_its_two_options():
    check = next(c for c in costs.COSTS if c.resource.startswith("Route 53 health check"))
    assert check.run_usd == costs.HEALTH_CHECK_TOTAL_USD_MONTH == 2.50  # 0.50 + HTTPS + fast
    assert "2.50/month" in check.price
    non_aws = next(c for c in costs.COSTS if "non-AWS" in c.resource)
    assert "4.75/month" in non_aws.price and non_aws.run_usd is None  # shown, not counted
    assert costs.HEALTH_CHECK_NON_AWS_TOTAL_USD_MONTH == 4.75


def test_the_table_totals_one_run_and_says_what_bills_after_clean_up():
    shown = costs.table()
    assert list(shown.columns) == ["price (USD)", "source, as of", "one run (USD)",
                                   "after clean-up"]
    counted = [c.run_usd for c in costs.COSTS if c.run_usd is not None]
    assert shown.loc["total", "one run (USD)"] == f"{sum(counted):.2f}"
    assert costs.run_total() == pytest.approx(sum(counted))
    assert shown.loc["total", "after clean-up"] == "nothing the kit created"
    pitr = next(name for name in shown.index if "PITR" in name)
    assert "table size" in shown.loc[pitr, "price (USD)"]
    assert "35 days" in shown.loc[pitr, "after clean-up"]
    zone = next(name for name in shown.index if "hosted zone" in name)
    assert "12 h" in shown.loc[zone, "price (USD)"]


def test_no_cell_is_cut_in_a_notebook():
    """pandas shows at most 50 characters of a cell (the index, the resource, is whole)."""
    shown = costs.table()
    long = [value for value in shown.to_numpy().ravel() if len(str(value)) > costs.CELL_WIDTH]
    assert long == []
