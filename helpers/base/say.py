"""The progress callback every long-running helper takes: told one line at a time.

A helper that reports progress takes ``progress: Say | None = None`` (or
``say: Say = print`` for a command) and turns it into a callable with
:func:`or_quiet`, so None means "say nothing" everywhere alike.
"""

from __future__ import annotations

from collections.abc import Callable

Say = Callable[[str], None]


def quiet(_line: str) -> None:
    """Says nothing: the callback when none is given."""


def or_quiet(progress: Say | None) -> Say:
    """``progress``, or :func:`quiet` when it is None."""
    return progress or quiet
