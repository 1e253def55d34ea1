"""A participant's history: what the clean-up leaves to judge by, and what each check records.

After the clean-up there is nothing left to look at, so two traces carry the
history: CloudFormation lists deleted stacks (for 90 days on AWS), and each
check records the modules it saw done under ``progress`` in the participant's
state file (the clean-up keeps that key). Module 5 counts as done only when
nothing of the participant is left *and* CloudFormation shows the API stack
deleted: a fresh sandbox with an old state file is a fresh start, not a
finished workshop.
"""

from __future__ import annotations

from helpers.aws import cleanup
from helpers.checklist.model import Item, Module, Status
from helpers.checklist.probes import CHECKS
from helpers.checklist.resources import KINDS, Look
from helpers.core import curriculum, state


def cleaned_up(look: Look, live: list[str]) -> tuple[bool, str]:
    """(nothing of the participant left and a deleted API stack in the history, detail)."""
    if live:
        shown = ", ".join(live[:3]) + (f" and {len(live) - 3} more" if len(live) > 3 else "")
        return False, f"still deployed: {shown}"
    if not look.deleted("api", look.config.primary_region):
        return False, "no stack deployed yet"
    left = cleanup.leftovers(look.config)  # thorough, and slow on a cold sandbox: only now
    if left:
        return False, f"{len(left)} resource(s) left, e.g. {left[0]}"
    gone = [f"{look.config.stack_name(k)} ({r})" for k in KINDS for r in look.config.regions
            if look.deleted(k, r)]
    return True, f"nothing left; deleted stacks: {', '.join(gone)}"


def from_history(look: Look, spec: curriculum.Module, record: dict[str, str]) -> Module:
    """A module after the clean-up: done if it was seen done, or its stacks were deleted."""
    primary, secondary = look.config.regions
    evidence = {"1": [("api", primary)], "2": [("ui", primary)],
                "3.1": [("api", secondary), ("ui", secondary)],
                "3.2": [("replication", primary)]}.get(spec.id)
    if spec.id in record:
        done, detail = True, f"done (seen {record[spec.id]}), removed by the clean-up"
    elif evidence and all(look.deleted(kind, region) for kind, region in evidence):
        done, detail = True, "its stacks were deployed, then deleted by the clean-up"
    else:
        done, detail = False, "not seen done before the clean-up"
    items = [Item(key, label, done, detail, spec.notebook)
             for key, label, _probe in CHECKS[spec.id](look)]
    return Module(spec.id, spec.title, spec.notebook, items, live=False)


def remember(prefix: str, status: Status, record: dict[str, str]) -> None:
    new = {m.id: status.checked_at for m in status.modules
           if m.done and m.live and m.id not in record and m.id != "5"}
    if new:
        state.update(prefix, progress={"reached": {**record, **new}})

