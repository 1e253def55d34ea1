"""HTTP and DNS towards the workshop's public names (API, website, custom domains).

On AWS these are plain HTTPS requests and the system resolver. In the sandbox
the same names are answered by the sandbox's DNS server and served over plain
HTTP by its per-region loopback listeners. In endpoint mode the names go to the
URL forms the emulator serves, and DNS to its DNS server if it has one
(:mod:`helpers.core.endpoint_urls`). Which of these applies is the mode's target's
(:meth:`helpers.core.target.Target.resolver`, :meth:`~helpers.core.target.Target.request`);
this module keeps what every mode shares: the answers, the client's cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import dns.resolver
import requests

from helpers.base.polling import wait_until  # noqa: F401 - the name the tests call
from helpers.connect.session import current_target
from helpers.core.target import SCALED_CLOCK
from helpers.sandbox.clock import REAL, SCALED, Clock, ClockName

TIMEOUT_S = 10


@dataclass(frozen=True)
class DnsAnswer:
    name: str
    records: tuple[str, ...]  # CNAME targets / addresses, in answer order
    ttl: int
    addresses: tuple[str, ...]


def resolve(name: str, rdtype: str = "A") -> DnsAnswer:
    """Resolve a public name as a client would: through its caching resolver (the
    sandbox's, in sandbox mode), so a name asked for before it existed stays NXDOMAIN
    for the zone's negative TTL."""
    return DnsAnswer(name, *current_target().resolver().ask(name, rdtype))


def resolve_at(name: str, name_server: str, rdtype: str = "A") -> DnsAnswer:
    """Ask one name server directly, as ``dig @<name_server>`` does: a hosted zone's own
    name server (``ns-….awsdns-…``) gives Route 53's answer now, with no cache between.

    The server's address comes from :func:`resolve`; in the sandbox its name servers
    resolve to the sandbox's authoritative DNS server, which listens on a port of its own
    instead of 53 (as its listeners stand in for 443).
    """
    addresses = resolve(name_server).addresses
    if not addresses:
        raise dns.resolver.NoNameservers(f"the name server {name_server} does not resolve")
    port = current_target().resolver().name_server_port
    query = dns.message.make_query(name, rdtype)
    query.flags &= ~dns.flags.RD  # an authoritative question: no recursion asked for
    return _answer(name, dns.query.udp(query, addresses[0], port=port, timeout=2))


def _answer(name: str, response: dns.message.Message) -> DnsAnswer:
    records: list[str] = []
    addresses: list[str] = []
    ttl = 0
    for rrset in response.answer:
        ttl = rrset.ttl if not records else min(ttl, rrset.ttl)
        for rdata in rrset:
            records.append(rdata.to_text())
            if rrset.rdtype == dns.rdatatype.A:
                addresses.append(rdata.to_text())
    return DnsAnswer(name, tuple(records), ttl, tuple(addresses))


# Like a stub resolver, a client keeps an answer until its TTL runs out, so a
# DNS change reaches it only then (the delay a failover adds on top of detection).
_cache: dict[str, tuple[DnsAnswer, float]] = {}


def resolve_cached(name: str) -> DnsAnswer:
    now = time.monotonic()
    hit = _cache.get(name)
    if hit and hit[1] > now:
        return hit[0]
    answer = resolve(name)
    if answer.addresses and answer.ttl > 0:
        _cache[name] = (answer, now + answer.ttl)
    return answer


def request(method: str, url: str, **kwargs: Any) -> requests.Response:
    """An HTTP request to a public URL, reaching the sandbox's listeners in sandbox mode."""
    kwargs.setdefault("timeout", TIMEOUT_S)
    return current_target().request(method, url, lambda host: resolve_cached(host).addresses,
                                    **kwargs)


def time_scale() -> float:
    """The sandbox's clock scale (1.0 on AWS): charts and reports state it."""
    return current_target().time_scale()


def clock() -> Clock:
    """The account's clock: AWS's own on AWS, the sandbox's in the sandbox
    (:mod:`helpers.sandbox.clock`: which durations are scaled, which in real time)."""
    target = current_target()
    return Clock(target.time_scale(), sandbox=target.supports(SCALED_CLOCK))


def duration(seconds: float, clock_name: ClockName = SCALED, digits: int = 1,
             modelled: str | None = None) -> str:
    """A duration measured here, said for a learner on this mode's clock: scaled ones with
    their AWS figure, real-time ones as such, and what the sandbox models called modelled
    (:func:`helpers.sandbox.clock.describe`, the kit's one formatter)."""
    return clock().say(seconds, clock_name, digits, modelled)


def real_time(seconds: float, digits: int = 1, modelled: str | None = None) -> str:
    """A duration that ran in real time (a replication lag): :func:`duration` on ``REAL``."""
    return duration(seconds, REAL, digits, modelled)
