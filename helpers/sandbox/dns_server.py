"""The sandbox's DNS server: UDP and TCP on 127.0.0.1, one port, answers from the Resolver.

Real clients work against it, e.g. ``dig @127.0.0.1 -p <dns port> api.example.com``
(``workshop sandbox status`` shows the port). It answers like a recursive
resolver in front of Route 53: authoritative (AA) for names in a hosted zone,
CNAME chains followed, NXDOMAIN for names the sandbox does not know.
"""

from __future__ import annotations

import errno
import logging
import socketserver
import threading
from typing import Any

from dnslib import QTYPE, RCODE, RR, DNSRecord
from dnslib.server import DNSHandler

from helpers.sandbox.context import LOOPBACK, SandboxContext
from helpers.sandbox.dns_records import Answer, Record
from helpers.sandbox.errors import bind_or_explain

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
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return self._servers[0].server_address[1] if self._servers else 0

    def start(self) -> None:
        port = self.ctx.settings.dns_port
        if port:
            udp = bind_or_explain("DNS server", port, lambda: _UDPServer((LOOPBACK, port),
                                                                         DNSHandler))
            try:
                tcp = bind_or_explain("DNS server", port, lambda: _TCPServer((LOOPBACK, port),
                                                                             DNSHandler))
            except BaseException:
                udp.server_close()
                raise
        else:
            udp, tcp = self._bind_any()
        resolver = _DnslibResolver(self.ctx)
        for server, name in ((udp, "dns-udp"), (tcp, "dns-tcp")):
            server.resolver = resolver  # what dnslib's DNSHandler uses
            server.logger = _QuietLogger()
            self._servers.append(server)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                      name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.ctx.dns_port = self.port
        log.info("DNS on %s:%d (UDP and TCP)", LOOPBACK, self.port)

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
