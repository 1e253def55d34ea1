"""What the instructor's dashboard shows: one row per participant, and every change to it.

Rows come from two sources: reports the learners' kits post to the room
(:mod:`helpers.checklist.room_report`, already checked), and the shared account or
sandbox, whose checklists ``workshop status --all`` reads (:meth:`Board.read_shared`).
A row is keyed by the participant's name; the newest word on it wins. Every change
bumps the board's version, which the page's event stream waits on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from helpers.checklist.model import MODULES, Status
from helpers.checklist.room_report import report_of

REPORTED, SHARED = "own sandbox", "shared account"


class Board:
    """The rows, their version, and a way to wait for the next change."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.rows: dict[str, dict[str, Any]] = {}
        self.version = 0
        self.shared_note = ""  # how reading the shared account went, when it did not
        self._changed = threading.Condition()

    def accept(self, report: dict[str, Any], source: str) -> None:
        """Show ``report`` (a checked report) as its participant's row, seen now."""
        content = {k: report[k] for k in ("participant", "modules", "stuck", "next")}
        with self._changed:
            row = self.rows.get(content["participant"], {})
            if source == SHARED and {k: row.get(k) for k in content} == content:
                return  # read again unchanged: "last seen" is when it last changed (or was
                # last reported by the kit itself, whose row this read agrees with)
            self.rows[content["participant"]] = {**content, "source": source,
                                                 "last_seen": self.clock()}
            self._bump()

    def read_shared(self, statuses: Iterable[Status]) -> None:
        """The shared account's checklists, as read now: a row per participant prefix."""
        for status in statuses:
            self.accept(report_of(status, status.config.prefix), SHARED)
        self.note_shared("")

    def note_shared(self, note: str) -> None:
        with self._changed:
            if note != self.shared_note:
                self.shared_note = note
                self._bump()

    def snapshot(self) -> dict[str, Any]:
        """Everything the page draws, as JSON (``now``: the server's clock, for "… s ago")."""
        with self._changed:
            rows = [dict(row) for _, row in sorted(self.rows.items(),
                                                   key=lambda kv: kv[0].casefold())]
            return {"version": self.version, "now": self.clock(),
                    "modules": [{"id": m.id, "title": m.title} for m in MODULES],
                    "rows": rows, "shared_note": self.shared_note}

    def wait_change(self, seen: int, timeout: float) -> dict[str, Any] | None:
        """The snapshot once the version is past ``seen`` (None: nothing changed in time)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.version != seen, timeout):
                return None
        return self.snapshot()

    def wake(self) -> None:
        """Let every waiter go (the server is stopping)."""
        with self._changed:
            self._bump()

    def _bump(self) -> None:
        self.version += 1
        self._changed.notify_all()
