"""The checklist in a notebook, under the name the notebooks' "Your progress" cells use.

The checklist itself is :mod:`helpers.checklist`; this module only keeps the
notebooks' ``progress.show(config)`` and ``progress.checklist_widget()`` working.
"""

from helpers.checklist.view import checklist_widget, show

__all__ = ["checklist_widget", "show"]
