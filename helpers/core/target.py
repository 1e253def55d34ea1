"""The mode as an object: everything that differs between the sandbox, AWS and an endpoint.

The settings name a mode (``sandbox``, ``aws`` or ``endpoint``); :func:`for_mode`
turns the name into its :class:`Target`, and every per-mode decision is the
target's:

* where boto3 sends requests (:meth:`Target.endpoint_url`), with which
  credentials (:meth:`Target.session_arguments`), and whether S3 Control's
  host names the account (:attr:`Target.account_in_host`);
* how HTTP and DNS reach the deployed app (:meth:`Target.request`,
  :meth:`Target.resolver`) and the clock's scale (:meth:`Target.time_scale`),
  which :mod:`helpers.connect.net` uses;
* what a learner opens in their own browser (:meth:`Target.browser_url`): on AWS the
  real URL, in the sandbox its name under ``.localhost`` (no proxy needed);
* what the mode supports (:meth:`Target.supports`): the sandbox's control
  endpoints (the drill's region outage), a sandbox process on this machine
  (started by ``workshop run``, shared by a rehearsed room), a scaled clock (the
  run index says so), probed capabilities (preflight's extra checks, the
  notebooks' gate), a modelled global-table replication (its lag is called modelled).

This is the one module that knows the modes by name
(``tests/unit/test_mode_seam.py``): the others ask ``config.target`` or
:func:`helpers.connect.session.current_target`. It reads the sandbox's status file
(:mod:`helpers.sandbox.process`), the sandbox's names for a browser
(:mod:`helpers.sandbox.localhost_names`) and an emulator's URL forms
(:mod:`helpers.core.endpoint_urls`), none of which imports anything above
:mod:`helpers.base.paths`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from helpers.base.errors import WorkshopError

if TYPE_CHECKING:
    import requests

# dnspython, requests and the modules that reach the sandbox and an emulator are imported
# where a target uses them: the settings (helpers.core.config) import this module, and stay
# light to import.

# What a target may support (Target.supports):
SANDBOX_CONTROL = "sandbox-control"  # /_sandbox/*: a region's outage on request, stream counters
LOCAL_SANDBOX = "local-sandbox"  # a sandbox process on this machine, found by its status file
SCALED_CLOCK = "scaled-clock"  # health checks and TTLs run on a scaled clock (time_scale)
CAPABILITY_PROBES = "capability-probes"  # what it can run is probed; modules it cannot stop
# A global table's replication is a model (one inter-region round trip after each write), not
# DynamoDB's: a lag measured on it is a modelled figure, and says so.
MODELLED_GLOBAL_TABLES = "modelled-global-tables"

ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
DNS_PORT = 53
SANDBOX_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# A file with an IAM user's access key (``workshop iam-policy --create-user`` writes it): the
# sandbox's clients sign with it instead, and the sandbox holds them to the user's policies.
SANDBOX_CREDENTIALS_VARIABLE = "WORKSHOP_SANDBOX_CREDENTIALS"

Answer = tuple[tuple[str, ...], int, tuple[str, ...]]  # records, lowest TTL, addresses
Addresses = Callable[[str], tuple[str, ...]]  # a host's addresses, as a client resolves it


class ModeError(WorkshopError):
    """The chosen mode cannot be used as configured."""


class Resolver:
    """Where a client's DNS questions go: a DNS server ``(host, port)``, or the system's
    resolver (None); and the port a hosted zone's own name servers answer on."""

    def __init__(self, server: tuple[str, int] | None = None,
                 name_server_port: int = DNS_PORT) -> None:
        self.server = server
        self.name_server_port = name_server_port

    def ask(self, name: str, rdtype: str = "A") -> Answer:
        """``name`` resolved: its records in answer order, the lowest TTL, its addresses."""
        if self.server is not None:
            from helpers.core import endpoint_urls

            return endpoint_urls.ask(self.server, name, rdtype)
        import dns.rdatatype
        import dns.resolver

        answer = dns.resolver.resolve(name, rdtype)
        records = tuple(r.to_text() for rrset in answer.response.answer for r in rrset)
        addresses = tuple(r.to_text() for r in answer if answer.rdtype == dns.rdatatype.A)
        return records, answer.rrset.ttl if answer.rrset else 0, addresses


