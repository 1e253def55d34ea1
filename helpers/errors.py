"""Turning AWS and runner exceptions into one sentence a learner can act on."""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)


def explain(exc: BaseException) -> str | None:
    """A one-line explanation for known failures, or None for real bugs."""
    from helpers.replication import MissingTable
    from helpers.runner import RunError
    from helpers.stacks import StackError

    if isinstance(exc, (RunError, StackError, MissingTable)):
        return str(exc)
    if isinstance(exc, NoCredentialsError):
        return ("no AWS credentials found: run `aws configure` or `aws sso login`, or set "
                "AWS_PROFILE; to work without an account use the sandbox (--mode sandbox)")
    if isinstance(exc, ProfileNotFound):
        return f"{exc}: check AWS_PROFILE against `aws configure list-profiles`"
    if isinstance(exc, NoRegionError):
        return "no region configured: pass --primary/--secondary or set AWS_DEFAULT_REGION"
    if isinstance(exc, EndpointConnectionError):
        return (f"cannot reach {exc.kwargs.get('endpoint_url', 'the endpoint')}: is the "
                "sandbox running (`workshop sandbox status`) or the network up?")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if code in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                    "UnrecognizedClientException"):
            return f"AWS rejected the credentials ({code}): refresh them (`aws sso login`)"
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return (f"AWS denied {exc.operation_name} ({error.get('Message', '')}): the "
                    "workshop needs administrator-like permissions in a sandbox account")
    return None
