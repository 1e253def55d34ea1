"""Validated workshop settings: mode, regions, domain and participant prefix.

Every check returns a sentence that says what is wrong and what is expected,
so a widget can show it beside its field and the CLI can print it as is.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from helpers.base.errors import WorkshopError
from helpers.base.regions import CITY_LABELS, DEFAULT_PRIMARY, DEFAULT_SECONDARY
from helpers.core.target import MODES, Target, for_mode, mode_problem  # noqa: F401 - MODES: the names, as before

DEFAULT_PREFIX = "wildrydes"
DEFAULT_DOMAIN = "example.com"  # reserved for documentation (RFC 2606): safe in the sandbox

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")


class ConfigError(WorkshopError, ValueError):
    """A setting a learner typed is not usable; the message says how to fix it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def domain_problem(domain: str) -> str | None:
    """Why ``domain`` is not a usable DNS name, or None if it is."""
    if not domain:
        return "enter a domain name, e.g. example.com"
    if "://" in domain or "/" in domain:
        return (f"{domain!r} looks like a URL: enter only the domain name, "
                "e.g. example.com (no https:// and no path)")
    if domain != domain.strip():
        return "remove the spaces around the domain name"
    if domain != domain.lower():
        return f"use lowercase letters: {domain.lower()!r}"
    if domain.endswith("."):
        return f"leave out the trailing dot: {domain.rstrip('.')!r}"
    if len(domain) > 253:
        return "a domain name has at most 253 characters"
    labels = domain.split(".")
    if len(labels) < 2:
        return (f"{domain!r} has no top-level domain: use a full name you control, "
                f"such as {domain}.example.com")
    for label in labels:
        if not _LABEL.match(label):
            return (f"{label!r} is not a valid part of a domain name: use letters a-z, digits "
                    "and '-' (not at the start or end), 1-63 characters per part")
    if labels[-1].isdigit():
        return f"{domain!r} looks like an IP address: enter a domain name"
    return None


def region_problem(region: str, role: str) -> str | None:
    if region in CITY_LABELS:
        return None
    close = [r for r in CITY_LABELS if r.replace("-", "") == region.replace("-", "").lower()
             or r.startswith(region.lower()[:6])]
    hint = f" Did you mean {close[0]}?" if close else ""
    return (f"{region!r} is not a region this kit knows for the {role} region "
            f"(use a code such as {DEFAULT_PRIMARY} or {DEFAULT_SECONDARY}).{hint}")


def prefix_problem(prefix: str) -> str | None:
    if _PREFIX.match(prefix):
        return None
    return (f"{prefix!r} is not a usable participant prefix: 3-20 characters, lowercase letters, "
            "digits and '-', starting with a letter and not ending with '-'")


@dataclass(frozen=True)
class WorkshopConfig:
    mode: str = "sandbox"  # every per-mode decision is its target's (.target)
    primary_region: str = DEFAULT_PRIMARY
    secondary_region: str = DEFAULT_SECONDARY
    domain: str = DEFAULT_DOMAIN
    prefix: str = DEFAULT_PREFIX
    # Create a public hosted zone when the domain has none (billable on AWS; the
    # registrar must then delegate to it). Never registers a domain.
    create_zone: bool = True

    def __post_init__(self) -> None:
        for field, problem in self.problems().items():
            raise ConfigError(field, problem)

    def problems(self) -> dict[str, str]:
        """Every invalid field with its message (empty when the config is usable)."""
        found: dict[str, str] = {}
        if problem := mode_problem(self.mode):
            found["mode"] = problem
        for field, role in (("primary_region", "primary"), ("secondary_region", "secondary")):
            problem = region_problem(getattr(self, field), role)
            if problem:
                found[field] = problem
        if "secondary_region" not in found and self.primary_region == self.secondary_region:
            found["secondary_region"] = (
                f"the secondary region must differ from the primary ({self.primary_region}): "
                "failover needs two regions")
        if problem := domain_problem(self.domain):
            found["domain"] = problem
        if problem := prefix_problem(self.prefix):
            found["prefix"] = problem
        return found

    @property
    def target(self) -> Target:
        """The mode as an object: what it supports, where it reaches (`core.target`)."""
        return for_mode(self.mode)

    @property
    def regions(self) -> tuple[str, str]:
        return (self.primary_region, self.secondary_region)

    def label(self, region: str) -> str:
        """The regional subdomain label, e.g. ``ireland``."""
        return CITY_LABELS[region]

    def api_host(self) -> str:
        return f"api.{self.domain}"

    def regional_host(self, region: str) -> str:
        return f"{self.label(region)}.{self.domain}"

    def stack_name(self, kind: str) -> str:
        return f"{self.prefix}-{kind}"

    def describe(self) -> str:
        """One line a learner can check at the top of each notebook."""
        return (f"{self.mode} mode · participant {self.prefix} · primary {self.primary_region} "
                f"({self.label(self.primary_region)}) · secondary {self.secondary_region} "
                f"({self.label(self.secondary_region)}) · domain {self.domain}")

    def as_dict(self) -> dict[str, str | bool]:
        return asdict(self)
