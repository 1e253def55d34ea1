"""The sandbox's DNS servers: UDP and TCP on 127.0.0.1, answers from the Resolver.

Two listeners, each on a port of its own: :class:`DnsServer`, the authoritative
view, and :class:`CachingResolver`, the caching recursive resolver clients ask.

Real clients work against it, e.g. ``dig @127.0.0.1 -p <dns port> api.example.com``
(``workshop sandbox status`` shows the port). It answers like a recursive
resolver in front of Route 53: authoritative (AA) for names in a hosted zone,
CNAME chains followed, NXDOMAIN for names the sandbox does not know.
"""

from __future__ import annotations

import errno
import logging
import math
import socketserver
import threading
import time
from typing import Any

from dnslib import QTYPE, RCODE, RR, DNSRecord
from dnslib.server import DNSHandler

from helpers.sandbox.context import LOOPBACK, SandboxContext
from helpers.sandbox.errors import bind_or_explain
from helpers.sandbox.route53.dns_records import Answer, Record

log = logging.getLogger("helpers.sandbox.dns")

BIND_ATTEMPTS = 20  # with dns_port 0: tries to find one port free for both UDP and TCP


class _UDPServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
    # No SO_REUSEADDR: on Linux it would let a second UDP server share a busy port.
    allow_reuse_address = False
    daemon_threads = True


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True  # TCP: only skips TIME_WAIT, never shares a listening port
    daemon_threads = True


class _QuietLogger:
    """dnslib's logger interface, sent to :mod:`logging` (dnslib prints by default)."""

    def log_recv(self, handler: Any, data: bytes) -> None:
        pass

    log_send = log_recv

    def log_request(self, handler: Any, request: Any) -> None:
        pass

    log_reply = log_truncated = log_request

    def log_error(self, handler: Any, e: Exception) -> None:
        log.debug("DNS request from %s failed: %s", handler.client_address[0], e)

    def log_data(self, dnsobj: Any) -> None:
        pass


def to_rr(record: Record) -> RR:
    """A Resolver record as a dnslib resource record."""
    rtype = record.type
    if rtype == "SPF":  # dnslib has no SPF parser; the rdata is TXT's
        rr = RR.fromZone(f"{record.name} {record.ttl} IN TXT {record.value}")[0]
        rr.rtype = QTYPE.SPF
        return rr
    return RR.fromZone(f"{record.name} {record.ttl} IN {rtype} {record.value}")[0]


