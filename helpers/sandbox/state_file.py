"""The sandbox's saved state on disk: one file, replaced atomically.

Layout: one line of JSON (the header: what wrote the file and when), then the
payload (a pickle, see :mod:`helpers.sandbox.moto_state`). The header is read
first, so a file from another moto, Python or format version is refused with
a sentence, before anything in it is unpickled. A pickle names moto's classes
and attributes as they were, so only the exact moto version that wrote it is
trusted to read it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.sandbox.errors import SandboxError

FORMAT = "workshop-sandbox-state"
FORMAT_VERSION = 2
DISCARD_HINT = "`workshop sandbox up --fresh` discards it and starts empty"


class StateFileError(SandboxError):
    """The saved state cannot be restored; the sandbox does not start over it unasked."""


@dataclass(frozen=True)
class Saved:
    header: dict[str, Any]
    payload: bytes


def beside(status_file: Path) -> Path:
    """Where a sandbox with this status file keeps its state: next to it, so every
    status file (the workshop home's, a test's temporary one) has its own."""
    return status_file.with_name(f"{status_file.stem}-state.pickle")


def header() -> dict[str, Any]:
    import moto

    return {"format": FORMAT, "format_version": FORMAT_VERSION, "moto": moto.__version__,
            "python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "saved_at": time.time()}


def write(path: Path, payload: bytes, head: dict[str, Any],
          still_wanted: Callable[[], bool] = lambda: True) -> int:
    """Replace ``path`` with header and payload (a crash leaves the old file or the new one,
    never half of one), if ``still_wanted()`` says so once the data is on disk. Returns
    the size written, 0 if it was not wanted any more."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # one per writing process
    try:
        with open(tmp, "wb") as out:
            out.write(json.dumps(head).encode() + b"\n")
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
            size = out.tell()
        if not still_wanted():
            return 0
        os.replace(tmp, path)
        return size
    finally:
        tmp.unlink(missing_ok=True)


def read(path: Path) -> Saved | None:
    """The saved state, None if there is none; StateFileError if it is damaged or was
    written by another version."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(f"the sandbox's saved state {path} cannot be read "
                             f"({exc.strerror}); {DISCARD_HINT}") from None
    first, newline, payload = data.partition(b"\n")
    try:
        head = json.loads(first) if newline else None
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise damaged(path, "not a sandbox state file")
    expected = header()
    written = {key: head.get(key) for key in ("format_version", "moto", "python")}
    wanted = {key: expected[key] for key in written}
    if written != wanted:
        raise StateFileError(
            f"the sandbox's saved state {path} was written by moto {written['moto']}, Python "
            f"{written['python']}, state format {written['format_version']}; this sandbox runs "
            f"moto {wanted['moto']}, Python {wanted['python']}, state format "
            f"{wanted['format_version']} and cannot restore it: {DISCARD_HINT}")
    return Saved(head, payload)


def damaged(path: Path, reason: str) -> StateFileError:
    return StateFileError(f"the sandbox's saved state {path} is damaged ({reason}) and cannot "
                          f"be restored: {DISCARD_HINT}")
