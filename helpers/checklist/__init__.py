"""Where a participant has got: a per-module checklist, checked against what really runs.

Every item is decided by looking at the resources themselves, never by whether
a notebook ran; each unchecked item names the notebook and the section that
gets it done. Module 4 leaves a trace that stays observable:
``failover.break_primary`` and ``failover.restore_primary`` each deploy the
primary API's ``prod`` stage with a description of their own, so the deployment
history shows that the primary was broken and then restored.

The package, each module depending only on those above it:

* :mod:`~helpers.checklist.model`: items, modules, a participant's status (text, HTML, JSON);
* :mod:`~helpers.checklist.resources`: one participant's resources, each looked up once;
* :mod:`~helpers.checklist.probes`: each module's items and how each is decided;
* :mod:`~helpers.checklist.history`: the traces the clean-up leaves, the record each check keeps;
* :mod:`~helpers.checklist.participant`: :func:`check`, one participant's checklist;
* :mod:`~helpers.checklist.room`: :func:`room`, every participant found (the instructor's view);
* :mod:`~helpers.checklist.room_report`: a checklist as the instructor's dashboard shows it;
* :mod:`~helpers.checklist.room_reporter`: a learner's own checklist, sent to the room it names;
* :mod:`~helpers.checklist.view`: the notebook's checklist (``helpers.views.progress``).

``workshop status`` prints :func:`check`; ``workshop status --all`` prints :func:`room`;
``workshop dashboard`` shows :func:`room` and the learners' reports live.
"""

from helpers.checklist.model import (
    MODULES,
    SECTIONS,
    Item,
    Module,
    Status,
    module_for,
    turned_done,
)
from helpers.checklist.participant import check
from helpers.checklist.room import participants, room, room_as_dict, room_table

__all__ = ["MODULES", "SECTIONS", "Item", "Module", "Status", "check", "module_for",
           "participants", "room", "room_as_dict", "room_table", "turned_done"]
