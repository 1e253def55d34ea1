"""ACM DNS validation: a certificate is issued once its validation CNAMEs exist in DNS.

moto issues every Amazon-issued certificate ``MOTO_ACM_VALIDATION_WAIT``
seconds after the request, records or not. In the sandbox a certificate
requested with ``ValidationMethod=DNS`` stays ``PENDING_VALIDATION`` until,
for every domain validation option, the ``ResourceRecord`` that
DescribeCertificate shows (``_<token>.<domain>. CNAME _<token>.acm-validations.aws.``)
resolves through the sandbox DNS, i.e. exists in one of the hosted zones;
then it becomes ``ISSUED`` (and each option's ``ValidationStatus`` ``SUCCESS``).
As on AWS, ``example.com`` and ``*.example.com`` share one validation record
(moto derives the record name from the domain without ``*.``).

Checks happen whenever moto looks at a certificate (Describe/List/Get all go
through ``CertBundle.check``) and in a background loop four times a second, in real
time (:mod:`helpers.sandbox.clock`, ``certificate_validation_check``).
Certificates requested with ``ValidationMethod=EMAIL`` keep moto's behaviour
(issued after ``MOTO_ACM_VALIDATION_WAIT``, as if the owner approved the email).

A certificate in use cannot be deleted (ACM DeleteCertificate: "You cannot delete an
ACM certificate that is being used by another AWS service. To delete a certificate
that is in use, the certificate association must first be removed."): while an API
Gateway custom domain of its account and region names it (``certificateArn`` or
``regionalCertificateArn``), DeleteCertificate answers ``ResourceInUseException`` and
DescribeCertificate lists the domain's ARN under ``InUseBy`` (``InUse`` in the
summaries). moto deletes such a certificate. A domain deleted a moment ago keeps its
certificate in use for a while (:mod:`helpers.sandbox.apigateway.domains`).

moto internals used: ``moto.acm.models.CertBundle.check`` and ``describe`` (wrapped),
``AWSCertificateManagerResponse.request_certificate`` (wrapped to note the
validation method), ``AWSCertificateManagerBackend._certificates`` and
``delete_certificate`` (wrapped), ``moto.apigateway`` backends' ``domain_names``.
The wrappers are declared in ``PATCHES`` and installed by :mod:`helpers.sandbox.patches`;
``check`` asks the running validator (``_active``), and is moto's own without one.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from helpers.sandbox.apigateway.domains import lingering_users
from helpers.sandbox.context import SandboxContext
from helpers.sandbox.route53.dns_records import normalize_name

log = logging.getLogger("helpers.sandbox.acm.validation")


def users_of(arn: str) -> list[str]:
    """ARNs of the API Gateway custom domains that use certificate ``arn`` (same account and
    region, as on AWS), including those deleted too recently to have let go of it."""
    from moto.apigateway.models import apigateway_backends

    parts = arn.split(":")
    if len(parts) < 6:
        return []
    region, account = parts[3], parts[4]
    try:
        domains = list(apigateway_backends[account][region].domain_names.values())
    except (KeyError, RuntimeError):
        domains = []
    users = [f"arn:{parts[1]}:apigateway:{region}::/domainnames/{domain.domain_name}"
             for domain in domains
             if arn in (domain.certificate_arn, domain.regional_certificate_arn)]
    # A domain deleted a moment ago still holds its certificate (apigateway_domains).
    return users + [user for user in lingering_users(arn) if user not in users]


def _in_use_error(arn: str, users: list[str]) -> Exception:
    from moto.core.exceptions import AWSError

    class ResourceInUse(AWSError):
        TYPE = "ResourceInUseException"

    return ResourceInUse(message=f"Certificate {arn} is in use by {', '.join(users)}. "
                         "Remove the association and try again.")

METHOD_ATTR = "sandbox_validation_method"


_active: CertificateValidator | None = None  # the validator the patched check asks


# ---------------------------------------------------------------- moto patches
# Installed by helpers.sandbox.patches.
def _wrap_delete_certificate(original: Any) -> Any:
    def delete_certificate(backend: Any, arn: str) -> None:
        if arn in backend._certificates and (users := users_of(arn)):
            raise _in_use_error(arn, users)
        original(backend, arn)

    return delete_certificate


def _wrap_describe(original: Any) -> Any:
    def describe(bundle: Any) -> dict[str, Any]:
        result = original(bundle)
        certificate = result["Certificate"]
        certificate["InUseBy"] = [*certificate.get("InUseBy", []), *users_of(bundle.arn)]
        return result

    return describe


def _wrap_check(original: Any) -> Any:
    def check(bundle: Any) -> None:
        validator = _active
        if validator is not None and validator.is_dns_pending(bundle):
            validator.try_issue(bundle)
            return
        original(bundle)

    return check


def _wrap_request_certificate(original: Any) -> Any:
    def request_certificate(response: Any) -> Any:
        result = original(response)
        method = (response._get_param("ValidationMethod") or "EMAIL").upper()
        arn = getattr(result, "result", {}).get("CertificateArn") if result else None
        if arn:
            cert = response.acm_backend._certificates.get(arn)
            if cert is not None and not hasattr(cert, METHOD_ATTR):
                setattr(cert, METHOD_ATTR, method)
        return result

    return request_certificate


PATCHES = (
    ("moto.acm.models:CertBundle.check", _wrap_check),
    ("moto.acm.models:CertBundle.describe", _wrap_describe),
    ("moto.acm.responses:AWSCertificateManagerResponse.request_certificate",
     _wrap_request_certificate),
    ("moto.acm.models:AWSCertificateManagerBackend.delete_certificate",
     _wrap_delete_certificate),
)


class CertificateValidator:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        global _active
        _active = self
        self._thread = threading.Thread(target=self._run, name="acm-validation", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        global _active
        if _active is self:
            _active = None
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    # ----------------------------------------------------------------------

    @staticmethod
    def is_dns_pending(bundle: Any) -> bool:
        # Without a noted method (e.g. made outside the API), DNS validation applies.
        return (bundle.type == "AMAZON_ISSUED" and bundle.status == "PENDING_VALIDATION"
                and getattr(bundle, METHOD_ATTR, "DNS") == "DNS")

    def validation_records(self, bundle: Any) -> list[dict[str, str]]:
        """The distinct CNAMEs DescribeCertificate asks the owner to create."""
        options = bundle.describe()["Certificate"].get("DomainValidationOptions", [])
        records = {}
        for option in options:
            record = option.get("ResourceRecord")
            if record:
                records[normalize_name(record["Name"])] = record
        return list(records.values())

    def try_issue(self, bundle: Any) -> bool:
        """Issue the certificate if every validation CNAME resolves. Returns True if issued."""
        resolver = self.ctx.resolver
        if resolver is None:
            return False
        with self._lock:
            if not self.is_dns_pending(bundle):
                return bundle.status == "ISSUED"
            records = self.validation_records(bundle)
            if not records:
                return False
            for record in records:
                answer = resolver.resolve(record["Name"], "CNAME")
                wanted = normalize_name(record["Value"])
                if not any(r.type == "CNAME" and normalize_name(r.value) == wanted
                           for r in answer.records):
                    return False
            bundle.status = "ISSUED"
            log.info("certificate %s issued: its DNS validation records exist", bundle.arn)
            return True

    def _run(self) -> None:
        while not self._stop.wait(self.ctx.clock.seconds("certificate_validation_check")):
            try:
                for bundle in self._pending():
                    self.try_issue(bundle)
            except Exception:  # keep validating whatever one certificate does
                log.exception("ACM validation loop")

    def _pending(self) -> list[Any]:
        from moto.acm.models import acm_backends

        pending = []
        for region in self.ctx.settings.regions:
            try:
                backend = acm_backends[self.ctx.account_id][region]
                certificates = list(backend._certificates.values())
            except (KeyError, RuntimeError):
                continue
            pending.extend(b for b in certificates if self.is_dns_pending(b))
        return pending
