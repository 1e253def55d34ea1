"""Fixtures of the sandbox tests; the started sandbox itself is in tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture()
def aws(sandbox):
    """boto3 clients for the test sandbox: ``aws("lambda", "eu-west-1")``."""
    from helpers.session import client

    return client
