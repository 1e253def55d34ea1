"""The checklist in a notebook: static HTML (:func:`show`) or with a Refresh button.

The notebooks call these as ``helpers.views.progress.show`` and
``helpers.views.progress.checklist_widget`` (their "Your progress" cells).
"""

from __future__ import annotations

import html
from typing import Any

from helpers.checklist.participant import check
from helpers.core import settings
from helpers.core.config import WorkshopConfig


def checklist_widget(config: WorkshopConfig | None = None) -> Any:
    """The checklist with a Refresh button, for the index notebook.

    It checks the real resources each time it is refreshed; without a running
    sandbox (or credentials) it says how to get one instead of failing.
    """
    import ipywidgets as w

    body = w.HTML()
    button = w.Button(description="Refresh", icon="refresh",
                      tooltip="check the deployed resources again")

    def refresh(_button: Any = None) -> None:
        body.value = "<i>checking the deployed resources…</i>"
        try:
            body.value = check(config or settings.resolve()).html()
        except Exception as exc:  # shown in the widget: the index notebook must always open
            from helpers.base.errors import explain

            message = html.escape(str(explain(exc) or str(exc)))
            body.value = (f"<b style='color:#c62828'>Cannot check yet:</b> {message}. "
                          "Then press Refresh.")

    button.on_click(refresh)
    refresh()
    return w.VBox([button, body])


def show(config: WorkshopConfig | None = None) -> Any:
    """The checklist as static HTML (stays visible in exported notebooks)."""
    from IPython.display import HTML

    return HTML(check(config or settings.resolve()).html())