class _DnslibResolver:
    """Adapts the sandbox Resolver to dnslib's ``resolve(request, handler)``."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        reply.header.ra = 1
        reply.header.ad = 0  # nothing here is DNSSEC-validated
        if request.header.opcode != 0 or not request.questions:
            reply.header.rcode = RCODE.NOTIMP if request.header.opcode else RCODE.FORMERR
            return reply
        question = request.q
        qtype = QTYPE.get(question.qtype)
        try:
            answer: Answer = self.ctx.resolver.resolve(
                str(question.qname), str(qtype), client_ip=handler.client_address[0])
        except Exception:
            log.exception("resolving %s %s failed", question.qname, qtype)
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        reply.header.aa = int(answer.authoritative)
        reply.header.rcode = getattr(RCODE, answer.rcode, RCODE.SERVFAIL)
        for record in answer.records:
            self._add(reply.add_answer, record)
        for record in answer.authority:
            self._add(reply.add_auth, record)
        return reply

    @staticmethod
    def _add(add: Any, record: Record) -> None:
        try:
            add(to_rr(record))
        except Exception:  # a value dnslib cannot encode: leave it out, answer the rest
            log.warning("cannot encode %s %s %r", record.name, record.type, record.value)


class DnsServer:
    """The authoritative view: Route 53's name servers (and AWS's service names)."""

    label = "DNS server"

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return self._servers[0].server_address[1] if self._servers else 0

    # What a subclass changes: the port asked for, the answers, where the port is published.
    def _wanted_port(self) -> int:
        return self.ctx.settings.dns_port

    def _answerer(self) -> Any:
        return _DnslibResolver(self.ctx)

    def _publish(self, port: int) -> None:
        self.ctx.dns_port = port

    def start(self) -> None:
        port = self._wanted_port()
        if port:
            udp = bind_or_explain(self.label, port, lambda: _UDPServer((LOOPBACK, port),
                                                                       DNSHandler))
            try:
                tcp = bind_or_explain(self.label, port, lambda: _TCPServer((LOOPBACK, port),
                                                                           DNSHandler))
            except BaseException:
                udp.server_close()
                raise
        else:
            udp, tcp = self._bind_any()
        resolver = self._answerer()
        name = self.label.lower().replace(" ", "-")
        for server, proto in ((udp, "udp"), (tcp, "tcp")):
            server.resolver = resolver  # what dnslib's DNSHandler uses
            server.logger = _QuietLogger()
            self._servers.append(server)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                      name=f"{name}-{proto}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._publish(self.port)
        log.info("%s on %s:%d (UDP and TCP)", self.label, LOOPBACK, self.port)

    @staticmethod
    def _bind_any() -> tuple[_UDPServer, _TCPServer]:
        """A free port on which both UDP and TCP can be bound."""
        for _ in range(BIND_ATTEMPTS):
            udp = _UDPServer((LOOPBACK, 0), DNSHandler)
            try:
                return udp, _TCPServer((LOOPBACK, udp.server_address[1]), DNSHandler)
            except OSError as exc:
                udp.server_close()
                if exc.errno != errno.EADDRINUSE:
                    raise
        raise OSError(errno.EADDRINUSE, "no port free for both UDP and TCP")

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()
        self._threads.clear()


class CachingResolver(DnsServer):
    """The recursive resolver every learner's machine sits behind, on a port of its own.

    Clients of the kit resolve through it (``"resolver"`` in the sandbox's status);
    ``dig @`` the authoritative :class:`DnsServer` still sees the zones as they are.
    It caches as RFC 2308 resolvers do: an answer for its smallest TTL, a negative
    answer (NXDOMAIN, or NODATA: the name without records of that type) for the
    zone's negative TTL, min(SOA TTL, SOA MINIMUM) -- 900 s on a Route 53 public
    zone, scaled like every TTL the sandbox answers. A negative answer without an
    SOA (a name under no zone) is not cached. Cached answers go out with their
    remaining TTL, so a client's own cache expires when the resolver's does.

    The cache is in memory only: a restarted sandbox starts with it empty, as a
    rebooted resolver does.
    """

    label = "caching resolver"

    def _wanted_port(self) -> int:
        return self.ctx.settings.resolver_port

    def _answerer(self) -> Any:
        return _CachingAnswerer(_DnslibResolver(self.ctx))

    def _publish(self, port: int) -> None:
        self.ctx.resolver_port = port


class _CachingAnswerer:
    """dnslib's ``resolve(request, handler)`` with a cache in front of another resolver."""

    def __init__(self, upstream: _DnslibResolver) -> None:
        self.upstream = upstream
        self._cache: dict[tuple[str, int], tuple[DNSRecord, float]] = {}
        self._lock = threading.Lock()

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        if request.header.opcode != 0 or not request.questions:
            return self.upstream.resolve(request, handler)
        question = request.q
        key = (str(question.qname).lower(), question.qtype)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[1] > now:
            return _from_cache(request, hit[0], hit[1] - now)
        reply = self.upstream.resolve(request, handler)
        reply.header.aa = 0  # a recursive resolver relays; it is not the zone's server
        lifetime = _cache_lifetime(reply)
        if lifetime > 0:
            with self._lock:
                self._cache[key] = (reply, now + lifetime)
        return reply


def _cache_lifetime(reply: DNSRecord) -> int:
    """Seconds a reply may be cached: its smallest TTL, or for a negative answer the
    SOA's negative TTL; 0 for what is not cached (errors, negatives without an SOA)."""
    rcode = reply.header.rcode
    if rcode == RCODE.NOERROR and reply.rr:
        return min(rr.ttl for rr in reply.rr)
    if rcode in (RCODE.NOERROR, RCODE.NXDOMAIN):
        soas = [rr for rr in reply.auth if rr.rtype == QTYPE.SOA]
        if soas:
            return min(min(soa.ttl, soa.rdata.times[-1]) for soa in soas)  # times: ..., MINIMUM
    return 0


def _from_cache(request: DNSRecord, cached: DNSRecord, remaining_s: float) -> DNSRecord:
    """The cached reply to this request (its id), each TTL lowered to what is left."""
    reply = request.reply()
    reply.header.ra = 1
    reply.header.aa = 0  # a cache's answer is never authoritative
    reply.header.rcode = cached.header.rcode
    left = max(0, math.ceil(remaining_s))
    for section, add in ((cached.rr, reply.add_answer), (cached.auth, reply.add_auth)):
        for rr in section:
            copy = RR(rr.rname, rr.rtype, rr.rclass, min(rr.ttl, left), rr.rdata)
            add(copy)
    return reply
