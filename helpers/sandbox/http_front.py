"""The sandbox's public HTTP side: one listener per region, and a forward proxy.

On AWS a public name (``{api}.execute-api.{region}.amazonaws.com``, a custom
domain, a website endpoint) resolves to servers in one region. In the sandbox
each region is played by its own loopback address (``sandbox_ip(region)``),
all on one shared port, and the sandbox DNS server decides which address a
name gets, so failover is decided by DNS exactly as on AWS.

* Region listeners hand each request to the data-plane handlers in order
  (``handler.handle(region, request) -> Response | None``); when none answers,
  the reply is what API Gateway gives a host it does not know: 403
  ``{"message":"Forbidden"}``.
* The forward proxy on ``127.0.0.1:<http_port>`` takes absolute-form requests
  (``GET http://host/path``, what ``curl -x`` and a browser with
  ``--proxy-server`` send), resolves the host through the sandbox DNS records
  and forwards the request over real HTTP to ``<address>:<http_port>``, so a
  region that is down fails through the proxy too (502).
* ``https://`` URLs through the proxy arrive as ``CONNECT host:443``: the proxy
  resolves ``host`` once for the tunnel (as a client connecting to an address
  would), answers the TLS itself with a certificate from the sandbox's local CA
  (:mod:`helpers.sandbox.tls`), and forwards each HTTP request inside to that
  address like the ones above. A browser thus loads an ``https://`` API from a
  page exactly as on AWS; it only has to accept (or trust) the local CA.
* A browser with no proxy set reaches the same names under ``.localhost``
  (``http://api.example.com.localhost:<http_port>/``: browsers resolve ``*.localhost``
  to loopback themselves, so the request arrives on ``127.0.0.1:<http_port>`` in
  origin form). The front strips the suffix, resolves the name through the sandbox
  DNS for each request and relays it to that address under the AWS name; the
  mapping is :mod:`helpers.sandbox.localhost_names`. So the web UI opens in a
  learner's own browser, and its API calls follow a failover record as on AWS.
* :meth:`HttpFront.set_region_available` plays a regional outage: the region's
  listening socket is closed (clients get "connection refused") and open
  connections are cut; restoring reopens it on the same address and port.
  The control plane exposes the switch at ``/_sandbox/regions/<region>``.

One thread accepts connections on every listening socket (a selector), and
each connection is served on a thread of its own. Only loopback is bound.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import ipaddress
import json
import logging
import queue
import selectors
import socket
import socketserver
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from helpers.base.regions import sandbox_ip
from helpers.sandbox import admin_paths, localhost_names
from helpers.sandbox.context import LOOPBACK, SandboxContext
from helpers.sandbox.errors import SandboxError, bind_or_explain
from helpers.sandbox.tls import LocalCA

log = logging.getLogger("helpers.sandbox.http_front")

BIND_ATTEMPTS = 20  # with http_port 0: tries to find one port free on every address
UPSTREAM_TIMEOUT_S = 60  # API Gateway gives up after 29 s; leave it room to answer first
IDLE_TIMEOUT_S = 120  # an idle keep-alive connection is closed after this
CHUNK = 64 * 1024

# Headers that belong to one connection, not to the message (RFC 9110 7.6.1).
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate",
    "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
})


class Handler(Protocol):
    def handle(self, region: str, request: Request) -> Response | None: ...


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers,
                    content_type="application/json")


def forbidden() -> Response:
    """API Gateway's answer for a host or path it has nothing for."""
    return json_response(403, {"message": "Forbidden"}, {
        "x-amzn-RequestId": str(uuid.uuid4()),
        "x-amzn-ErrorType": "ForbiddenException",
    })


