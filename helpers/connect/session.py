"""boto3 clients for the three modes: sandbox (default), aws, and a custom endpoint.

This module keeps which mode the process uses; what the mode means (where
requests go, with which credentials) is its target's (:mod:`helpers.core.target`),
and everything else speaks plain boto3 and HTTP. The mode is chosen once per
process: by the command from its settings (:func:`use_mode`), by the settings
form when a learner saves, or else from the resolved settings at the first
client (:mod:`helpers.core.settings`) - never re-read from the environment for each
client.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config

from helpers.connect import calllog, cell_calls, permissions
from helpers.core import settings
from helpers.core.target import ModeError, Target, for_mode

__all__ = ["ModeError", "account_id", "client", "current_mode", "current_target",
           "endpoint_url", "use_mode"]

_RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 10}, connect_timeout=5,
                  read_timeout=60)
# For calls whose throttling the caller handles itself, to say what it is waiting for.
_ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5,
                      read_timeout=60)


_chosen_mode: str | None = None


def use_mode(mode: str) -> None:
    """Choose the mode every client of this process uses from now on."""
    global _chosen_mode
    for_mode(mode)  # ModeError, naming the modes, for one that is not
    _chosen_mode = mode


def current_mode() -> str:
    """The mode chosen for this process; the resolved settings' mode if none was chosen."""
    if _chosen_mode is None:
        use_mode(settings.resolve().mode)
    assert _chosen_mode is not None
    return _chosen_mode


def current_target() -> Target:
    """The target of the mode chosen for this process (:func:`current_mode`)."""
    return for_mode(current_mode())


def endpoint_url() -> str | None:
    """Where boto3 sends requests, or None for real AWS."""
    return current_target().endpoint_url()


def client(service: str, region: str, retries: bool = True) -> Any:
    """A boto3 client with adaptive retries (or, ``retries=False``, none), for the current mode."""
    target = current_target()
    profile = os.environ.get("AWS_PROFILE")
    # The session's arguments are part of the key: a process that changes identity (the
    # sandbox's credentials variable) gets clients of the new one.
    identity = tuple(sorted(target.session_arguments(profile).items()))
    return _client(service, region, target, target.endpoint_url(), profile, retries, identity)


@lru_cache(maxsize=64)
def _client(service: str, region: str, target: Target, url: str | None, profile: str | None,
            retries: bool = True, identity: tuple = ()) -> Any:
    # One boto3 session per mode: its loader keeps each service's model once, which makes a
    # new client ~7x cheaper than with a session of its own (0.02 s instead of 0.14 s). A
    # session is not safe to share between threads while it creates clients, hence the lock.
    with _creating:
        return _session(target, profile, identity).client(
            service, region_name=region, endpoint_url=url,
            config=_RETRIES if retries else _ONE_ATTEMPT)


_creating = threading.Lock()


@lru_cache(maxsize=8)
def _session(target: Target, profile: str | None, identity: tuple = ()) -> boto3.session.Session:
    made = boto3.session.Session(**(dict(identity) or target.session_arguments(profile)))
    calllog.attach(made)  # before any client: each client copies the session's handlers
    permissions.attach(made)  # after the call log's: a denied call is logged, then explained
    if not target.account_in_host:
        made.events.register("before-sign.s3-control", _without_account_host)
    return made


def _without_account_host(request: Any, **_: Any) -> None:
    """S3 Control names the account in the host (``<account>.s3-control.…``); one endpoint
    (the sandbox, ``AWS_ENDPOINT_URL``) answers only at its own host name."""
    parts = urlsplit(request.url)
    first, _, rest = parts.netloc.partition(".")
    if first.isdigit() and rest:
        request.url = urlunsplit(parts._replace(netloc=rest))


def account_id(region: str) -> str:
    return client("sts", region).get_caller_identity()["Account"]


cell_calls.register_in_kernel()  # in a notebook, each cell shows the AWS calls it made
