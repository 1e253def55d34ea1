"""The sandbox's public names under ``.localhost``: what a browser opens with no proxy.

A learner's browser cannot resolve the sandbox's names (they live in its own DNS,
on a port of its own), but every current browser resolves any name under
``localhost`` to loopback by itself (RFC 6761, section 6.3). So the sandbox gives
each public name a second spelling, the same name with ``.localhost`` appended,
served by its front (:mod:`helpers.sandbox.http_front`) on ``127.0.0.1:<http port>``:

* ``http://<bucket>.s3-website-<region>.amazonaws.com/`` (a website endpoint) is opened
  as ``http://<bucket>.s3-website-<region>.amazonaws.com.localhost:<http port>/``;
* ``https://<id>.execute-api.<region>.amazonaws.com/prod/`` (a stage) is called as
  ``http://<id>.execute-api.<region>.amazonaws.com.localhost:<http port>/prod/``;
* ``https://api.<domain>/`` (the failover name of module 3.3) is called as
  ``http://api.<domain>.localhost:<http port>/``.

One rule, no table of participants or buckets: the front strips ``.localhost``,
resolves the name that is left through the sandbox's DNS like any client (a website
endpoint leads to its bucket's region, ``api.<domain>`` follows its failover
record) and relays the request to that region's listener under the AWS name. The
scheme becomes ``http``: the region listeners play HTTPS with plain HTTP, and a
browser counts ``*.localhost`` as a secure context anyway.

The web page applies the same rule to the API it calls (``web/app.js``: a page
served under ``.localhost`` calls ``<API name>.localhost`` on its own port), so its
``config.js`` keeps the API URL it has on AWS. Only :mod:`helpers.core.target`'s
sandbox target hands these URLs out; on AWS a link is the real URL.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

SUFFIX = ".localhost"


def is_local(host: str) -> bool:
    """Is ``host`` (a name, without its port) ``localhost``, under it, or an IP literal?"""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(SUFFIX):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def browser_url(url: str, port: int) -> str:
    """``url`` as a browser on this machine opens it in the sandbox: its host under
    ``.localhost`` on the front's ``port``, over ``http``; path, query and fragment kept.

    A URL that is already local (``localhost``, ``*.localhost``, an IP literal) is
    returned as it is. ``ValueError`` for anything but an absolute http(s) URL.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    host = parts.hostname.rstrip(".")
    if is_local(host):
        return url
    return urlunsplit(("http", f"{host}{SUFFIX}:{port}", parts.path, parts.query,
                       parts.fragment))


def public_name(host: str) -> str | None:
    """The public name a browser's ``Host`` (``<name>.localhost[:port]``) stands for,
    or None when the host is not such a name (no suffix, bare ``localhost``, an IP)."""
    host = host.strip().lower()
    if host.startswith("["):  # an IPv6 literal, with or without a port
        return None
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    host = host.rstrip(".")
    if not host.endswith(SUFFIX):
        return None
    name = host[: -len(SUFFIX)]
    if not name or is_local(name) or any(not label for label in name.split(".")):
        return None
    return name


def localize_location(location: str, port: int) -> str:
    """A redirect's ``Location`` as the browser follows it: an absolute http(s) URL to a
    public name moves under ``.localhost``; a relative one (and anything else) is kept."""
    try:
        return browser_url(location, port)
    except ValueError:
        return location
