"""What an AWS-compatible endpoint can do for the workshop, recorded once per endpoint.

AWS and the sandbox run every module. An emulator reached in endpoint mode may
lack a part the workshop relies on; preflight probes each one
(:mod:`helpers.connect.endpoint_probes`) and records the verdicts here, in the workshop
home, per endpoint URL. Every notebook's settings cell
(:func:`helpers.core.state.current_config`) then stops at once, with one sentence,
when its module needs a capability the endpoint lacks, rather than failing deep
inside a request. Which module needs what is the curriculum's ``needs``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePath

from helpers.base.errors import WorkshopError
from helpers.base.paths import workshop_home
from helpers.core import curriculum
from helpers.core.config import WorkshopConfig
from helpers.core.target import CAPABILITY_PROBES, configured_endpoint

# Each capability, as the sentence "this endpoint cannot ..." says it.
CAPABILITIES = {
    "lambda": "run Python 3.12 Lambda functions that import boto3",
    "streams": "run a function triggered by a DynamoDB stream",
    "website": "serve an S3 bucket as a website (its index document at /)",
    "health-checks": "probe the endpoints of Route 53 health checks",
    "dns": "answer DNS queries for Route 53 failover records",
}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    detail: str  # what the probe saw


class EndpointLacksCapability(WorkshopError):
    """The endpoint cannot do what this notebook's module needs; the sentence says what."""


def record_file() -> Path:
    return workshop_home() / "endpoint-capabilities.json"


def _all_recorded() -> dict:
    try:
        return json.loads(record_file().read_text())
    except (FileNotFoundError, ValueError):
        return {}


def record(endpoint: str, verdicts: dict[str, Verdict]) -> None:
    """Save the probes' verdicts for ``endpoint`` (replacing the previous ones)."""
    everything = _all_recorded()
    everything[endpoint] = {
        "checked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "capabilities": {name: {"ok": v.ok, "detail": v.detail} for name, v in verdicts.items()}}
    path = record_file()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(everything, indent=2, sort_keys=True))
    tmp.replace(path)


def recorded(endpoint: str) -> dict[str, Verdict] | None:
    """The verdicts recorded for ``endpoint``, or None when it was never probed."""
    found = _all_recorded().get(endpoint)
    if not found:
        return None
    return {name: Verdict(bool(v["ok"]), str(v["detail"]))
            for name, v in found["capabilities"].items()}


def missing(module_id: str, verdicts: dict[str, Verdict]) -> list[str]:
    """The capabilities ``module_id`` needs that the verdicts deny (unprobed ones pass)."""
    return [name for name in curriculum.module(module_id).needs
            if name in verdicts and not verdicts[name].ok]


def runnable(verdicts: dict[str, Verdict]) -> str:
    """One line: which modules this endpoint can run, and what each of the others lacks."""
    can = [m.id for m in curriculum.CURRICULUM if not missing(m.id, verdicts)]
    cannot = [f"{m.id} ({', '.join(missing(m.id, verdicts))})"
              for m in curriculum.CURRICULUM if missing(m.id, verdicts)]
    line = f"this endpoint can run modules {', '.join(can)}"
    return line + (f"; not {', '.join(cannot)}: use the sandbox or AWS for those" if cannot
                   else "")


def endpoint_url() -> str | None:
    """The endpoint mode's URL (the same variable :mod:`helpers.connect.session` sends boto3 to)."""
    return configured_endpoint()


def require(module_id: str, endpoint: str) -> None:
    """Raise :class:`EndpointLacksCapability` if ``endpoint`` cannot run ``module_id``."""
    verdicts = recorded(endpoint) or {}
    lacking = missing(module_id, verdicts)
    if lacking:
        module = curriculum.module(module_id)
        raise EndpointLacksCapability(
            f"This endpoint ({endpoint}) cannot {' or '.join(CAPABILITIES[n] for n in lacking)}, "
            f"which {module.label} needs: run this notebook in the sandbox (--mode sandbox) or "
            "on AWS (--mode aws).")


def current_notebook() -> str | None:
    """The notebook this kernel runs, as Jupyter names it to the kernel (``JPY_SESSION_NAME``;
    ``workshop run`` sets it too), or None outside a notebook."""
    session = os.environ.get("JPY_SESSION_NAME")
    return PurePath(session).name if session else None


def gate(config: WorkshopConfig) -> None:
    """In endpoint mode, stop a notebook whose module needs what the endpoint lacks."""
    endpoint = endpoint_url()
    notebook = current_notebook()
    module = curriculum.by_notebook(notebook) if notebook else None
    if config.target.supports(CAPABILITY_PROBES) and endpoint and module is not None:
        require(module.id, endpoint)
