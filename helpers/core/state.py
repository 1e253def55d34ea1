"""The persisted workshop state: settings and what has been deployed so far.

One JSON file per participant prefix in the workshop home (gitignored), so
each notebook continues where the previous one stopped, even after a kernel
restart.
"""

from __future__ import annotations

import json
from typing import Any

from helpers.base.paths import current_prefix_file, state_file
from helpers.core import capabilities, settings
from helpers.core.config import WorkshopConfig

__all__ = ["current_config", "load", "remember_config", "save", "state_file", "update"]


def load(prefix: str) -> dict[str, Any]:
    try:
        return json.loads(state_file(prefix).read_text())
    except FileNotFoundError:
        return {}


def save(prefix: str, data: dict[str, Any]) -> None:
    path = state_file(prefix)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    tmp.replace(path)


def update(prefix: str, **values: Any) -> dict[str, Any]:
    """Merge ``values`` into the participant's state and save it."""
    data = load(prefix)
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    save(prefix, data)
    return data


def remember_config(config: WorkshopConfig) -> None:
    """Save ``config`` as the participant's settings and make them the current participant.

    Writes only when something changes, so opening notebook 00 with the saved
    settings (a headless run included) leaves the files as they were.
    """
    marker = current_prefix_file()
    unchanged = (load(config.prefix).get("config") == config.as_dict()
                 and settings.saved_prefix() == config.prefix)
    if unchanged:
        return
    update(config.prefix, config=config.as_dict())
    marker.write_text(config.prefix)


def current_config() -> WorkshopConfig:
    """The settings in effect (what every notebook's first cell prints): see
    :func:`helpers.core.settings.resolve`. In endpoint mode, a notebook whose module needs what
    the endpoint lacks stops here, at its first cell (:func:`helpers.core.capabilities.gate`)."""
    config = settings.resolve()
    capabilities.gate(config)
    return config
