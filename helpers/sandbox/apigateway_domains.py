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
  :mod:`helpers.sandbox.acm` adds to a certificate's users.

Deleted domains are remembered in memory only: after a restart their
certificates are free, as they would be by then on AWS.

moto internals used: ``APIGatewayBackend.create_domain_name`` and
``delete_domain_name`` (wrapped), ``domain_names``.
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


class CustomDomainNames:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._originals: dict[str, Any] = {}

    def start(self) -> None:
        from moto.apigateway.exceptions import ConflictException
        from moto.apigateway.models import APIGatewayBackend

        original_create = APIGatewayBackend.create_domain_name
        original_delete = APIGatewayBackend.delete_domain_name
        self._originals = {"create": original_create, "delete": original_delete}
        release_s = self.ctx.clock.seconds("certificate_release")

        def create_domain_name(backend: Any, domain_name: str, *args: Any, **kwargs: Any) -> Any:
            if domain_name in backend.domain_names:
                raise ConflictException(f"The domain name you provided already exists: "
                                        f"{domain_name}")
            return original_create(backend, domain_name, *args, **kwargs)

        def delete_domain_name(backend: Any, domain_name: str) -> None:
            domain = backend.domain_names.get(domain_name)
            original_delete(backend, domain_name)
            certificates = {getattr(domain, "certificate_arn", None),
                            getattr(domain, "regional_certificate_arn", None)} - {None, ""}
            until = time.monotonic() + release_s
            with _lock:
                for arn in certificates:
                    _released[_domain_arn(backend.region_name, domain_name)] = (arn, until)

        APIGatewayBackend.create_domain_name = create_domain_name
        APIGatewayBackend.delete_domain_name = delete_domain_name

    def stop(self) -> None:
        if self._originals:
            from moto.apigateway.models import APIGatewayBackend

            APIGatewayBackend.create_domain_name = self._originals["create"]
            APIGatewayBackend.delete_domain_name = self._originals["delete"]
            self._originals = {}
        with _lock:
            _released.clear()
