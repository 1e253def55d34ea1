"""API Gateway custom domain names as AWS keeps them: unique, and slow to let go.

* **Unique per region, whoever asks.** On AWS a custom domain name belongs to
  one account in a region; in the sandbox's one account moto would silently
  replace an existing domain (and its mappings' target) with a second
  CreateDomainName of the same name. The sandbox answers ``ConflictException``
  (HTTP 409), as API Gateway does for a name that already exists.
* **A deleted domain keeps its certificate in use for a while.** API Gateway
  releases the certificate of a deleted custom domain asynchronously; until then
  ACM's DeleteCertificate answers ``ResourceInUseException``. AWS publishes no
  figure ("Deleting a certificate is eventually consistent") and reports run
  from a minute to half an hour; the sandbox keeps the certificate in use for
  ``certificate_release`` (one minute, scaled: :mod:`helpers.sandbox.clock`): long
  enough that clean-up must wait for it as it does on AWS (up to ten minutes there,
  then it keeps the certificate with advice), short enough not to dominate a workshop
  run. :func:`lingering_users` is what
  :mod:`helpers.sandbox.acm.validation` adds to a certificate's users.

Deleted domains are remembered in memory only: after a restart their
certificates are free, as they would be by then on AWS.

moto internals used: ``APIGatewayBackend.create_domain_name`` and
``delete_domain_name`` (wrapped: ``PATCHES``, installed by :mod:`helpers.sandbox.patches`),
``domain_names``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from helpers.sandbox.clock import aws_seconds
from helpers.sandbox.context import SandboxContext

CERTIFICATE_RELEASE_S = aws_seconds("certificate_release")  # AWS seconds (the clock's table)

_released: dict[str, tuple[str, float]] = {}  # domain ARN -> (certificate ARN, in use until)
_lock = threading.Lock()


def lingering_users(certificate_arn: str) -> list[str]:
    """ARNs of deleted custom domains that still hold ``certificate_arn``."""
    now = time.monotonic()
    with _lock:
        for domain, (_, until) in list(_released.items()):
            if until <= now:
                del _released[domain]
        return [domain for domain, (arn, _) in _released.items() if arn == certificate_arn]


def _domain_arn(region: str, name: str) -> str:
    return f"arn:aws:apigateway:{region}::/domainnames/{name}"


_active: CustomDomainNames | None = None  # whose clock the patched deletion reads


# ---------------------------------------------------------------- moto patches
# Installed by helpers.sandbox.patches. Both run outside helpers.sandbox.apigateway.executor's
# wrappers of the same methods (order 2 to its 1): a name already taken is refused
# before anything of the existing domain is touched.
def _wrap_create_domain_name(original: Any) -> Any:
    def create_domain_name(backend: Any, domain_name: str, *args: Any, **kwargs: Any) -> Any:
        if domain_name in backend.domain_names:
            from moto.apigateway.exceptions import ConflictException

            raise ConflictException(f"The domain name you provided already exists: "
                                    f"{domain_name}")
        return original(backend, domain_name, *args, **kwargs)

    return create_domain_name


def _wrap_delete_domain_name(original: Any) -> Any:
    def delete_domain_name(backend: Any, domain_name: str, *args: Any, **kwargs: Any) -> Any:
        domain = backend.domain_names.get(domain_name)
        deleted = original(backend, domain_name, *args, **kwargs)
        component = _active
        if component is None:
            return deleted
        certificates = {getattr(domain, "certificate_arn", None),
                        getattr(domain, "regional_certificate_arn", None)} - {None, ""}
        until = time.monotonic() + component.ctx.clock.seconds("certificate_release")
        with _lock:
            for arn in certificates:
                _released[_domain_arn(backend.region_name, domain_name)] = (arn, until)
        return deleted

    return delete_domain_name


PATCHES = (
    ("moto.apigateway.models:APIGatewayBackend.create_domain_name",
     _wrap_create_domain_name, 2),
    ("moto.apigateway.models:APIGatewayBackend.delete_domain_name",
     _wrap_delete_domain_name, 2),
)


class CustomDomainNames:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def start(self) -> None:
        global _active
        _active = self

    def stop(self) -> None:
        global _active
        if _active is self:
            _active = None
        with _lock:
            _released.clear()
