"""What the failover modules share: Route 53's client, the learner's error, the state key."""

from __future__ import annotations

from typing import Any

from helpers.base.errors import WorkshopError
from helpers.base.regions import ROUTE53_REGION
from helpers.connect.session import client
from helpers.core import state
from helpers.core.config import WorkshopConfig

STAGE = "prod"  # the API stage the custom domains map to and module 4 redeploys

class FailoverSetupError(WorkshopError):
    """A failover step cannot go on; the message says what the learner should do."""


def route53() -> Any:
    return client("route53", ROUTE53_REGION)


def bare_zone_id(raw: str) -> str:
    """``/hostedzone/Z123`` -> ``Z123``, as record changes and alias targets take it."""
    return raw.rsplit("/", 1)[-1]


def remember(config: WorkshopConfig, **values: Any) -> None:
    """Keep what was found or created under ``failover`` in the state (for status and display)."""
    state.update(config.prefix, failover=values)
