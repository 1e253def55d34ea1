"""moto's in-memory control plane as one picklable value, and back.

moto keeps each service's state in plain Python objects: a ``BackendDict`` per
service, then account, then region, then the backend. :func:`capture` takes
every backend of the sandbox's account; :func:`dumps` pickles them **in one
pickle**, so objects shared between services stay shared after a restore (a
stack's resources are the very Lambda functions, tables and queues the other
backends hold).

Pickling moto 5.2.5's backends works except for a few transient members,
handled here by the pickler's own dispatch table (never copyreg's global one):

* locks and conditions (an SQS queue's message lock): restored as fresh,
  unlocked ones, since no request survives a restart;
* Lambda's ``LambdaStorage``/``LayerStorage``: a ``WeakValueDictionary`` of ARNs
  and a ``defaultdict`` whose factory is a lambda, rebuilt from plain dicts;
* ACM certificates' parsed private key and certificate (cryptography's Rust
  objects): stored as DER and parsed again on load.

moto itself drops a function's Docker client (``LambdaFunction.__getstate__``)
and rebuilds S3 objects' temporary files (``FakeKey.__setstate__``).
"""

from __future__ import annotations

import copyreg
import importlib
import io
import pickle
import sys
import threading
import weakref
from collections import defaultdict
from typing import Any

# (module, attribute) of a BackendDict, e.g. ("moto.dynamodb.models", "dynamodb_backends")
Address = tuple[str, str]
Captured = dict[Address, dict[str, Any]]  # address -> region -> backend


def capture(account_id: str) -> Captured:
    """Every backend moto has created for ``account_id`` (live objects: pickle them at once)."""
    from moto.core.base_backend import BackendDict

    captured: Captured = {}
    for backends in list(BackendDict._instances):
        regions = dict.get(backends, account_id)
        if regions:
            captured[_address(backends)] = dict(dict.items(regions))
    return captured


def restore(captured: Captured, account_id: str) -> None:
    """Put unpickled backends in the place moto looks them up."""
    for (module, attribute), regions in captured.items():
        backends = getattr(importlib.import_module(module), attribute)
        account = backends[account_id]  # creates the account's (empty) entry
        for region, backend in regions.items():
            dict.__setitem__(account, region, backend)


def dumps(value: Any) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _dispatch_table()
    pickler.dump(value)
    return buffer.getvalue()


def loads(data: bytes) -> Any:
    return pickle.loads(data)


_addresses: dict[int, Address] = {}


def _address(backends: Any) -> Address:
    """Where a BackendDict lives, so a new process finds the same one."""
    known = _addresses.get(id(backends))
    if known:
        return known
    home = backends.backend.__module__  # usually beside its backend class
    candidates = [home] + [name for name in list(sys.modules) if name.startswith("moto.")]
    for name in candidates:
        module = sys.modules.get(name)
        for attribute, value in list(vars(module).items()) if module else ():
            if value is backends:
                _addresses[id(backends)] = (name, attribute)
                return name, attribute
    raise LookupError(f"moto's {backends.service_name} backends are not a module attribute")


# ---------------------------------------------------------------- reducers
def _fresh_condition(condition: threading.Condition) -> tuple:
    return threading.Condition, ()


def _fresh_lock(lock: Any) -> tuple:
    return threading.Lock, ()


def _fresh_rlock(lock: Any) -> tuple:
    return threading.RLock, ()


def _weak_values(mapping: weakref.WeakValueDictionary) -> tuple:
    # The values are held by the rest of the pickle (LambdaStorage._functions).
    return weakref.WeakValueDictionary, (), None, None, iter(list(mapping.items()))


def _storage_with_aliases(storage: Any) -> tuple:
    state = dict(vars(storage))
    state["_aliases"] = dict(state["_aliases"])
    return _bare_instance, (type(storage),), state, None, None, _set_storage_state


def _bare_instance(cls: type) -> Any:
    return cls.__new__(cls)


def _set_storage_state(storage: Any, state: dict[str, Any]) -> None:
    state["_aliases"] = defaultdict(dict, state["_aliases"])  # moto: defaultdict(lambda: {})
    storage.__dict__.update(state)


def _private_key(key: Any) -> tuple:
    from cryptography.hazmat.primitives import serialization

    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return _load_private_key, (der,)


def _load_private_key(der: bytes) -> Any:
    # cryptography's loaders are Rust functions pickle cannot name: load through this one.
    from cryptography.hazmat.primitives import serialization

    return serialization.load_der_private_key(der, None)


def _certificate(certificate: Any) -> tuple:
    from cryptography.hazmat.primitives import serialization

    return _load_certificate, (certificate.public_bytes(serialization.Encoding.DER),)


def _load_certificate(der: bytes) -> Any:
    from cryptography import x509

    return x509.load_der_x509_certificate(der)


def _dispatch_table() -> dict[type, Any]:
    table: dict[type, Any] = dict(copyreg.dispatch_table)
    table[threading.Condition] = _fresh_condition
    table[type(threading.Lock())] = _fresh_lock
    table[type(threading.RLock())] = _fresh_rlock
    table[weakref.WeakValueDictionary] = _weak_values
    # Only types whose modules are loaded can have instances: no import costs here.
    lambda_models = sys.modules.get("moto.awslambda.models")
    if lambda_models is not None:
        table[lambda_models.LambdaStorage] = _storage_with_aliases
    if "moto.acm.models" in sys.modules:
        from cryptography.hazmat.bindings._rust import openssl, x509

        table[openssl.rsa.RSAPrivateKey] = _private_key
        table[openssl.ec.ECPrivateKey] = _private_key
        table[x509.Certificate] = _certificate
    return table
