"""Every AWS call the kit makes, as a JSON line in the participant's call log.

Built on botocore's event system, registered once on the kit's boto3 session
(:func:`attach`, from :mod:`helpers.connect.session`): each client that session makes
reports its calls, in every mode alike, without wrapping or patching a client.
The sandbox's own data plane makes its calls with clients of its own, so they
are not the kit's and never appear here.

One call, one record: when it was sent, service, operation, region, the key
parameters (names, and short values: never a payload, a secret or an account
id), the outcome and how long it took; a call that changes something also
carries its AWS CLI equivalent (:mod:`helpers.connect.awscli`). Records go to
``calls-<participant>.jsonl`` in the workshop home (`workshop calls`), and to
whoever listens in this process (the per-cell disclosure, :mod:`helpers.connect.cell_calls`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from helpers.base.paths import call_log
from helpers.connect import awscli
from helpers.core import settings
from helpers.core.config import DEFAULT_PREFIX

log = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any], threading.Thread], None]
_KEY = "workshop_call"  # our slot in botocore's per-call context dict
_listeners: list[Listener] = []
_participant: str | None = None
_writing = threading.Lock()
_warned = False


def attach(session: Any) -> None:
    """Log every call of the clients ``session`` (a boto3 Session) creates from now on.

    Clients copy the session's handlers when they are created, so this comes
    before the first client; the unique ids make a second attach a no-op.
    """
    events = session.events
    events.register("before-parameter-build", _build, unique_id="workshop-calllog-build")
    events.register("before-call", _send, unique_id="workshop-calllog-send")
    events.register("after-call", _answered, unique_id="workshop-calllog-answered")
    events.register("after-call-error", _failed, unique_id="workshop-calllog-failed")


def use_participant(prefix: str) -> None:
    """Log this process's calls as ``prefix``'s (a command's resolved ``--prefix``)."""
    global _participant
    _participant = prefix


def participant() -> str:
    """The participant whose log records this process's calls.

    The settings' own rule for the participant (:func:`helpers.core.settings.resolve`):
    the command's choice, else ``WORKSHOP_PREFIX``, else the one notebook 00
    saved last, else the default - read at each call, so a learner who saves
    new settings in notebook 00 logs under the new name straight away.
    """
    return (_participant or os.environ.get(settings.ENVIRONMENT["prefix"])
            or settings.saved_prefix() or DEFAULT_PREFIX)


def subscribe(listener: Listener) -> None:
    """Also hand each record to ``listener`` (with the thread that made the call)."""
    if listener not in _listeners:
        _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


# ---------------------------------------------------------------- botocore's events


def _build(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    # The caller's own parameters, before botocore's handlers add theirs (checksums, ...).
    # The clock starts here too, for a call answered before `before-call` reaches us (a
    # handler earlier in the chain may answer it, as botocore's Stubber does).
    context[_KEY] = {"params": dict(params), "model": model, "sent": time.time(),
                     "clock": time.monotonic()}


def _send(context: dict[str, Any], **_: Any) -> None:
    call = context.get(_KEY)
    if call is not None:
        call["sent"], call["clock"] = time.time(), time.monotonic()


def _answered(http_response: Any, parsed: dict[str, Any], context: dict[str, Any],
              **_: Any) -> None:
    status = getattr(http_response, "status_code", 0)
    outcome = "ok" if status < 300 else (parsed.get("Error", {}).get("Code") or str(status))
    _count_retries(context, parsed)
    _finish(context, outcome, status)


def _failed(exception: BaseException, context: dict[str, Any], **_: Any) -> None:
    _count_retries(context, getattr(exception, "response", None) or {})
    _finish(context, type(exception).__name__, None)


def _count_retries(context: dict[str, Any], parsed: dict[str, Any]) -> None:
    """botocore's own retries (throttles, mostly) happen inside one call: keep their count."""
    call = context.get(_KEY)
    if call is not None:
        call["retries"] = parsed.get("ResponseMetadata", {}).get("RetryAttempts", 0)


def _finish(context: dict[str, Any], outcome: str, status: int | None) -> None:
    call = context.pop(_KEY, None)
    if call is None:
        return
    try:
        record = _record(call, context.get("client_region"), outcome, status)
    except Exception:  # the log must never break the call it describes
        log.exception("could not describe an AWS call for the call log")
        return
    write(record)
    thread = threading.current_thread()
    for listener in list(_listeners):
        try:
            listener(record, thread)
        except Exception:
            log.exception("a call-log listener failed")


def _record(call: dict[str, Any], region: str | None, outcome: str,
            status: int | None) -> dict[str, Any]:
    model, params = call["model"], call["params"]
    service = model.service_model.service_name
    operation = model.name
    record = {
        "time": dt.datetime.fromtimestamp(call["sent"], dt.UTC).isoformat(
            timespec="milliseconds").replace("+00:00", "Z"),
        "participant": participant(),
        "service": service, "operation": operation, "region": region,
        "params": awscli.key_params(params),
        "outcome": outcome, "status": status,
        "ms": round((time.monotonic() - call["clock"]) * 1000, 1),
        "changes": awscli.changes(operation),
        "origin": origin(),
    }
    if record["changes"]:
        record["cli"] = awscli.command(service, operation, params, region, model)
    if call.get("retries"):
        record["retries"] = call["retries"]  # attempts botocore retried before this outcome
    return record


def origin() -> str:
    """Who made the call: ``notebook`` in a kernel, else the command (``workshop status``)."""
    ipython = sys.modules.get("IPython")
    if getattr(ipython.get_ipython() if ipython else None, "kernel", None) is not None:
        return "notebook"
    args = [a for a in sys.argv[1:3] if not a.startswith("-")]
    return " ".join(["workshop", *args]) if args else Path(sys.argv[0] or "python").name


# ---------------------------------------------------------------- the log file


def write(record: dict[str, Any]) -> None:
    """Append ``record`` to its participant's log (one line, one write: safe beside other
    processes appending to the same file)."""
    global _warned
    line = json.dumps(record, separators=(",", ":")) + "\n"
    try:
        with _writing, open(call_log(record["participant"]), "a", encoding="utf-8") as out:
            out.write(line)
    except OSError as exc:
        if not _warned:
            _warned = True
            log.warning("the call log cannot be written (%s); calls go on unlogged", exc)


def read(prefix: str | None = None) -> list[dict[str, Any]]:
    """The participant's logged calls, oldest first (an unreadable line is skipped)."""
    path = call_log(prefix or participant())
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a crash
    return records


def summary(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Counts per service and operation with their request rates: the mean over the log's span
    and the peak in any one second (what a quota is measured against)."""
    records = list(records)
    times = [_epoch(r["time"]) for r in records]
    span = max(times) - min(times) if times else 0.0
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    errors: dict[tuple[str, str], int] = defaultdict(int)
    origins: dict[str, int] = defaultdict(int)
    for record, when in zip(records, times, strict=True):
        key = (record["service"], record["operation"])
        groups[key].append(when)
        errors[key] += record.get("outcome") != "ok"
        origins[record.get("origin", "?")] += 1
    operations = [{"service": service, "operation": operation, "count": len(stamps),
                   "errors": errors[(service, operation)],
                   "per_s": round(len(stamps) / span, 3) if span else None,
                   "peak_per_s": _peak(stamps)}
                  for (service, operation), stamps in sorted(groups.items())]
    return {"calls": len(records), "span_s": round(span, 1),
            "first": records[0]["time"] if records else None,
            "last": records[-1]["time"] if records else None,
            "by_origin": dict(sorted(origins.items())), "operations": operations}


def summary_text(found: dict[str, Any]) -> str:
    if not found["calls"]:
        return "no AWS calls logged yet"
    rows = [("service", "operation", "calls", "errors", "per s", "peak/s")]
    rows += [(o["service"], o["operation"], str(o["count"]), str(o["errors"]),
              "-" if o["per_s"] is None else f"{o['per_s']:.2f}", str(o["peak_per_s"]))
             for o in found["operations"]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    origins = ", ".join(f"{name} {count}" for name, count in found["by_origin"].items())
    lines.append(f"{found['calls']} calls over {found['span_s']} s ({found['first']} to "
                 f"{found['last']}); by origin: {origins}")
    return "\n".join(lines)


def line(record: dict[str, Any]) -> str:
    """One call as a terminal line."""
    text = (f"{record['time']}  {record.get('origin', '?'):<18} {record['region'] or '-':<15} "
            f"{record['service']} {record['operation']}  {record['outcome']}  "
            f"{record['ms']:.0f} ms")
    return text + (f"\n    $ {record['cli']}" if record.get("cli") else "")


def _epoch(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _peak(stamps: list[float]) -> int:
    """The most calls within any one second."""
    stamps, best, start = sorted(stamps), 0, 0
    for end, when in enumerate(stamps):
        while when - stamps[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best
