"""The ``WORKSHOP_*`` environment, set in one place (and put back as it was).

Every change the kit makes to its own environment variables (a workshop home,
the sandbox's status file, the settings) goes through :func:`apply` (for good,
in a process of its own) or :func:`scoped` (for a ``with`` block).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

PREFIX = "WORKSHOP_"


def apply(values: Mapping[str, str | None]) -> None:
    """Set each variable of ``values`` (None: unset it)."""
    for name in values:
        if not name.startswith(PREFIX):
            raise ValueError(f"{name} is not a {PREFIX}* variable")
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def workshop_variables() -> dict[str, str]:
    """Every ``WORKSHOP_*`` variable now set, with its value."""
    return {name: value for name, value in os.environ.items() if name.startswith(PREFIX)}


@contextlib.contextmanager
def scoped(values: Mapping[str, str | None], every_variable: bool = False) -> Iterator[None]:
    """``values`` applied for a ``with`` block, and put back as they were afterwards.

    With ``every_variable``, every ``WORKSHOP_*`` variable is put back as it was
    before the block, including any the block itself set or unset.
    """
    before = workshop_variables()
    restored = set(before) | set(values) if every_variable else set(values)
    apply(values)
    try:
        yield
    finally:
        if every_variable:
            restored |= set(workshop_variables())
        apply({name: before.get(name) for name in sorted(restored)})
