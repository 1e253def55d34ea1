"""Under each notebook cell, the AWS calls it made: a collapsed "AWS calls (N)" disclosure.

Registered on IPython's ``pre_run_cell``/``post_run_cell`` events when the kit
is imported in a kernel (:func:`register`, idempotent), so no notebook cell
changes. The calls come from the call log's listeners (:mod:`helpers.connect.calllog`).

A call belongs to the cell whose code started the thread that made it: a
thread that already ran when a cell began (the drill's traffic threads, say)
keeps reporting to the cell that started it, whose disclosure is updated in
place when such a late call arrives.

Each disclosure has two faces. The HTML one (JupyterLab, the run site) lists
every call with its time; the plain-text one, which nbval compares, names only
what is stable from run to run: the count (sanitised) and the changes made.
"""

from __future__ import annotations

import html
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from helpers.connect import calllog

CSS_CLASS = "aws-calls"
_GREY = "color:#616161"


@dataclass(eq=False)
class CellCalls:
    """The calls of one cell, as IPython displays them (HTML and plain text)."""

    started: float = field(default_factory=time.time)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def _repr_html_(self) -> str:
        return disclosure_html(self.calls, self.started)

    def __repr__(self) -> str:
        return disclosure_text(self.calls)


def disclosure_text(calls: list[dict[str, Any]]) -> str:
    """``AWS calls (N): changes: <service Operation, ...>`` - the distinct changes in the order
    first made (reads vary with polling; what a cell changes does not)."""
    changed: list[str] = []
    for call in calls:
        name = f"{call['service']} {call['operation']}"
        if call.get("changes") and name not in changed:
            changed.append(name)
    return f"AWS calls ({len(calls)}): " + (
        f"changes: {', '.join(changed)}" if changed else "reads only")


def disclosure_html(calls: list[dict[str, Any]], started: float | None = None) -> str:
    """The calls as a collapsed ``<details>`` table; repeats of one read in a row (a waiter's
    polls) are one row with a count, and each change shows its AWS CLI command."""
    changes = sum(1 for c in calls if c.get("changes"))
    summary = (f"AWS calls ({len(calls)})"
               + (f" · {changes} change{'s' * (changes != 1)}" if changes else " · reads only"))
    head = "".join(f"<th style='text-align:left;padding:0 0.6em 0 0'>{h}</th>" for h in (
        "time", "service", "operation", "region", "parameters", "outcome", "ms"))
    rows = []
    for group in _grouped(calls):
        first, count = group[0], len(group)
        when = _clock(first, started)
        times = f" ×{count}" if count > 1 else ""
        outcome = html.escape(first["outcome"])
        if first["outcome"] != "ok":
            outcome = f"<b style='color:#c62828'>{outcome}</b>"
        ms = sum(c["ms"] for c in group) / count
        cells = [when, first["service"], f"<b>{html.escape(first['operation'])}</b>{times}",
                 first["region"] or "", ", ".join(first["params"]), outcome, f"{ms:.0f}"]
        rows.append("<tr>" + "".join(
            f"<td style='padding:0 0.6em 0 0;vertical-align:top;text-align:left'>"
            f"{c if i in (2, 5) else html.escape(str(c))}</td>"
            for i, c in enumerate(cells)) + "</tr>")
        if first.get("cli"):
            rows.append("<tr><td></td><td colspan='6' style='text-align:left'>"
                        "<code style='white-space:pre-wrap'>$ "
                        f"{html.escape(first['cli'])}</code></td></tr>")
    return (f"<details class='{CSS_CLASS}' style='margin-top:0.3em'>"
            f"<summary style='cursor:pointer;{_GREY}'>{html.escape(summary)}</summary>"
            f"<table style='font-size:0.85em;border-collapse:collapse'><tr>{head}</tr>"
            + "".join(rows) + "</table></details>")


def _grouped(calls: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: list[list[dict[str, Any]]] = []
    for call in calls:
        key = (call["service"], call["operation"], call["region"], tuple(call["params"]),
               call["outcome"])
        last = groups[-1][0] if groups else None
        if (last is not None and not call.get("changes") and key == (
                last["service"], last["operation"], last["region"], tuple(last["params"]),
                last["outcome"])):
            groups[-1].append(call)
        else:
            groups.append([call])
    return groups


def _clock(call: dict[str, Any], started: float | None) -> str:
    """Seconds since the cell started (``+1.2 s``), else the call's UTC time of day."""
    if started is None:
        return call["time"][11:23]
    return f"+{calllog._epoch(call['time']) - started:.1f} s"


# ---------------------------------------------------------------- the kernel's cells


class _Cells:
    """Which cell each call belongs to, and showing each cell's calls under it."""

    def __init__(self) -> None:
        self.current: CellCalls | None = None
        self.last: CellCalls | None = None
        # A thread first seen alive at a cell's start was started by the cell before it; the
        # kernel's own threads (seen before any cell) are None: their calls go to the current one.
        self.owners: weakref.WeakKeyDictionary[threading.Thread, CellCalls | None] = (
            weakref.WeakKeyDictionary())
        self.shown: dict[int, tuple[Any, int]] = {}  # id(cell) -> (display handle, calls shown)
        self.late: list[CellCalls] = []  # finished cells that got calls since shown
        self.lock = threading.Lock()

    def pre_run_cell(self, *_: Any) -> None:
        with self.lock:
            for thread in threading.enumerate():
                self.owners.setdefault(thread, self.last)
            self.current = CellCalls()

    def on_call(self, record: dict[str, Any], thread: threading.Thread) -> None:
        with self.lock:
            cell = self.owners.get(thread) or self.current
            if cell is None:
                return  # outside any cell (e.g. a widget's button): logged, not shown
            cell.calls.append(record)
            if cell is not self.current and cell not in self.late:
                self.late.append(cell)

    def post_run_cell(self, *_: Any) -> None:
        from IPython.display import display

        with self.lock:
            cell, self.current = self.current, None
            late, self.late = self.late, []
            if cell is not None:
                self.last = cell
        for earlier in late:  # calls that threads of earlier cells made since they were shown
            handle, shown = self.shown.get(id(earlier), (None, 0))
            if handle is not None and len(earlier.calls) != shown:
                handle.update(earlier)
                self.shown[id(earlier)] = (handle, len(earlier.calls))
        if cell is not None and cell.calls:
            self.shown[id(cell)] = (display(cell, display_id=True), len(cell.calls))


_cells: _Cells | None = None


def register_in_kernel() -> None:
    """:func:`register` when this process is a Jupyter kernel (no IPython import otherwise)."""
    if "ipykernel" in sys.modules:
        register()


def register(shell: Any = None) -> bool:
    """Show each cell's AWS calls under it, from now on, in this kernel (once per kernel;
    False outside one: a script or the CLI shows nothing)."""
    global _cells
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython ships with the kit
            return False
        shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    if _cells is None:
        _cells = _Cells()
        calllog.subscribe(_cells.on_call)
        shell.events.register("pre_run_cell", _cells.pre_run_cell)
        shell.events.register("post_run_cell", _cells.post_run_cell)
        _cells.pre_run_cell()  # the cell that imports the kit counts its own calls too
    return True
