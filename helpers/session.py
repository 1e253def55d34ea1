"""boto3 clients for the three modes: sandbox (default), aws, and a custom endpoint.

This module and :mod:`helpers.net` are the only places that know which mode
is in use; everything else speaks plain boto3 and HTTP.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

MODES = ("sandbox", "aws", "endpoint")
SANDBOX_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

_RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 10}, connect_timeout=5,
                  read_timeout=60)


class ModeError(ValueError):
    """The chosen mode cannot be used as configured."""


def current_mode() -> str:
    mode = os.environ.get("WORKSHOP_MODE", "sandbox")
    if mode not in MODES:
        raise ModeError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
    return mode


def endpoint_url() -> str | None:
    """Where boto3 sends requests, or None for real AWS."""
    mode = current_mode()
    if mode == "sandbox":
        from helpers.sandbox.process import require_status

        return require_status()["endpoint_url"]
    if mode == "endpoint":
        url = os.environ.get("AWS_ENDPOINT_URL")
        if not url:
            raise ModeError("mode 'endpoint' needs AWS_ENDPOINT_URL, e.g. http://localhost:4566")
        return url
    return None


def client(service: str, region: str) -> Any:
    """A boto3 client with adaptive retries, for the current mode."""
    return _client(service, region, current_mode(), endpoint_url(),
                   os.environ.get("AWS_PROFILE"))


@lru_cache(maxsize=64)
def _client(service: str, region: str, mode: str, url: str | None, profile: str | None) -> Any:
    if mode == "aws":
        session = boto3.session.Session(profile_name=profile, region_name=region)
        return session.client(service, config=_RETRIES)
    credentials = SANDBOX_CREDENTIALS if mode == "sandbox" else {}
    session = boto3.session.Session(region_name=region, **credentials)
    return session.client(service, endpoint_url=url, config=_RETRIES)


def account_id(region: str) -> str:
    return client("sts", region).get_caller_identity()["Account"]
