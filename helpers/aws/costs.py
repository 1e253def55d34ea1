"""What the workshop costs on AWS: each price and its date, and what bills after clean-up.

One table, :func:`table`, shown in notebooks 00 (before anything is created), 03.3
(where the monthly items are created) and 05 (after the clean-up). Every price is
either a figure from AWS's pricing pages with the date it was taken from them, or
marked as the kit's estimate where the kit could not read it from an AWS page; the
sources are rows of ``docs/aws-sources.md`` ("Costs"). In the sandbox nothing is billed:
the table says what the same run would cost on AWS.

The Route 53 health check is priced as an *AWS endpoint* check: its endpoint,
``<city>.<domain>``, is an API Gateway Regional custom domain in the participant's own
account, and Route 53's pricing page prices health checks of resources within AWS in
the same account as AWS-endpoint checks; the non-AWS price is shown beside it in case
Route 53 counts a check by domain name otherwise. Monthly items are counted as a full
month, an upper bound (the sources do not say how a check deleted after a few hours
is billed).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers.aws.replication_methods import PRICE_AS_OF as DYNAMODB_PRICES_SINCE
from helpers.aws.replication_methods import REPLICATED_WRITE_USD_PER_MILLION
from helpers.base.tables import whole

ROUTE53_PRICES_AS_OF = "2026-09-20"  # the Route 53 pricing page, as transcribed that day
LAMBDA_PRICES_AS_OF = "2026-09-20"  # the Lambda pricing page, as transcribed that day
ESTIMATE = "the kit's estimate"  # a figure the kit could not read from an AWS page

HOSTED_ZONE_USD_MONTH = 0.50  # each of the first 25 zones; not prorated; free within 12 h
# A basic check of an AWS endpoint, then each option the kit's check uses (HTTPS; the
# 10 s "fast" interval). Non-AWS endpoints: 0.75 basic, 2.00 per option.
HEALTH_CHECK_USD_MONTH = {"basic": 0.50, "HTTPS": 1.00, "fast interval": 1.00}
HEALTH_CHECK_NON_AWS_USD_MONTH = {"basic": 0.75, "HTTPS": 2.00, "fast interval": 2.00}
HEALTH_CHECK_TOTAL_USD_MONTH = sum(HEALTH_CHECK_USD_MONTH.values())
HEALTH_CHECK_NON_AWS_TOTAL_USD_MONTH = sum(HEALTH_CHECK_NON_AWS_USD_MONTH.values())
PITR_USD_PER_GB_MONTH = 0.20  # US East; the kit's estimate (DynamoDB bills it by table size)
CELL_WIDTH = 50  # pandas shows at most this many characters of a cell


@dataclass(frozen=True)
class Cost:
    """One line of the bill."""

    resource: str
    price: str  # in USD, as the pricing page states it
    source: str  # the page and the date the price was taken from it, or ESTIMATE
    run_usd: float | None  # one participant's run, cleaned up the same day; None: not counted
    after_cleanup: str  # what still bills once notebook 05 has run


def _health_check_price(parts: dict[str, float]) -> str:
    total = sum(parts.values())
    return " + ".join(f"{usd:.2f}" for usd in parts.values()) + f" = {total:.2f}/month"


_ROUTE53 = f"Route 53 pricing, {ROUTE53_PRICES_AS_OF}"
_NOTHING = "nothing: notebook 05 deletes it"

COSTS: tuple[Cost, ...] = (
    Cost("Route 53 hosted zone (if the kit creates it)",
         f"{HOSTED_ZONE_USD_MONTH:.2f}/month; none if deleted within 12 h", _ROUTE53, 0.0,
         "nothing (a zone you brought: 0.50/month, yours)"),
    Cost("Route 53 health check: HTTPS, 10 s interval (AWS endpoint: basic + HTTPS + fast)",
         _health_check_price(HEALTH_CHECK_USD_MONTH), _ROUTE53, HEALTH_CHECK_TOTAL_USD_MONTH,
         _NOTHING),
    Cost("  the same check, were it billed as a non-AWS endpoint",
         _health_check_price(HEALTH_CHECK_NON_AWS_USD_MONTH), _ROUTE53, None, _NOTHING),
    Cost("Route 53 DNS queries", "0.40 per million", _ROUTE53, 0.0, "nothing"),
    Cost("ACM public certificates (four)", "free", ESTIMATE, 0.0, _NOTHING),
    # The health checkers call /health about 1.5 times a second at the 10 s interval (AWS:
    # a request every two seconds on average at 30 s): some 16,000 in three hours.
    Cost("API Gateway REST requests (about 20,000, the health checkers' included)",
         "3.50 per million", ESTIMATE, 0.07, _NOTHING),
    Cost("Lambda requests and duration", "free tier: 1M requests, 400,000 GB-s/month",
         f"Lambda pricing, {LAMBDA_PRICES_AS_OF}", 0.0, _NOTHING),
    Cost("DynamoDB on-demand writes and reads", "0.625 / 0.125 per million units", ESTIMATE,
         0.01, _NOTHING),
    Cost("DynamoDB point-in-time recovery (PITR), both tables",
         f"{PITR_USD_PER_GB_MONTH:.2f} per GB-month of table size", ESTIMATE, 0.0,
         "nothing; a free backup is kept 35 days"),
    Cost("DynamoDB global table replicated writes (04.1)",
         f"{REPLICATED_WRITE_USD_PER_MILLION} per million write units",
         f"DynamoDB pricing, since {DYNAMODB_PRICES_SINCE}", 0.0, _NOTHING),
    Cost("DynamoDB Streams read by the replicator (Lambda)", "free for a Lambda trigger",
         ESTIMATE, 0.0, _NOTHING),
    Cost("S3 website and artifacts buckets", "0.023 per GB-month + requests", ESTIMATE, 0.01,
         _NOTHING),
    Cost("SQS on-failure queue", "first 1 million requests a month free", ESTIMATE, 0.0,
         _NOTHING),
    Cost("CloudWatch Logs of the functions", "0.50 per GB ingested", ESTIMATE, 0.01, _NOTHING),
    Cost("Domain name", "not bought by the kit: bring your own", "", 0.0,
         "yours: its registration, as before"),
)


def run_total() -> float:
    """One participant's run on AWS, cleaned up the same day, in USD (the counted lines)."""
    return round(sum(c.run_usd for c in COSTS if c.run_usd is not None), 2)


def table() -> pd.DataFrame:
    """The bill of one participant's run on AWS, cleaned up the same day (sandbox: nothing).

    Columns: the price (USD) as AWS states it, where it comes from and when, the kit's
    figure for one run (monthly items counted as a full month), and what still bills
    after notebook 05.
    """
    rows = [(c.resource, c.price, c.source,
             "not counted" if c.run_usd is None else f"{c.run_usd:.2f}", c.after_cleanup)
            for c in COSTS]
    rows.append(("total", "notebook 05 the same day as notebook 03.3", "",
                 f"{run_total():.2f}", "nothing the kit created"))
    return whole(pd.DataFrame(rows, columns=["resource", "price (USD)", "source, as of",
                                             "one run (USD)", "after clean-up"]
                              ).set_index("resource"))