class Target:
    """One mode; what the subclasses leave as is, the modes share."""

    name: str  # the mode's name, as the settings spell it
    label: str  # as the settings form offers it
    features: frozenset[str] = frozenset()
    account_in_host = False  # S3 Control's host names the account (``<account>.s3-control…``)

    def supports(self, feature: str) -> bool:
        """Whether this mode has ``feature`` (one of this module's feature names)."""
        return feature in self.features

    def endpoint_url(self) -> str | None:
        """Where boto3 sends requests, or None for real AWS."""
        return None

    def session_arguments(self, profile: str | None) -> dict[str, Any]:
        """What a boto3 session is made with (``profile`` is ``AWS_PROFILE``)."""
        return {}

    def time_scale(self) -> float:
        """The clock's scale: 1.0 unless the sandbox runs time faster."""
        return 1.0

    def resolver(self) -> Resolver:
        """Where DNS questions about the workshop's public names go."""
        return Resolver()

    def request(self, method: str, url: str, addresses: Addresses,
                **kwargs: Any) -> requests.Response:
        """An HTTP request to a public URL, as this mode reaches it (``addresses`` resolves
        a host as a client would, cache included)."""
        import requests

        return requests.request(method, url, **kwargs)

    def browser_url(self, url: str) -> str:
        """What a learner opens in their own browser, with no proxy or other set-up, to
        reach the public URL ``url`` (a website endpoint): on AWS the URL itself."""
        return url

    def __repr__(self) -> str:
        return f"<{self.name} target>"


class Aws(Target):
    """Real AWS: the account of ``AWS_PROFILE`` (or the default credentials)."""

    name = "aws"
    label = "aws (your account, billable)"
    account_in_host = True

    def session_arguments(self, profile: str | None) -> dict[str, Any]:
        return {"profile_name": profile}


class Sandbox(Target):
    """The embedded sandbox: its endpoint, DNS server and loopback listeners."""

    name = "sandbox"
    label = "sandbox (offline, free)"
    features = frozenset({SANDBOX_CONTROL, LOCAL_SANDBOX, SCALED_CLOCK, MODELLED_GLOBAL_TABLES})

    @staticmethod
    def _status() -> dict[str, Any]:
        from helpers.sandbox.process import require_status

        return require_status()

    def endpoint_url(self) -> str | None:
        return self._status()["endpoint_url"]

    def session_arguments(self, profile: str | None) -> dict[str, Any]:
        found = os.environ.get(SANDBOX_CREDENTIALS_VARIABLE)
        if not found:
            return dict(SANDBOX_CREDENTIALS)
        try:
            changed = os.stat(found).st_mtime_ns
        except OSError:
            changed = 0  # _credentials_file says what is wrong
        return dict(_credentials_file(found, changed))

    def time_scale(self) -> float:
        return float(self._status()["time_scale"])

    def resolver(self) -> Resolver:
        box = self._status()
        # Through the caching resolver, as a learner's machine resolves (a sandbox started
        # before it existed has only the authoritative server). The zones' name servers
        # resolve to the authoritative server, on a port of its own instead of 53 (as its
        # listeners stand in for 443).
        server = box.get("resolver") or box["dns"]
        return Resolver((server["host"], server["port"]), box["dns"]["port"])

    def request(self, method: str, url: str, addresses: Addresses,
                **kwargs: Any) -> requests.Response:
        import requests

        from helpers.sandbox import localhost_names

        parts = urlsplit(url)
        host = parts.hostname or ""
        if localhost_names.public_name(host) is not None:
            # A browser's name for the sandbox (browser_url): it resolves to loopback by
            # itself, and the sandbox's front on 127.0.0.1 resolves the rest.
            address, port, named = "127.0.0.1", parts.port or 80, parts.netloc
        else:
            found = addresses(host)
            if not found:
                raise requests.ConnectionError(f"{host} does not resolve (no A record)")
            address, port, named = found[0], self._status()["http_port"], host
        # Plain HTTP on loopback stands in for HTTPS; the Host header keeps the name.
        local = urlunsplit(("http", f"{address}:{port}", parts.path or "/", parts.query, ""))
        headers = {**kwargs.pop("headers", {}), "Host": named}
        return requests.request(method, local, headers=headers, **kwargs)


    def browser_url(self, url: str) -> str:
        """The sandbox's names resolve only in its own DNS; a browser reaches them under
        ``.localhost`` on the sandbox's HTTP port, ``https`` as ``http``
        (:mod:`helpers.sandbox.localhost_names`):
        ``http://<bucket>.s3-website-<region>.amazonaws.com.localhost:<port>/``."""
        from helpers.sandbox import localhost_names

        return localhost_names.browser_url(url, int(self._status()["http_port"]))


