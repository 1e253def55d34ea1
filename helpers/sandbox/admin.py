"""Client side of the sandbox's own control endpoints (sandbox mode only).

The sandbox answers a few requests that AWS has no equivalent for, on its
control-plane endpoint:

* ``/_sandbox/regions[/<region>]`` (:mod:`helpers.sandbox.http_front`): switch a
  whole region's HTTP side off and on, to play a regional outage;
* ``/_sandbox/streams`` (:mod:`helpers.sandbox.streams`): counters of every
  DynamoDB Streams event source mapping, for benchmarks.

Each function here says plainly when it is called outside sandbox mode
instead of doing nothing: no one can switch off an AWS region.
"""

from __future__ import annotations

from typing import Any

import requests

from helpers.errors import WorkshopError
from helpers.session import current_target, endpoint_url
from helpers.target import SANDBOX_CONTROL

TIMEOUT_S = 15


class NotInSandbox(WorkshopError):
    """A sandbox-only operation was asked for in ``aws`` or ``endpoint`` mode."""


def _base(what: str) -> str:
    target = current_target()
    if not target.supports(SANDBOX_CONTROL):
        raise NotInSandbox(
            f"{what} is played by the sandbox and is not available on AWS (mode "
            f"{target.name!r}): no one can switch off an AWS region on request. Use another "
            "scenario there, or run this against the sandbox (--mode sandbox)")
    url = endpoint_url()
    assert url is not None  # sandbox mode always has one
    return url


def set_region_available(region: str, available: bool) -> dict[str, Any]:
    """Start (``available=False``) or end a whole-region outage of ``region``'s HTTP side.

    While it lasts, every public name served by the region (its APIs, custom
    domains, website) refuses connections, so health checks fail and clients
    see "connection refused". The region's control plane (DynamoDB, Lambda,
    streams) keeps running. Returns the sandbox's view of the region.
    """
    base = _base("a whole-region outage")
    response = requests.put(f"{base}/_sandbox/regions/{region}", json={"available": available},
                            timeout=TIMEOUT_S)
    if response.status_code != 200:
        raise RuntimeError(f"the sandbox refused to set {region} available={available}: "
                           f"HTTP {response.status_code} {response.text[:200]}")
    return response.json()


def regions_available() -> dict[str, bool]:
    """``{region: available}`` for every sandbox region."""
    base = _base("the region outage switch")
    response = requests.get(f"{base}/_sandbox/regions", timeout=TIMEOUT_S)
    response.raise_for_status()
    return response.json()


def stream_mappings() -> dict[str, dict[str, Any]]:
    """Counters per event source mapping UUID: ``records``, ``batches``, ``failures``, ..."""
    base = _base("event source mapping counters")
    response = requests.get(f"{base}/_sandbox/streams", timeout=TIMEOUT_S)
    response.raise_for_status()
    return response.json()
