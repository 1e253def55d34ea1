"""Where an AWS-compatible endpoint (endpoint mode) serves the workshop's public names.

AWS names a stage ``https://<id>.execute-api.<region>.amazonaws.com/<stage>/...``
and a website ``http://<bucket>.s3-website-<region>.amazonaws.com/``; nothing
resolves those to a local emulator. Emulators serve them on their own port, by
a path (``/restapis/<id>/<stage>/_user_request_/...``) or by a Host header under
a domain of their own (``<id>.execute-api.localhost.localstack.cloud``,
``<id>.execute-api.localhost``). Which form an endpoint serves is found by asking
it, never by its name: the forms are tried in turn, and the first that answers
is remembered for that endpoint and kind of name. A custom domain
(``api.<domain>``) goes to the endpoint with its own Host header.

DNS questions go to the endpoint's DNS server when it has one (port 53 on the
endpoint's address answers a query).
"""

from __future__ import annotations

import re
import threading
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import requests

_EXECUTE_API = re.compile(
    r"^(?P<id>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")
_WEBSITE = re.compile(r"^(?P<bucket>.+)\.s3-website[.-](?P<region>[a-z0-9-]+)\.amazonaws\.com$")
# Domains emulators serve execute-api and website names under, besides the endpoint's own.
_EMULATOR_DOMAINS = ("localhost.localstack.cloud", "localhost")
# What answers when a form is not served: nothing there, or S3's REST API listing the
# bucket instead of hosting it as a website.
_NOT_SERVED = 404


class Target(NamedTuple):
    url: str
    host: str | None  # the Host header to send (None: the URL's own)


def targets(endpoint: str, public_url: str) -> tuple[str, list[Target]]:
    """The kind of name (``execute-api``, ``website``, ``custom-domain``) and the URLs an
    emulator may serve ``public_url`` at, in the order to try them."""
    ep = urlsplit(endpoint)
    parts = urlsplit(public_url)
    host = parts.hostname or ""
    port = ep.port or (443 if ep.scheme == "https" else 80)
    domains = ([ep.hostname] if ep.hostname and not _is_address(ep.hostname) else []) + [
        d for d in _EMULATOR_DOMAINS if d != ep.hostname]

    def at(path: str, vhost: str | None = None) -> Target:
        return Target(urlunsplit((ep.scheme, ep.netloc, path or "/", parts.query, "")),
                      f"{vhost}:{port}" if vhost else None)

    if match := _EXECUTE_API.match(host):
        api_id = match["id"]
        stage, _, rest = parts.path.lstrip("/").partition("/")
        return "execute-api", [at(f"/restapis/{api_id}/{stage}/_user_request_/{rest}")] + [
            at(parts.path, f"{api_id}.execute-api.{d}") for d in domains]
    if match := _WEBSITE.match(host):
        bucket, region = match["bucket"], match["region"]
        return "website", [at(parts.path, f"{bucket}.s3-website{sep}{d}")
                           for d in domains for sep in (f".{region}.", f"-{region}.", ".")]
    return "custom-domain", [at(parts.path, host)]


def _is_address(host: str) -> bool:
    return bool(re.fullmatch(r"[\d.]+|[0-9a-fA-F:]+", host))


def served(kind: str, response: requests.Response) -> bool:
    """Did this form reach the name, rather than the emulator's "nothing here"?"""
    if response.status_code == _NOT_SERVED:
        return False
    # A bucket listing is S3's REST API, not website hosting.
    return not (kind == "website" and b"<ListBucketResult" in response.content[:500])


_chosen: dict[tuple[str, str], int] = {}  # (endpoint, kind) -> index of the form that answered
_lock = threading.Lock()


def request(endpoint: str, method: str, public_url: str, **kwargs: Any) -> requests.Response:
    """``method`` on ``public_url`` as the endpoint serves it (the remembered form, else the
    first form that answers; when none does, the last answer, or its connection error)."""
    kind, forms = targets(endpoint, public_url)
    headers = kwargs.pop("headers", None) or {}
    known = _chosen.get((endpoint, kind))
    order = [known] if known is not None else range(len(forms))
    last: requests.Response | None = None
    failure: requests.ConnectionError | None = None
    for index in order:
        form = forms[index]
        sent = {**headers, "Host": form.host} if form.host else headers
        try:
            response = requests.request(method, form.url, headers=sent, **kwargs)
        except requests.ConnectionError as exc:
            failure = exc
            continue
        if known is not None or served(kind, response):
            with _lock:
                _chosen[(endpoint, kind)] = index
            return response
        last = response
    if last is not None:
        return last
    assert failure is not None
    raise failure


_dns_servers: dict[str, tuple[str, int] | None] = {}


def dns_server(endpoint: str) -> tuple[str, int] | None:
    """The endpoint's DNS server (its address, port 53) if one answers there, else None."""
    if endpoint not in _dns_servers:
        address = urlsplit(endpoint).hostname or "127.0.0.1"
        query = dns.message.make_query("localhost.localstack.cloud", "A")
        try:
            dns.query.udp(query, address, port=53, timeout=1)
            _dns_servers[endpoint] = (address, 53)
        except (OSError, dns.exception.DNSException):
            _dns_servers[endpoint] = None
    return _dns_servers[endpoint]


def ask(server: tuple[str, int], name: str, rdtype: str = "A"
        ) -> tuple[tuple[str, ...], int, tuple[str, ...]]:
    """``name`` asked of ``server``: the records in answer order, the lowest TTL, and the
    addresses (what :class:`helpers.connect.net.DnsAnswer` holds besides the name)."""
    response = dns.query.udp(dns.message.make_query(name, rdtype), server[0], port=server[1],
                             timeout=2)
    records = [rdata.to_text() for rrset in response.answer for rdata in rrset]
    addresses = [rdata.to_text() for rrset in response.answer for rdata in rrset
                 if rrset.rdtype == dns.rdatatype.A]
    ttl = min((rrset.ttl for rrset in response.answer), default=0)
    return tuple(records), ttl, tuple(addresses)