class Endpoint(Target):
    """Another AWS-compatible endpoint (``AWS_ENDPOINT_URL``, e.g. an emulator)."""

    name = "endpoint"
    label = f"endpoint ({ENDPOINT_VARIABLE})"
    features = frozenset({CAPABILITY_PROBES})

    def endpoint_url(self) -> str | None:
        url = configured_endpoint()
        if not url:
            raise ModeError(f"mode {self.name!r} needs {ENDPOINT_VARIABLE}, e.g. "
                            "http://localhost:4566")
        return url

    def resolver(self) -> Resolver:
        """The emulator's own DNS server if it has one (its zones), else the system's."""
        from helpers.core import endpoint_urls

        return Resolver(endpoint_urls.dns_server(self.endpoint_url()))

    def request(self, method: str, url: str, addresses: Addresses,
                **kwargs: Any) -> requests.Response:
        """The URL forms the emulator serves (:mod:`helpers.core.endpoint_urls`)."""
        from helpers.core import endpoint_urls

        endpoint = self.endpoint_url()
        assert endpoint is not None
        return endpoint_urls.request(endpoint, method, url, **kwargs)


TARGETS: dict[str, Target] = {t.name: t for t in (Sandbox(), Aws(), Endpoint())}
MODES = tuple(TARGETS)  # the valid names of a mode, the default first


@functools.lru_cache(maxsize=16)
def _credentials_file(path: str, changed: int = 0) -> dict[str, str]:
    """The access key in ``path`` (JSON: ``aws_access_key_id``, ``aws_secret_access_key``;
    ``changed``: its modification time, so a rewritten file is read again)."""
    import json
    from pathlib import Path

    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
        return {name: str(values[name]) for name in SANDBOX_CREDENTIALS}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModeError(f"{SANDBOX_CREDENTIALS_VARIABLE}={path} is not a credentials file "
                        f"({type(exc).__name__}: {exc}): write one with `workshop iam-policy "
                        "--create-user`, or unset the variable to act as the sandbox's "
                        "administrator") from None


def mode_problem(mode: str) -> str | None:
    """Why ``mode`` is not a mode, or None if it is one."""
    if mode in TARGETS:
        return None
    return f"unknown mode {mode!r}: choose one of {', '.join(MODES)}"


def for_mode(mode: str) -> Target:
    """The target of the mode named ``mode``; :class:`ModeError` if there is none."""
    problem = mode_problem(mode)
    if problem:
        raise ModeError(problem)
    return TARGETS[mode]


def choices() -> list[tuple[str, str]]:
    """``(label, mode)`` for each mode, as a form offers them."""
    return [(t.label, t.name) for t in TARGETS.values()]


def configured_endpoint() -> str | None:
    """The endpoint mode's URL (``AWS_ENDPOINT_URL``), or None when it is not set."""
    return os.environ.get(ENDPOINT_VARIABLE) or None
