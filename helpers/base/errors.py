"""The kit's errors for a learner, and one sentence for anything a learner can act on.

Every error the kit raises for a learner derives from :class:`WorkshopError`
and carries the sentence to show: what went wrong and what to do. `workshop`
prints that sentence (one line, exit code 2); a notebook shows it as the
exception's message. :func:`explain` adds the AWS failures a learner can fix
(credentials, permissions, an unreachable endpoint).

This module imports nothing of the kit, so every module can raise these.
"""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)


class WorkshopError(Exception):
    """A problem a learner can act on; ``sentence`` says what went wrong and what to do."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)

    @property
    def sentence(self) -> str:
        return str(self)


class UsageError(WorkshopError, ValueError):
    """A value given to a command or a helper is outside what it accepts."""


class PermissionDenied(ClientError, WorkshopError):
    """AWS denied a call for want of a permission: still the ``ClientError`` AWS's answer
    makes (``response``, ``operation_name``), whose message is the sentence to show
    (:mod:`helpers.connect.permissions` writes it)."""

    def __init__(self, error_response: dict, operation_name: str, sentence: str) -> None:
        super().__init__(error_response, operation_name)
        self._sentence = sentence

    def __str__(self) -> str:
        return self._sentence

    def __reduce__(self) -> tuple:
        return type(self), (self.response, self.operation_name, self._sentence)


def explain(exc: BaseException) -> str | None:
    """The one-line sentence for a learner's error, or None for a real bug."""
    if isinstance(exc, WorkshopError):
        return one_line(exc.sentence)
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
            return (f"AWS denied {exc.operation_name} ({error.get('Message', '')}): your "
                    "credentials lack permissions the workshop needs - attach the policy "
                    "`workshop iam-policy` prints to your IAM user or role")
    return None


def one_line(text: str) -> str:
    """``text`` on one line: a terminal shows the sentence whole, never a wrapped fragment."""
    return " ".join(text.split())
