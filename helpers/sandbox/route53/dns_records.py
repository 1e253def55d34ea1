"""The sandbox's public DNS data: Route 53 hosted zones plus AWS's own service names.

:class:`Resolver` answers a question (name, type) the way a client sees it
through a recursive resolver in front of Route 53:

* **AWS service names** resolve to the loopback address that plays their
  region (:func:`helpers.base.regions.sandbox_ip`): ``{api}.execute-api.{region}.amazonaws.com``
  (API Gateway, including a custom domain's regional target
  ``d-xxxx.execute-api.{region}.amazonaws.com``; moto's ``regionalDomainName``
  carries the region) and the S3 website endpoints
  ``{bucket}.s3-website-{region}.amazonaws.com`` /
  ``{bucket}.s3-website.{region}.amazonaws.com``. TTL 60 s, not authoritative.
* **Route 53's name servers** (a hosted zone's delegation set,
  ``ns-2048.awsdns-64.com`` and the like) resolve to the address of the
  sandbox's authoritative DNS server, so a client can ask a zone's own name
  server as it would on AWS (:func:`helpers.connect.net.resolve_at` adds the port).
* **Hosted zones** in moto's Route 53 backend (public zones; private zones
  belong to VPCs and are not answered): the longest matching zone answers,
  authoritatively (several zones of one name: the newest that has the name).
  Simple records of any type, wildcards (``*.zone``), SOA/NS at the apex, and
  alias records: an alias to a record of a sandbox zone answers with that
  record's values and TTL, an alias to an AWS service name (API Gateway
  regional domain, S3 website endpoint) with the address of its region.
* **Routing policies**: failover (PRIMARY while its health check is healthy
  and, with Evaluate Target Health, while its alias target is healthy,
  otherwise SECONDARY; a record without a health check counts as healthy;
  when both are unhealthy the PRIMARY is answered, as on AWS), weighted
  (random by weight among healthy records), multivalue (every healthy record,
  at most eight). Latency and geolocation records are answered with the first
  healthy record of the set (the sandbox has no client location).
* **CNAME chains** are followed, inside the zones and into the service
  names, so one query returns the addresses (a client talks to this server
  as it would to its recursive resolver).
* A name in no zone and not a service name is **NXDOMAIN** (the sandbox is
  offline; there is no internet to recurse into).

TTLs are on the sandbox's clock (:mod:`helpers.sandbox.clock`, ``dns_record_ttl``
and its kin): the TTL times the time scale, rounded to the nearest second, at least 1 s (a
TTL of 0 stays 0). SOA timers (refresh, retry, expire, minimum) are scaled the
same way (``dns_negative_ttl``) so negative caching scales too.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field, replace
from typing import Any

from helpers.base.regions import sandbox_ip
from helpers.sandbox.clock import aws_seconds
from helpers.sandbox.context import LOOPBACK, SandboxContext

MAX_CHAIN = 8  # CNAME / alias hops followed before giving up (SERVFAIL)
MAX_MULTIVALUE = 8  # Route 53 answers at most eight healthy multivalue records

# AWS service names that resolve to the address of their region.
_SERVICE_NAMES = (
    re.compile(r"^[a-z0-9-]+\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com\.$"),
    re.compile(r"^(?:[^.]+(?:\.[^.]+)*\.)?s3-website[-.](?P<region>[a-z0-9-]+)\.amazonaws\.com\.$"),
)
# Route 53's name servers (a zone's delegation set): the authoritative DnsServer's address.
_NAME_SERVER = re.compile(r"^ns-\d+\.awsdns-\d+\.(?:com|net|org|co\.uk)\.$")
# Record types whose value ends with (or is) a domain name.
_NAME_LAST = {"CNAME", "NS", "PTR", "MX", "SRV"}


@dataclass(frozen=True)
class Record:
    """One resource record as answered: owner name, type, (scaled) TTL, presentation value."""

    name: str
    type: str
    ttl: int
    value: str


@dataclass
class Answer:
    qname: str
    qtype: str
    rcode: str = "NOERROR"  # NOERROR | NXDOMAIN | SERVFAIL | REFUSED
    authoritative: bool = False
    records: list[Record] = field(default_factory=list)  # in answer order (CNAMEs first)
    authority: list[Record] = field(default_factory=list)  # the zone's SOA on negative answers
    zone_id: str | None = None  # the hosted zone that answered the question's name

    @property
    def addresses(self) -> list[str]:
        return [r.value for r in self.records if r.type == "A"]

    def values(self, rtype: str | None = None) -> list[str]:
        return [r.value for r in self.records if rtype is None or r.type == rtype]


@dataclass
class _Step:
    rcode: str = "NOERROR"
    records: list[Record] = field(default_factory=list)
    authoritative: bool = False
    authority: list[Record] = field(default_factory=list)
    zone_id: str | None = None


def normalize_name(name: str) -> str:
    """Lower-case and absolute (trailing dot); Route 53's octal escapes (``\\052``) decoded."""
    name = re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1), 8)), name.strip())
    name = name.lower()
    return name if name.endswith(".") else name + "."


