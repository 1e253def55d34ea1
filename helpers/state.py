"""The persisted workshop state: settings and what has been deployed so far.

One JSON file per participant prefix in the workshop home (gitignored), so
each notebook continues where the previous one stopped, even after a kernel
restart.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from helpers.config import WorkshopConfig
from helpers.paths import workshop_home


def state_file(prefix: str) -> Path:
    return workshop_home() / f"state-{prefix}.json"


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
    update(config.prefix, config=config.as_dict())
    current = workshop_home() / "current-prefix"
    current.write_text(config.prefix)


def current_config() -> WorkshopConfig:
    """The settings saved by notebook 00 (or the defaults / environment)."""
    prefix = os.environ.get("WORKSHOP_PREFIX")
    if not prefix:
        marker = workshop_home() / "current-prefix"
        prefix = marker.read_text().strip() if marker.exists() else None
    saved = load(prefix).get("config", {}) if prefix else {}
    env = WorkshopConfig.from_env()
    merged = {**saved, **{k: v for k, v in env.as_dict().items() if _explicit(k)}}
    if "mode" in merged:
        os.environ.setdefault("WORKSHOP_MODE", merged["mode"])
    return WorkshopConfig(**{**env.as_dict(), **merged})


def _explicit(field: str) -> bool:
    """Was this field set in the environment (it then wins over the saved file)?"""
    return f"WORKSHOP_{field.upper()}" in os.environ
