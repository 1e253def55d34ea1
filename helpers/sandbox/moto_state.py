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
  objects): left out, and parsed again on load from the PEM the bundle keeps;
* S3 objects: their bytes are read without taking the object's lock and
  without moving its file position (moto's ``FakeKey.__getstate__`` does both),
  since :mod:`helpers.sandbox.snapshot` pickles in a forked copy of the process,
  where a lock another thread held at the fork would never be released.

moto itself drops a function's Docker client (``LambdaFunction.__getstate__``)
and rebuilds S3 objects' temporary files (``FakeKey.__setstate__``).

Nothing here takes a lock or calls into OpenSSL while pickling, for the same
reason.
"""

from __future__ import annotations

import copyreg
import importlib
import io
import os
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


def _cert_bundle(bundle: Any) -> tuple:
    state = {k: v for k, v in vars(bundle).items() if k not in ("_key", "_cert")}
    return _bare_instance, (type(bundle),), state, None, None, _set_cert_bundle_state


def _set_cert_bundle_state(bundle: Any, state: dict[str, Any]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    bundle.__dict__.update(state)
    bundle._key = serialization.load_pem_private_key(bundle.key, password=None)
    bundle._cert = x509.load_pem_x509_certificate(bundle.cert)


def _s3_object(key: Any) -> tuple:
    state = {k: v for k, v in vars(key).items() if k not in ("_value_buffer", "lock")}
    state["value"] = _unlocked_bytes(key._value_buffer)
    return _bare_instance, (type(key),), state  # FakeKey.__setstate__ rebuilds the rest


def _unlocked_bytes(buffer: Any) -> bytes:
    if buffer.closed:
        return b""  # a deleted object's buffer (moto's __getstate__ says the same)
    inner = buffer._file  # SpooledTemporaryFile: BytesIO, or a real file past its size
    if isinstance(inner, io.BytesIO):
        return inner.getvalue()
    size = os.fstat(inner.fileno()).st_size
    return os.pread(inner.fileno(), size, 0)  # pread: the shared file position stays


def _dispatch_table() -> dict[type, Any]:
    table: dict[type, Any] = dict(copyreg.dispatch_table)
    table[threading.Condition] = _fresh_condition
    table[type(threading.Lock())] = _fresh_lock
    table[type(threading.RLock())] = _fresh_rlock
    table[weakref.WeakValueDictionary] = _weak_values
    # Only types whose modules are loaded can have instances: no import costs here.
    for module, name, reducer in (("moto.awslambda.models", "LambdaStorage",
                                   _storage_with_aliases),
                                  ("moto.acm.models", "CertBundle", _cert_bundle),
                                  ("moto.s3.models", "FakeKey", _s3_object)):
        loaded = sys.modules.get(module)
        if loaded is not None:
            table[getattr(loaded, name)] = reducer
    return table