def _absolute(value: str) -> str:
    return value if value.endswith(".") else value + "."


class Resolver:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    # ----------------------------------------------------------------- public

    def resolve(self, qname: str, qtype: str = "A", client_ip: str | None = None, *,
                zone_id: str | None = None, chase: bool = True) -> Answer:
        """Answer one question. ``client_ip`` is accepted for latency/geo routing (unused).

        ``zone_id`` asks one hosted zone only and ``chase=False`` stops at the first
        name (what Route 53's TestDNSAnswer reports).
        """
        return self._resolve(normalize_name(qname), qtype.upper(), 0, zone_id, chase)

    def scaled_ttl(self, ttl: Any, kind: str = "dns_record_ttl") -> int:
        """A TTL of AWS seconds on the sandbox's clock, in whole seconds (its table entry:
        ``kind``)."""
        try:
            seconds = float(ttl)
        except (TypeError, ValueError):
            seconds = 300.0
        if seconds <= 0:
            return 0
        return max(1, math.floor(self.ctx.clock.seconds(kind, aws_s=seconds) + 0.5))

    def zone_for(self, name: str) -> Any | None:
        """The public hosted zone that is authoritative for ``name`` (longest match)."""
        name = normalize_name(name)
        best: list[Any] = []
        best_len = -1
        for zone in self._zones():
            zname = normalize_name(zone.name)
            if name == zname or name.endswith("." + zname):
                if len(zname) > best_len:
                    best, best_len = [zone], len(zname)
                elif len(zname) == best_len:
                    best.append(zone)
        if len(best) > 1:
            # Several zones of one name (Route 53 allows it; on AWS the registrar's NS
            # records pick one): the newest zone that has the name, else the newest.
            return next((z for z in reversed(best) if self._exists(z, name)), best[-1])
        return best[0] if best else None

    # --------------------------------------------------------------- internal

    def _zones(self) -> list[Any]:
        backend = self.ctx.global_backend("route53")
        for _ in range(3):
            try:
                return [z for z in list(backend.zones.values()) if not z.private_zone]
            except RuntimeError:  # changed while copying; try again
                continue
        return []

    def _resolve(self, name: str, qtype: str, depth: int, zone_id: str | None,
                 chase: bool) -> Answer:
        answer = Answer(qname=name, qtype=qtype)
        seen = {name}
        for hop in range(MAX_CHAIN):
            step = self._lookup(name, qtype, depth, zone_id if hop == 0 else None)
            if hop == 0:
                answer.authoritative = step.authoritative
                answer.zone_id = step.zone_id
            answer.records.extend(step.records)
            answer.rcode = step.rcode
            answer.authority = step.authority
            last = step.records[-1] if step.records else None
            if (not chase or last is None or last.type != "CNAME"
                    or qtype in ("CNAME", "ANY")):
                return answer
            name = normalize_name(last.value)
            if name in seen:  # a CNAME loop
                answer.rcode = "SERVFAIL"
                return answer
            seen.add(name)
        answer.rcode = "SERVFAIL"
        return answer

    def _lookup(self, name: str, qtype: str, depth: int, zone_id: str | None) -> _Step:
        if zone_id is not None:
            zone = next((z for z in self._zones() if z.resource_id == zone_id.split("/")[-1]),
                        None)
            if zone is None or not (name == normalize_name(zone.name)
                                    or name.endswith("." + normalize_name(zone.name))):
                return _Step(rcode="REFUSED")
        else:
            zone = self.zone_for(name)
        if zone is None:
            return self._service_name(name, qtype)
        return self._zone_lookup(zone, name, qtype, depth)

    def _service_name(self, name: str, qtype: str) -> _Step:
        if _NAME_SERVER.match(name):
            if qtype in ("A", "ANY"):
                ttl = self.scaled_ttl(aws_seconds("name_server_ttl"), "name_server_ttl")
                return _Step(records=[Record(name, "A", ttl, LOOPBACK)])
            return _Step()
        for pattern in _SERVICE_NAMES:
            match = pattern.match(name)
            if match and match.group("region") in self.ctx.settings.regions:
                if qtype in ("A", "ANY"):
                    ttl = self.scaled_ttl(aws_seconds("service_name_ttl"), "service_name_ttl")
                    return _Step(records=[Record(name, "A", ttl, sandbox_ip(match["region"]))])
                return _Step()  # the name exists; no records of that type (NODATA)
        return _Step(rcode="NXDOMAIN")

    # zones

    def _rrsets_at(self, zone: Any, name: str) -> list[Any]:
        return [r for r in list(zone.rrsets) if normalize_name(r.name) == name]

    def _exists(self, zone: Any, name: str) -> bool:
        """A name exists if it owns records or has descendants (an empty non-terminal)."""
        suffix = "." + name
        return any(n == name or n.endswith(suffix)
                   for n in (normalize_name(r.name) for r in list(zone.rrsets)))

    def _wildcard(self, zone: Any, name: str) -> list[Any]:
        zname = normalize_name(zone.name)
        encloser = name
        while encloser != zname:
            encloser = encloser.split(".", 1)[1]
            if self._exists(zone, encloser):
                return self._rrsets_at(zone, "*." + encloser)
        return []

    def _soa(self, zone: Any) -> list[Record]:
        zname = normalize_name(zone.name)
        for rrset in self._rrsets_at(zone, zname):
            if rrset.type == "SOA":
                records = self._plain_records(zname, rrset)
                if records:
                    rec = records[0]
                    minimum = rec.value.split()[-1]
                    ttl = min(rec.ttl, int(minimum)) if minimum.isdigit() else rec.ttl
                    return [replace(rec, ttl=ttl)]
        return []

    def _zone_lookup(self, zone: Any, name: str, qtype: str, depth: int) -> _Step:
        zone_id = zone.resource_id
        rrsets = self._rrsets_at(zone, name)
        if not rrsets and not self._exists(zone, name):
            rrsets = self._wildcard(zone, name)
            if not rrsets:
                return _Step("NXDOMAIN", [], True, self._soa(zone), zone_id)
        if qtype == "ANY":
            types = sorted({r.type for r in rrsets})
        else:
            types = [qtype] if any(r.type == qtype for r in rrsets) else []
            if not types and any(r.type == "CNAME" for r in rrsets):
                types = ["CNAME"]
        records: list[Record] = []
        for rtype in types:
            group = [r for r in rrsets if r.type == rtype]
            for rrset in self._route(group, depth):
                records.extend(self._materialize(name, rrset, depth))
        if not records:
            return _Step("NOERROR", [], True, self._soa(zone), zone_id)
        return _Step("NOERROR", records, True, [], zone_id)

    def _materialize(self, owner: str, rrset: Any, depth: int) -> list[Record]:
        alias = rrset.alias_target
        if not alias:
            return self._plain_records(owner, rrset)
        target = normalize_name(str(alias.get("DNSName", "")))
        if depth >= MAX_CHAIN:
            return []
        sub = self._resolve(target, rrset.type, depth + 1, None, True)
        return [replace(r, name=owner) if r.name == target else r for r in sub.records]

    def _plain_records(self, owner: str, rrset: Any) -> list[Record]:
        ttl = self.scaled_ttl(rrset.ttl)
        out = []
        for raw in rrset.records or []:
            value = raw.get("Value", "") if isinstance(raw, dict) else str(raw)
            out.append(Record(owner, rrset.type, ttl, self._value(rrset.type, value)))
        return out

    def _value(self, rtype: str, value: str) -> str:
        value = value.strip()
        if rtype in _NAME_LAST:
            head, _, last = value.rpartition(" ")
            last = _absolute(last)
            return f"{head} {last}" if head else last
        if rtype == "SOA":
            parts = value.split()
            if len(parts) == 7:
                mname, rname = _absolute(parts[0]), _absolute(parts[1])
                timers = [str(self.scaled_ttl(p, "dns_negative_ttl")) if p.isdigit() else p
                          for p in parts[3:]]
                return " ".join([mname, rname, parts[2], *timers])
        return value

    # routing policies and health

    def _route(self, group: list[Any], depth: int) -> list[Any]:
        """The record sets of one (name, type) that Route 53 would answer with."""
        simple = [r for r in group if not r.set_identifier]
        if simple:
            return simple[:1]
        failover = [r for r in group if r.failover]
        if failover:
            primary = next((r for r in failover if str(r.failover).upper() == "PRIMARY"), None)
            secondary = next((r for r in failover if str(r.failover).upper() == "SECONDARY"),
                             None)
            for candidate in (primary, secondary):
                if candidate is not None and self._healthy(candidate, depth):
                    return [candidate]
            return [primary or secondary]
        healthy = [r for r in group if self._healthy(r, depth)] or list(group)
        if any(r.multi_value_answer for r in group):
            return healthy[:MAX_MULTIVALUE]
        weighted = [r for r in healthy if r.weight is not None]
        if weighted:
            weights = [max(0, int(r.weight)) for r in weighted]
            if sum(weights) == 0:
                return [random.choice(weighted)]
            return random.choices(weighted, weights=weights, k=1)
        return sorted(healthy, key=lambda r: str(r.set_identifier))[:1]

    def _healthy(self, rrset: Any, depth: int) -> bool:
        if rrset.health_check_id and not self._health_check_healthy(rrset.health_check_id):
            return False
        alias = rrset.alias_target
        if alias and _truthy(alias.get("EvaluateTargetHealth")):
            return self._target_healthy(normalize_name(str(alias.get("DNSName", ""))),
                                        rrset.type, depth + 1)
        return True

    def _target_healthy(self, target: str, rtype: str, depth: int) -> bool:
        if depth >= MAX_CHAIN:
            return False
        zone = self.zone_for(target)
        if zone is None:
            # An AWS service endpoint (API Gateway, S3 website): healthy while it resolves.
            return self._service_name(target, "A").rcode == "NOERROR"
        rrsets = [r for r in self._rrsets_at(zone, target) if r.type in (rtype, "CNAME")]
        # Healthy while at least one record of the target's group is healthy.
        return any(self._healthy(r, depth) for r in rrsets)

    def _health_check_healthy(self, health_check_id: str) -> bool:
        checkers = self.ctx.health_checkers
        if checkers is None:  # not started yet: a new health check counts as healthy
            return True
        return bool(checkers.is_healthy(health_check_id))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)