# ---------------------------------------------------------------- sockets
class _RequestHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked responses
    timeout = IDLE_TIMEOUT_S

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s %s -> %s", self.server.name, self.command, self.path, code)

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 (werkzeug's name)
        level = logging.DEBUG if type == "info" else logging.WARNING
        log.log(level, "%s: " + message, self.server.name, *args)

    # http.server adds its own Server and Date headers to every response; AWS sends a
    # Server header only where the service does (S3: AmazonS3), so add only a missing Date.
    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        # The standard reason phrase ("Bad Request"), not werkzeug's upper-case one.
        self.send_response_only(code, None if code in self.responses else message)
        self._sent_names: set[str] | None = set()

    def send_header(self, keyword: str, value: str) -> None:
        names = getattr(self, "_sent_names", None)
        if names is not None:
            names.add(keyword.lower())
        super().send_header(keyword, value)

    def end_headers(self) -> None:
        names = getattr(self, "_sent_names", None)
        if names is not None and "date" not in names:
            super().send_header("Date", self.date_time_string())
        self._sent_names = None
        super().end_headers()


class _Listener(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """A threaded WSGI listener that werkzeug's request handler can serve.

    Unlike werkzeug's own server it neither looks the host name up (slow for
    30 addresses) nor exits the process on "address in use".
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    # What werkzeug's WSGIRequestHandler reads from its server:
    multithread = True
    multiprocess = False
    passthrough_errors = False
    ssl_context = None
    _server_version = "Server"

    def __init__(self, name: str, host: str, port: int, app: Callable,
                 handler: type[_RequestHandler] = _RequestHandler) -> None:
        self.name = name
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), handler)
        self.socket.setblocking(False)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s: " + message, self.name, *args)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("%s: connection from %s failed", self.name, client_address, exc_info=True)

    def accept_one(self) -> None:
        try:
            request, client_address = self.get_request()
        except OSError:  # BlockingIOError (another accept won) or a closed socket
            return
        try:
            self.process_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
            self.shutdown_request(request)

    def cut_connections(self) -> None:
        """Reset every open connection (an outage does not wait for keep-alive to end)."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _ProxyRequestHandler(_RequestHandler):
    """The proxy's connections: absolute-form requests, and CONNECT for https:// URLs."""

    def do_CONNECT(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.front._tunnel(self)


class _TunnelServer:
    """What werkzeug's request handler reads from its server, for one TLS tunnel."""

    multithread = True
    multiprocess = False
    passthrough_errors = False
    _server_version = "Server"

    def __init__(self, name: str, app: Callable, ssl_context: ssl.SSLContext,
                 address: tuple[str, int]) -> None:
        self.name, self.app, self.ssl_context, self.server_address = (
            name, app, ssl_context, address)

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s: " + message, self.name, *args)


class _AcceptLoop:
    """One thread accepting on all listening sockets; changes run on that thread."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="http-front-accept", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the accept thread (selector changes are not thread-safe)."""
        if threading.current_thread() is self._thread or not self._thread.is_alive():
            return fn()
        done = threading.Event()
        box: dict[str, Any] = {}

        def command() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # handed back to the caller
                box["error"] = exc
            finally:
                done.set()

        self._commands.put(command)
        self._wake()
        if not done.wait(10):
            raise SandboxError("the sandbox HTTP accept loop did not respond within 10 s")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def add(self, listener: _Listener) -> None:
        self._selector.register(listener.socket, selectors.EVENT_READ, listener)

    def remove(self, listener: _Listener) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(listener.socket)

    def stop(self) -> None:
        self._stopping = True
        self._wake()
        if self._thread.is_alive():
            self._thread.join(5)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _run(self) -> None:
        while not self._stopping:
            try:
                events = self._selector.select(timeout=5)
            except OSError:
                if self._stopping:
                    return
                raise
            for key, _ in events:
                if key.data is None:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                else:
                    key.data.accept_one()
            while True:
                try:
                    command = self._commands.get_nowait()
                except queue.Empty:
                    break
                command()


# ---------------------------------------------------------------- the component
class HttpFront:
    def __init__(self, ctx: SandboxContext, handlers: Iterable[Handler]) -> None:
        self.ctx = ctx
        self.handlers = list(handlers)
        self.regions = tuple(ctx.settings.regions)
        self.port = 0
        self._listeners: dict[str, _Listener] = {}
        self._proxy: _Listener | None = None
        self._unavailable: set[str] = set()
        self._lock = threading.Lock()
        self._loop = _AcceptLoop()
        self.ca: LocalCA | None = None

    @property
    def ca_cert(self) -> str:
        """Path of the local CA's certificate (PEM) that signs the proxy's HTTPS answers."""
        return str(self.ca.ca_cert_path) if self.ca else ""

    # -- lifecycle
    def start(self) -> None:
        started = time.monotonic()
        self._bind_all(self.ctx.settings.http_port)  # a busy port fails before anything exists
        self.ca = LocalCA()
        self.ctx.http_port = self.port
        for listener in self._all_listeners():
            self._loop.add(listener)
        self._loop.start()
        self.ctx.add_intercept(self._admin)
        log.info("HTTP listeners for %d regions and the proxy on port %d (bound in %.0f ms)",
                 len(self._listeners), self.port, (time.monotonic() - started) * 1000)

    def stop(self) -> None:
        self._loop.stop()
        for listener in self._all_listeners():
            with contextlib.suppress(OSError):
                listener.server_close()
            listener.cut_connections()
        self._listeners.clear()
        self._proxy = None
        if self.ca:
            self.ca.close()

    def _all_listeners(self) -> list[_Listener]:
        return [*self._listeners.values(), *([self._proxy] if self._proxy else [])]

    def _bind_all(self, port: int) -> None:
        if port:
            self._bind_on(port, explain=True)
            return
        for _ in range(BIND_ATTEMPTS):
            try:
                self._bind_on(0, explain=False)
                return
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                log.debug("port taken on one of the region addresses; trying another")
        raise SandboxError(
            f"could not find one port free on all {len(self.regions) + 1} sandbox HTTP "
            f"addresses after {BIND_ATTEMPTS} attempts: choose one with "
            "`workshop sandbox up --http-port N`")

    def _bind_on(self, port: int, explain: bool) -> None:
        """Bind every region address and the proxy on ``port`` (0: the first one picks)."""
        bound: list[_Listener] = []

        def bind(name: str, host: str, app: Callable) -> _Listener:
            nonlocal port
            handler = _ProxyRequestHandler if name == "proxy" else _RequestHandler
            make = lambda: _Listener(name, host, port, app, handler)  # noqa: E731
            listener = bind_or_explain("HTTP listener", port, make) if explain else make()
            port = listener.port
            bound.append(listener)
            return listener

        try:
            listeners = {region: bind(region, sandbox_ip(region), self._region_app(region))
                         for region in self.regions}
            proxy = bind("proxy", LOOPBACK, self._proxy_app)
            proxy.front = self
        except BaseException:
            for listener in bound:
                listener.server_close()
            raise
        self._listeners, self._proxy, self.port = listeners, proxy, port

    # -- outage switch
    def set_region_available(self, region: str, available: bool) -> None:
        """Play (or end) a regional outage: closed means connection refused."""
        if region not in self.regions:
            raise ValueError(f"unknown region {region!r}")
        with self._lock:
            if available == (region not in self._unavailable):
                return
            if available:
                listener = bind_or_explain(
                    "HTTP listener", self.port,
                    lambda: _Listener(region, sandbox_ip(region), self.port,
                                      self._region_app(region)))
                self._loop.call(lambda: self._loop.add(listener))
                self._listeners[region] = listener
                self._unavailable.discard(region)
                log.info("region %s is available again on %s:%d", region, sandbox_ip(region),
                         self.port)
            else:
                listener = self._listeners.pop(region)
                self._unavailable.add(region)
                self._loop.call(lambda: self._loop.remove(listener))
                listener.server_close()
                listener.cut_connections()
                log.info("region %s is unavailable (connections refused)", region)

    def region_available(self, region: str) -> bool:
        return region in self.regions and region not in self._unavailable

    def _admin(self, request: Request) -> Response | None:
        """Control-plane switch: ``GET|PUT|POST /_sandbox/regions[/<region>]``.

        ``PUT /_sandbox/regions/eu-west-1`` with ``{"available": false}`` starts an outage.
        """
        region = admin_paths.under(request.path, admin_paths.REGIONS)
        if region is None:
            return None
        if not region:
            return json_response(200, {r: self.region_available(r) for r in self.regions})
        if region not in self.regions:
            return json_response(404, {"message": f"unknown region {region!r}"})
        if request.method in ("PUT", "POST"):
            body = request.get_json(silent=True, force=True)
            if not isinstance(body, dict) or not isinstance(body.get("available"), bool):
                return json_response(400, {"message": 'send {"available": true|false}'})
            try:
                self.set_region_available(region, body["available"])
            except SandboxError as exc:
                return json_response(409, {"message": str(exc)})
        elif request.method != "GET":
            return json_response(405, {"message": "use GET, PUT or POST"})
        return json_response(200, {"region": region, "available": self.region_available(region),
                                   "address": f"{sandbox_ip(region)}:{self.port}"})

    # -- region listeners
    def _region_app(self, region: str) -> Callable:
        def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
            request = Request(environ)
            response = self._dispatch(region, request)
            return response(environ, start_response)

        return app

    def _dispatch(self, region: str, request: Request) -> Response:
        for handler in self.handlers:
            try:
                response = handler.handle(region, request)
            except Exception:
                log.exception("%s failed on %s %s (Host %s)", type(handler).__name__,
                              request.method, request.path, request.host)
                return json_response(500, {"message": "Internal server error"})
            if response is not None:
                return response
        return forbidden()

    # -- forward proxy
    def _proxy_app(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        response = self._forward(request, environ)
        return response(environ, start_response)

    def _forward(self, request: Request, environ: dict) -> Response:
        target = environ.get("REQUEST_URI") or environ.get("RAW_URI") or ""
        absolute = target.lower().startswith("http://")
        if absolute:
            path = target.split("://", 1)[1]
            path = "/" + path.split("/", 1)[1] if "/" in path else "/"
        else:
            path = target or "/"
        name = localhost_names.public_name(request.host)
        if name is not None:
            return self._localhost(request, name, path)
        if not absolute:
            return _proxy_error(400, "this is the sandbox's HTTP proxy: send absolute-form "
                                     "requests (curl -x http://127.0.0.1:PORT http://name/path)"
                                     ", or open a public name under .localhost "
                                     "(http://<name>.localhost:PORT/path)")
        host, _, explicit_port = request.host.partition(":")
        host = host.strip("[]").lower()
        address, port = self._address_for(host, explicit_port)
        if isinstance(address, Response):
            return address
        return self._relay(request, host, address, port, path)

    def _localhost(self, request: Request, name: str, path: str) -> Response:
        """A browser's request to ``<name>.localhost:<port>`` (no proxy set): ``name``
        resolved through the sandbox DNS now, as a client connecting would, and the request
        relayed to that region under ``name`` (:mod:`helpers.sandbox.localhost_names`)."""
        address, port = self._address_for(name, "")
        if isinstance(address, Response):
            return address
        if address == LOOPBACK:
            return _proxy_error(400, f"{name} is the sandbox itself, not a public name")
        response = self._relay(request, name, address, port, path, upstream_host=name)
        location = response.headers.get("Location")
        if location:  # a redirect to a public name stays under .localhost
            response.headers["Location"] = localhost_names.localize_location(location,
                                                                              self.port)
        return response

    def _relay(self, request: Request, host: str, address: str, port: int, path: str,
               tunnel: socket.socket | None = None,
               upstream_host: str | None = None) -> Response:
        """Send ``request`` to ``address:port`` over HTTP, keeping its Host header
        (``upstream_host`` instead, when given).

        Inside a ``tunnel``, an unreachable upstream cuts the tunnel instead of
        answering 502: the client was talking to that server, and on AWS it
        would see its connection fail (and open a new one, resolving again).
        """
        path = path.split("#", 1)[0]
        headers = [(k, v) for k, v in request.headers.items()
                   if k.lower() not in HOP_BY_HOP
                   and k.lower() not in ("host", "content-length", "expect")]
        headers.append(("Host", upstream_host or request.host))
        body = request.get_data(cache=False)
        if body or request.method in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", str(len(body))))
        conn = http.client.HTTPConnection(address, port, timeout=UPSTREAM_TIMEOUT_S)
        try:
            conn.putrequest(request.method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders(body or None)
            upstream = conn.getresponse()
        except OSError as exc:
            conn.close()
            if tunnel is not None:
                with contextlib.suppress(OSError):
                    tunnel.shutdown(socket.SHUT_RDWR)
            return _unreachable(host, address, port, exc)
        out_headers = [(k, v) for k, v in upstream.getheaders() if k.lower() not in HOP_BY_HOP]
        return Response(_stream(upstream, conn), status=upstream.status, headers=out_headers,
                        direct_passthrough=True)

    # -- HTTPS through the proxy
    def _tunnel(self, handler: _RequestHandler) -> None:
        """Serve ``CONNECT host:443``: terminate TLS here, relay the requests inside.

        The name is resolved once, when the tunnel opens, and the region's
        listener must accept a connection then (a region that is down refuses
        the CONNECT with 502, as the connection to it would fail on AWS).
        """
        host, _, port = handler.path.rpartition(":")
        host = host.strip("[]").lower()
        if not host or port != "443":
            self._refuse(handler, _proxy_error(
                403, f"the sandbox proxy tunnels only to port 443 (https), not {handler.path!r}"))
            return
        address, _ = self._address_for(host, "")
        if isinstance(address, Response):
            self._refuse(handler, address)
            return
        if address == LOOPBACK:
            self._refuse(handler, _proxy_error(400, "a tunnel to the proxy itself"))
            return
        try:
            socket.create_connection((address, self.port), timeout=4).close()
        except OSError as exc:
            self._refuse(handler, _unreachable(host, address, self.port, exc))
            return
        handler.log_request(200)
        handler.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")  # what proxies say
        handler.wfile.flush()
        assert self.ca is not None
        context = self.ca.server_context(host)
        try:
            tls = context.wrap_socket(handler.connection, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            # Usually a client that does not trust the local CA and says so by hanging up.
            log.debug("TLS handshake for %s failed: %s", host, exc)
            handler.close_connection = True
            return

        def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
            request = Request(environ)
            target = environ.get("REQUEST_URI") or environ.get("RAW_URI") or "/"
            if "://" in target:  # absolute form inside a tunnel is allowed too
                target = "/" + target.split("://", 1)[1].partition("/")[2]
            response = self._relay(request, host, address, self.port, target, tunnel=tls)
            return response(environ, start_response)

        try:
            _RequestHandler(tls, handler.client_address,
                            _TunnelServer(f"tunnel {host}", app, context, (address, 443)))
        except OSError as exc:
            log.debug("tunnel to %s ended: %s", host, exc)
        finally:
            tls.close()  # wrap_socket detached handler.connection: this closes the socket
            handler.close_connection = True

    @staticmethod
    def _refuse(handler: _RequestHandler, response: Response) -> None:
        """Answer a CONNECT with ``response`` (an error) and close the connection."""
        body = response.get_data()
        handler.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() != "content-length":
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True

    def _address_for(self, host: str, explicit_port: str) -> tuple[Any, int]:
        if host == "localhost":
            host = LOOPBACK
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        if ip is not None:
            port = int(explicit_port) if explicit_port.isdigit() else 80
            if not ip.is_loopback:
                return _proxy_error(502, f"{host} is not a sandbox address (the sandbox is "
                                         "offline: only 127.0.0.0/8 is reachable)"), 0
            if (str(ip), port) == (LOOPBACK, self.port):
                return _proxy_error(400, "a request to the proxy itself"), 0
            return str(ip), port
        resolver = self.ctx.resolver
        if resolver is None:
            return _proxy_error(502, f"cannot resolve {host}: the sandbox DNS is not running"), 0
        try:
            answer = resolver.resolve(host, "A")
        except Exception as exc:  # NXDOMAIN and friends, however the resolver says it
            return _proxy_error(502, f"cannot resolve {host}: {exc}"), 0
        addresses = list(getattr(answer, "addresses", None) or [])
        if not addresses:
            rcode = getattr(answer, "rcode", "NOERROR")
            why = "no A record" if rcode == "NOERROR" else rcode
            return _proxy_error(502, f"cannot resolve {host}: {why}"), 0
        address = addresses[0]
        if not ipaddress.ip_address(address).is_loopback:
            return _proxy_error(502, f"{host} resolves to {address}, which is not a sandbox "
                                     "address (the sandbox is offline)"), 0
        # Every region listens on the shared port; an explicit :443 or :80 means the same.
        return address, self.port


def _unreachable(host: str, address: str, port: int, exc: OSError) -> Response:
    where = f"{host} ({address}:{port})"
    if isinstance(exc, ConnectionRefusedError):
        return _proxy_error(502, f"cannot connect to {where}: connection refused")
    if isinstance(exc, TimeoutError):
        return _proxy_error(504, f"{where} did not answer within {UPSTREAM_TIMEOUT_S} s")
    return _proxy_error(502, f"connection to {where} failed: {exc}")


def _proxy_error(status: int, text: str) -> Response:
    return Response(f"sandbox proxy: {text}\n", status=status, content_type="text/plain",
                    headers={"Via": "1.1 workshop-sandbox"})


def _stream(upstream: http.client.HTTPResponse, conn: http.client.HTTPConnection):
    try:
        while True:
            chunk = upstream.read1(CHUNK) if hasattr(upstream, "read1") else upstream.read(CHUNK)
            if not chunk:
                break
            yield chunk
    finally:
        upstream.close()
        conn.close()
