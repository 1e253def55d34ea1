"""The sandbox's own certificate authority, for HTTPS through its forward proxy.

A browser (or ``curl -x``) asked for an ``https://`` URL through a proxy sends
``CONNECT host:443`` and then speaks TLS. The proxy answers that TLS itself with
a certificate for ``host`` issued on the spot by this local CA, reads the plain
HTTP request inside and hands it to the region listener DNS chose, as for
``http://`` URLs. Nothing else in the sandbox speaks TLS: the helpers and the
health checkers use plain HTTP on loopback directly (``helpers/connect/net.py``).

The CA is made fresh for every sandbox start (an EC P-256 key that never leaves
the process's temporary directory); its certificate is written to
``ca.pem`` there, and ``workshop sandbox status`` shows the path, so a client
can verify what it gets (``curl --cacert <ca_cert>``) instead of ignoring errors.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import ssl
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "workshop sandbox local CA"
LEAF_DAYS = 30
_NOT_BEFORE_SLACK = dt.timedelta(days=1)  # clocks of a container and its host may differ


class LocalCA:
    """Issues a server certificate per host name and keeps the TLS contexts for them."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="workshop-sandbox-tls-"))
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "workshop kit")])
        public = self._key.public_key()
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _NOT_BEFORE_SLACK)
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self._ca_pem = self._cert.public_bytes(serialization.Encoding.PEM)
        self.ca_cert_path = self.directory / "ca.pem"
        self.ca_cert_path.write_bytes(self._ca_pem)
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def server_context(self, host: str) -> ssl.SSLContext:
        """A server-side TLS context presenting a certificate for ``host``.

        The context switches to the certificate of the SNI name when the client
        sends one that differs (it normally is the CONNECT host).
        """
        host = host.lower().rstrip(".")
        with self._lock:
            context = self._contexts.get(host)
            if context is None:
                context = self._contexts[host] = self._new_context(host)
        return context

    def _new_context(self, host: str) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        try:
            alt_name: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            alt_name = x509.DNSName(host)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])]))
            .issuer_name(self._cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _NOT_BEFORE_SLACK)
            .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
            .add_extension(x509.SubjectAlternativeName([alt_name]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        # ssl loads a certificate chain only from files.
        stem = self.directory / f"leaf-{len(self._contexts)}"
        chain, key_file = stem.with_suffix(".pem"), stem.with_suffix(".key")
        chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + self._ca_pem)
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2  # API Gateway's TLS_1_2 policy
        context.load_cert_chain(chain, key_file)
        context.set_alpn_protocols(["http/1.1"])  # no HTTP/2 inside the tunnel
        context.sni_callback = self._sni
        return context

    def _sni(self, sock: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        if server_name:
            sock.context = self.server_context(server_name)
