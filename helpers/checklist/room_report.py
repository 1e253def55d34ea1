"""A participant's checklist as the instructor's room sees it: a mark per module, what is stuck.

The one shape both sides agree on. The learner's kit builds it from its checklist
(:func:`report_of`, sent by :mod:`helpers.checklist.room_reporter`); the dashboard
(``workshop dashboard``) builds the same rows from the shared account's checklists and
accepts a report only through :func:`accepted`, which refuses anything else.

A report carries the checklist only: a name, the marks, the failing check's sentence
and the notebook to open next. No credentials, no account ids: every sentence is
scrubbed before it leaves (:func:`scrub`), and a report that still holds something that
looks like an account id or an access key is refused on arrival.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from helpers.checklist.model import MODULES, Status

SCHEMA = 1
DONE, IN_PROGRESS, FAILED, NOT_STARTED = "done", "in progress", "failed", "not started"
MARKS = (DONE, IN_PROGRESS, FAILED, NOT_STARTED)
MODULE_IDS = tuple(m.id for m in MODULES)
MAX_BYTES = 16 * 1024  # a report is a few hundred bytes; anything near this is not one
MAX_NAME, MAX_SENTENCE = 64, 300
FIELDS = ("schema", "participant", "modules", "stuck", "next")

_NAME = re.compile(r"^[\w][\w .@+-]*$")
# What must never travel: AWS account ids (alone or inside an ARN, a bucket name) and
# access key ids; a 40-character secret key has no shape of its own but its length.
_ACCOUNT_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")
_ACCESS_KEY = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}")
_SECRET_KEY = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
HIDDEN = "…"


class ReportRefused(ValueError):
    """A report the dashboard does not take; the message says what is wrong with it."""


def marks(status: Status) -> dict[str, str]:
    """A mark per module: done, in progress, failed or not started.

    * done: every check of the module passes;
    * failed: not every check passes although the participant has gone on (a check of a
      later module passes): they ran its notebook and it did not come out right;
    * in progress: some of its checks pass, and nothing later has started yet;
    * not started: none of its checks passes, and nothing later has started.

    While module 4's bad deploy is live, the modules before 4 stay done: their checks fail
    because the learner broke the primary on purpose, not because they went wrong, and a
    room in the middle of module 4 must not turn red on the instructor's board.
    """
    started = [any(item.done for item in m.items) for m in status.modules]
    paused = _break_is_live(status)
    found: dict[str, str] = {}
    for index, module in enumerate(status.modules):
        later = any(started[index + 1:])
        if module.done or (paused and _before_module_4(status, index)):
            found[module.id] = DONE
        elif later:
            found[module.id] = FAILED
        else:
            found[module.id] = IN_PROGRESS if started[index] else NOT_STARTED
    return found


def _break_is_live(status: Status) -> bool:
    items = status.items()
    return (items["4/broken"].done and not items["4/restored"].done
            and status.module("4").live)


def _before_module_4(status: Status, index: int) -> bool:
    return index < [m.id for m in status.modules].index("4")


def stuck(status: Status, found: Mapping[str, str] | None = None) -> str | None:
    """The failing check's sentence: the first unchecked item of the first failed module,
    else of the module in progress (None: nothing is failing or half done)."""
    found = found or marks(status)
    for wanted in (FAILED, IN_PROGRESS):
        for module in status.modules:
            if found[module.id] == wanted:
                item = next(i for i in module.items if not i.done)
                return scrub(f"{module.id} · {item.label}: {item.detail}")
    return None


def report_of(status: Status, participant: str) -> dict[str, Any]:
    """What the room is told about ``status``, under the name ``participant``."""
    found = marks(status)
    nxt = status.next
    return {"schema": SCHEMA, "participant": participant, "modules": found,
            "stuck": stuck(status, found), "next": nxt["notebook"] if nxt else None}


def scrub(text: str) -> str:
    """``text`` without account ids or access keys, cut to one line of a table."""
    text = _ACCOUNT_ID.sub(HIDDEN, text)
    text = _ACCESS_KEY.sub(HIDDEN, text)
    text = _SECRET_KEY.sub(HIDDEN, text)
    text = " ".join(text.split())
    return text if len(text) <= MAX_SENTENCE else text[:MAX_SENTENCE - 1] + HIDDEN


def secret_in(text: str) -> bool:
    """Does ``text`` hold something shaped like an account id or an access key?"""
    return bool(_ACCOUNT_ID.search(text) or _ACCESS_KEY.search(text)
                or _SECRET_KEY.search(text))


def accepted(data: Any) -> dict[str, Any]:
    """``data`` (a parsed JSON body) as a report, or :class:`ReportRefused` saying why not."""
    if not isinstance(data, dict):
        raise ReportRefused("a report is a JSON object")
    problems = [f"unknown field {name!r}" for name in sorted(set(data) - set(FIELDS))]
    problems += [f"missing field {name!r}" for name in FIELDS if name not in data]
    if problems:
        raise ReportRefused(_joined(problems))
    if data["schema"] != SCHEMA:
        problems.append(f"'schema' is {SCHEMA} (this dashboard's), not {data['schema']!r}: "
                        "the kit and the dashboard are different versions")
    name = data["participant"]
    if not (isinstance(name, str) and 0 < len(name) <= MAX_NAME and _NAME.match(name)):
        problems.append(f"'participant' is a name of 1 to {MAX_NAME} letters, digits, spaces "
                        "and . @ + - _")
    modules = data["modules"]
    if not isinstance(modules, dict) or sorted(modules) != sorted(MODULE_IDS):
        problems.append(f"'modules' maps each module ({', '.join(MODULE_IDS)}) to a mark")
    elif any(mark not in MARKS for mark in modules.values()):
        problems.append(f"each module's mark is one of: {', '.join(MARKS)}")
    for field, most in (("stuck", MAX_SENTENCE), ("next", MAX_NAME)):
        value = data[field]
        if value is not None and not (isinstance(value, str) and len(value) <= most):
            problems.append(f"{field!r} is null or a string of at most {most} characters")
    if not problems and any(secret_in(str(data[f])) for f in ("participant", "stuck", "next")):
        problems.append("it holds something shaped like an AWS account id or access key: a "
                        "report carries the checklist only")
    if problems:
        raise ReportRefused(_joined(problems))
    return {field: data[field] for field in FIELDS}


def _joined(problems: list[str]) -> str:
    return "not a checklist report: " + "; ".join(problems)
