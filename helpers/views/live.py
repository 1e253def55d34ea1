"""Outputs that redraw in place in the running notebook cell (and do nothing elsewhere).

The first :meth:`LiveOutput.show` displays its objects with a display id; later
calls replace them, so a chart or a status line updates while something runs
and its last drawing stays in the saved notebook. Outside a notebook (a
script, ``workshop``) nothing is drawn and callers can skip building a figure:
:meth:`LiveOutput.due` is False.
"""

from __future__ import annotations

import time
from typing import Any


def in_notebook() -> bool:
    """Is there an IPython shell to display into?"""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the kit
        return False
    return get_ipython() is not None


class LiveOutput:
    """One or more outputs redrawn in place, at most once every ``every`` seconds when asked
    through :meth:`due`."""

    def __init__(self, every: float = 0.0) -> None:
        self.every = every
        self.active = in_notebook()
        self.handles: list[Any] | None = None
        self.last = float("-inf")

    def due(self) -> bool:
        """Worth drawing now: in a notebook, and ``every`` seconds since the last drawing."""
        return self.active and time.monotonic() - self.last >= self.every

    def show(self, *objects: Any) -> None:
        """Display ``objects`` the first time, replace them in place afterwards."""
        if not self.active:
            return
        from IPython.display import display

        self.last = time.monotonic()
        if self.handles is None:
            self.handles = [display(obj, display_id=True) for obj in objects]
            return
        for handle, obj in zip(self.handles, objects, strict=True):
            handle.update(obj)
