"""The settings in effect, resolved one way for every command, the runner and the notebooks.

    defaults < saved settings (notebook 00) < WORKSHOP_* environment < command-line flags

The participant comes first (``--prefix``, else ``WORKSHOP_PREFIX``, else the
one notebook 00 saved last in this workshop home, else the default), because
the saved layer is *that participant's* settings: ``--prefix bob`` never picks
up another participant's domain.

Nothing here writes. Saving is notebook 00's form (:func:`helpers.core.state.remember_config`),
so a command never saves settings the learner did not choose.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from helpers.base.paths import current_prefix_file, state_file
from helpers.core.config import DEFAULT_PREFIX, ConfigError, WorkshopConfig

FIELDS = tuple(f.name for f in fields(WorkshopConfig))
ENVIRONMENT = {name: f"WORKSHOP_{name.upper()}" for name in FIELDS}
FLAGS = {"mode": "--mode", "primary_region": "--primary", "secondary_region": "--secondary",
         "domain": "--domain", "prefix": "--prefix"}
_TRUE, _FALSE = ("1", "true", "yes"), ("0", "false", "no")


def resolve(flags: Mapping[str, Any] | None = None,
            environ: Mapping[str, str] | None = None) -> WorkshopConfig:
    """The settings in effect: ``flags`` (field -> value, None = not given) over the
    ``WORKSHOP_*`` environment over the participant's saved settings over the defaults.

    A value that is not usable raises :class:`ConfigError` naming where it came from.
    """
    environ = os.environ if environ is None else environ
    given = {k: v for k, v in (flags or {}).items() if v is not None and v != ""}
    unknown = set(given) - set(FIELDS)
    if unknown:
        raise TypeError(f"not a setting: {', '.join(sorted(unknown))}")
    from_env = environment(environ)
    prefix = given.get("prefix") or from_env.get("prefix") or saved_prefix() or DEFAULT_PREFIX
    values: dict[str, Any] = {"prefix": prefix}
    sources: dict[str, str] = {}
    for source, layer in ((f"saved by notebook 00 in {state_file(prefix)}", saved(prefix)),
                          ("environment", from_env), ("flags", given)):
        for name, value in layer.items():
            values[name] = value
            sources[name] = source
    try:
        return WorkshopConfig(**values)
    except ConfigError as exc:
        raise ConfigError(exc.field, _with_source(str(exc), exc.field, sources)) from None


def environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings the ``WORKSHOP_*`` variables choose (unset and empty ones left out)."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for name, variable in ENVIRONMENT.items():
        value = environ.get(variable, "")
        if not value:
            continue
        if name == "create_zone":
            if value.lower() not in _TRUE + _FALSE:
                raise ConfigError(name, f"{variable} is true or false, not {value!r}")
            found[name] = value.lower() in _TRUE
        else:
            found[name] = value
    return found


def as_environment(config: WorkshopConfig) -> dict[str, str]:
    """``config`` as ``WORKSHOP_*`` variables: how the runner hands settings to a kernel."""
    values = config.as_dict()
    return {variable: str(values[name]).lower() if isinstance(values[name], bool)
            else str(values[name]) for name, variable in ENVIRONMENT.items()}


def saved_prefix() -> str | None:
    """The participant notebook 00 saved last in this workshop home, if any."""
    marker = current_prefix_file()
    return (marker.read_text().strip() or None) if marker.exists() else None


def saved(prefix: str) -> dict[str, Any]:
    """The settings notebook 00 saved for ``prefix`` (empty when there are none)."""
    try:
        data = json.loads(state_file(prefix).read_text())
    except FileNotFoundError:
        return {}
    return {k: v for k, v in data.get("config", {}).items() if k in FIELDS and k != "prefix"}


def _with_source(message: str, field: str, sources: dict[str, str]) -> str:
    source = sources.get(field)
    if source == "environment":
        return f"{message} (from {ENVIRONMENT[field]})"
    if source and source.startswith("saved"):
        instead = f", or pass {FLAGS[field]}" if field in FLAGS else ""
        return f"{message} ({source}: open notebook 00 to change it{instead})"
    return message
