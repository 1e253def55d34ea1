"""Rehearse a room: N participants through the whole workshop at once, in one account.

Each participant is a process of its own running the notebooks headless
(:func:`helpers.runs.runner.run`, 00 to 05, which cleans up), with a workshop home,
prefix and subdomain (``<prefix>.<domain>``) of its own, started ``stagger``
seconds apart. They share
what a room shares on AWS: the account's quotas (the sandbox enforces them), its
Route 53 and its resolver. The kit paces itself exactly as it does on AWS; nothing
here helps it.

Per participant the rehearsal reports the notebooks completed, the error (notebook,
cell, message), the seconds, the throttles met and the seconds spent on them (from
the participant's call log: throttled answers, and the retries botocore made inside
a call), and what clean-up left (:func:`helpers.aws.cleanup.leftovers`): notebook 05
for a participant who got there, ``workshop cleanup`` for one who failed earlier.

``shared_domain`` gives everyone one domain, the mistake issue 12 found: the first
participant claims it; the others start once that claim is visible and must be
refused (preflight, notebook 00) before creating anything, while the first
completes untouched.

``as_participants`` runs each participant as an IAM user of its own holding exactly
`workshop iam-policy`'s policy (:mod:`helpers.aws.iam_users`; sandbox only): the sandbox
holds each to it (:mod:`helpers.sandbox.iam.authorization`), so a permission the policy
lacks fails the rehearsal with the kit's sentence naming the action. The users are made
before the room starts and deleted after it, whatever happened.

``until`` rehearses the room through the first notebooks only (``--until 02``: the
morning's part, or a quick check of the room's set-up); each participant then runs
``workshop cleanup``, as a learner stopping there would, so the room still proves it
leaves nothing.
"""

from __future__ import annotations

import json
import multiprocessing
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from helpers.aws import cleanup, domain_owner, iam_users, pacing
from helpers.base import environ, paths
from helpers.base.errors import UsageError
from helpers.base.say import Say
from helpers.connect import calllog, net, permissions
from helpers.core import curriculum
from helpers.core.config import WorkshopConfig
from helpers.core.target import LOCAL_SANDBOX, SANDBOX_CREDENTIALS_VARIABLE

# AWS seconds between two participants' starts (scaled by the sandbox clock). Each
# participant creates two custom domains per region at 1 per 30 s per region: a minute of
# the room's quota each, so starting a minute apart keeps their module 3.3s from queueing.
DEFAULT_STAGGER_S = 60.0
CLAIM_PATIENCE_S = 600.0  # real seconds the others wait for the first participant's claim
NOTEBOOKS = [m.notebook for m in curriculum.CURRICULUM]
REFUSED = "is already used by another participant"  # domain_owner's refusal, as printed
CLAIMED_IN = "03.3"  # the notebook whose custom domains and records claim the domain


@dataclass
class ParticipantResult:
    prefix: str
    domain: str
    completed: list[str] = field(default_factory=list)  # notebooks that ran to the end
    error: str | None = None  # "<notebook>, cell N: <type>: <message>"
    seconds: float = 0.0
    throttled: int = 0  # throttled answers and botocore retries, from the call log
    quota_wait_s: float = 0.0
    calls: int = 0
    left_over: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=lambda: list(NOTEBOOKS))  # up to --until
    iam_user: str | None = None  # --as-participants: the IAM user it ran as
    denied: list[str] = field(default_factory=list)  # "service Operation" AWS refused

    @property
    def complete(self) -> bool:
        """Every notebook ran; as an IAM user, also no call denied (a step that reports a
        denial instead of stopping, as notebook 00's checks do, still shows a permission
        the policy lacks)."""
        return (self.error is None and self.completed == self.expected
                and not (self.iam_user and self.denied))

    @property
    def refused(self) -> bool:
        """Stopped by the shared-domain refusal (what --shared-domain expects of all but one)."""
        return self.error is not None and REFUSED in self.error


@dataclass
class RoomResult:
    participants: list[ParticipantResult]
    seconds: float
    stagger_s: float
    shared_domain: bool
    time_scale: float
    until: str | None = None
    as_participants: bool = False

    @property
    def completed(self) -> int:
        return sum(p.complete for p in self.participants)

    @property
    def refused(self) -> int:
        return sum(p.refused for p in self.participants)

    @property
    def failed(self) -> int:
        """Participants that neither completed nor were refused as --shared-domain expects."""
        expected_refusals = self.participants[1:] if self.shared_domain else []
        return sum(not p.complete and not (p in expected_refusals and p.refused)
                   for p in self.participants)

    @property
    def left_over(self) -> int:
        return sum(len(p.left_over) for p in self.participants)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.left_over == 0

    def as_dict(self) -> dict[str, Any]:
        return {"participants": len(self.participants), "completed": self.completed,
                "failed": self.failed, "refused": self.refused,
                "seconds": round(self.seconds, 1), "left_over": self.left_over,
                "throttled": sum(p.throttled for p in self.participants),
                "quota_wait_s": round(sum(p.quota_wait_s for p in self.participants), 1),
                "stagger_s": self.stagger_s, "shared_domain": self.shared_domain,
                "time_scale": self.time_scale, "until": self.until,
                "as_participants": self.as_participants,
                "per_participant": [{**asdict(p), "complete": p.complete,
                                     "refused": p.refused} for p in self.participants]}

    def text(self) -> str:
        lines = [f"{len(self.participants)} participant(s) in {self.seconds:.0f} s (stagger "
                 f"{self.stagger_s:g} s, time scale {self.time_scale:g}"
                 + (", each an IAM user holding `workshop iam-policy`'s policy"
                    if self.as_participants else "") + f"): {self.completed} "
                 f"completed, {self.failed} failed"
                 + (f", {self.refused} refused the shared domain" if self.shared_domain else "")
                 + f", {self.left_over} resource(s) left over"]
        for p in self.participants:
            state = "complete" if p.complete else "refused" if p.refused else "FAILED"
            lines.append(f"  {p.prefix:<16} {state:<9} {len(p.completed)}/{len(p.expected)} "
                         f"notebooks  {p.seconds:6.1f} s  {p.calls} calls  {p.throttled} "
                         f"throttled ({p.quota_wait_s:.1f} s)  left over {len(p.left_over)}")
            if p.error:
                lines.append(f"      error: {p.error}")
            if p.denied:
                lines.append(f"      denied: {', '.join(p.denied)}")
            lines += [f"      left: {item}" for item in p.left_over]
        return "\n".join(lines)


def rehearse(participants: int, stagger_s: float = DEFAULT_STAGGER_S,
             shared_domain: bool = False, base: WorkshopConfig | None = None,
             work_dir: Path | None = None, say: Say = print,
             until: str | None = None, as_participants: bool = False) -> RoomResult:
    """Run ``participants`` through the workshop (up to ``until``) at once; see the module
    doc."""
    if participants < 1:
        raise UsageError(f"--participants takes 1 or more, not {participants}")
    if shared_domain and participants < 2:
        raise UsageError("--shared-domain needs at least 2 participants")
    expected = _expected_notebooks(until)
    if shared_domain and CLAIMED_IN not in {n.split("-", 1)[0] for n in expected}:
        raise UsageError(f"--shared-domain needs --until {CLAIMED_IN} or later: the first "
                         f"participant claims the domain in notebook {CLAIMED_IN}")
    base = base or WorkshopConfig()
    sandbox_file = None
    if base.target.supports(LOCAL_SANDBOX):  # one sandbox for the room, whichever home started it
        from helpers.sandbox import process as sandbox_process

        if sandbox_process.read_status() is None:
            raise UsageError("no sandbox is running: start one with `workshop sandbox up "
                             "--fresh`, then rehearse the room in it")
        sandbox_file = str(paths.sandbox_status_file())
    scale = net.time_scale()
    room = f"r{secrets.token_hex(2)}"  # a fresh room each time: prefixes never collide
    configs = [_participant_config(base, f"{room}-p{i + 1}", room, shared_domain)
               for i in range(participants)]
    work = Path(work_dir or tempfile.mkdtemp(prefix="workshop-rehearsal-"))
    say(f"rehearsing a room of {participants} in {base.mode} mode (time scale {scale:g}"
        + (f", notebooks up to {until}" if until else "") + "), "
        f"{stagger_s:g} s apart (AWS seconds): " + ", ".join(c.prefix for c in configs)
        + (f", all with {configs[0].domain}" if shared_domain else "") + f"; logs in {work}")
    credentials: dict[str, str] = {}
    try:
        if as_participants:
            for config in configs:
                credentials[config.prefix] = str(iam_users.create(
                    config, say=say, out=work / config.prefix / "credentials.json"))
        results, seconds = _run_room(configs, work, sandbox_file, until, expected, shared_domain,
                                     stagger_s, scale, credentials, say)
    finally:
        for config in configs:
            if config.prefix in credentials:
                iam_users.delete(config)
                Path(credentials[config.prefix]).unlink(missing_ok=True)
    for result, config in zip(results, configs, strict=True):
        result.iam_user = iam_users.user_name(config) if as_participants else None
    return RoomResult(results, seconds, stagger_s, shared_domain, scale, until, as_participants)


def _run_room(configs: list[WorkshopConfig], work: Path, sandbox_file: str | None,
              until: str | None, expected: list[str], shared_domain: bool, stagger_s: float,
              scale: float, credentials: dict[str, str],
              say: Say) -> tuple[list[ParticipantResult], float]:
    """Start the participants ``stagger_s`` apart, wait for all; their results and the
    room's seconds (what clean-up left is looked up after everyone, as the administrator)."""
    spawn = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited threads
    started = time.monotonic()
    running = []
    for index, config in enumerate(configs):
        if index and shared_domain:
            _wait_for_claim(configs[0], config, running[0][0], say)
        elif index:
            time.sleep(stagger_s * scale)
        home = work / config.prefix
        home.mkdir(parents=True, exist_ok=True)
        process = spawn.Process(target=_participant_main, name=f"rehearse-{config.prefix}",
                                args=(config.as_dict(), str(home), sandbox_file, until,
                                      credentials.get(config.prefix)))
        process.start()
        say(f"{config.prefix} started ({config.domain})")
        running.append((process, config, home))
    results = []
    for process, config, home in running:
        process.join()
        results.append(_result(config, home, expected))
        say(f"{config.prefix} finished: "
            + ("complete" if results[-1].complete else results[-1].error or "incomplete"))
    seconds = time.monotonic() - started
    for result, (_process, config, _home) in zip(results, running, strict=True):
        result.left_over = cleanup.leftovers(config)  # after everyone: nothing still moving
    return results, seconds


def _expected_notebooks(until: str | None) -> list[str]:
    """The notebooks a participant runs with ``--until`` (all of them without)."""
    try:
        expected = [m.notebook for m in curriculum.up_to(until)]
    except ValueError:
        raise UsageError(f"--until takes a notebook number such as 03.2, not {until!r}") from None
    if not expected:
        raise UsageError(f"--until {until}: no notebook is numbered {until} or lower")
    return expected


def _participant_config(base: WorkshopConfig, prefix: str, room: str,
                        shared_domain: bool) -> WorkshopConfig:
    """``<prefix>.<domain>`` each (``<room>.<domain>`` for all with ``shared_domain``), in a
    zone the kit creates: the sandbox's case (on AWS each would need delegating)."""
    label = room if shared_domain else prefix
    domain = f"{label}.{base.domain}"
    return WorkshopConfig(**{**base.as_dict(), "prefix": prefix, "domain": domain,
                             "create_zone": True})


def _wait_for_claim(first: WorkshopConfig, other: WorkshopConfig, process: Any,
                    say: Say) -> None:
    """Until the first participant's marks are on the shared domain (notebook 03.3)."""
    say(f"waiting for {first.prefix} to claim {first.domain} (notebook 03.3) before the others "
        "start")
    deadline = time.monotonic() + CLAIM_PATIENCE_S
    while process.is_alive() and time.monotonic() < deadline:
        if first.prefix in domain_owner.other_owners(other):
            return
        time.sleep(1.0)  # Route 53's ten a second are the whole room's


# ---------------------------------------------------------------- one participant's process


def _participant_main(config_values: dict[str, Any], home: str,
                      sandbox_file: str | None, until: str | None = None,
                      credentials: str | None = None) -> None:
    """A participant: its own workshop home, the notebooks 00-05 (or up to ``until``, then
    ``workshop cleanup``), a result file; with ``credentials``, as that IAM user."""
    variables = {"WORKSHOP_HOME": home}
    if sandbox_file:
        variables["WORKSHOP_SANDBOX_FILE"] = sandbox_file
    if credentials:
        variables[SANDBOX_CREDENTIALS_VARIABLE] = credentials
    environ.apply(variables)  # this process's own, for its whole life
    from helpers.connect import session
    from helpers.runs import runner

    config = WorkshopConfig(**config_values)
    session.use_mode(config.mode)
    calllog.use_participant(config.prefix)
    completed: list[str] = []
    running: list[str] = []

    def say(line: str) -> None:  # the runner's progress: which notebook ran to the end
        with open(Path(home) / "run.log", "a", encoding="utf-8") as log:
            log.write(line + "\n")
        if line.startswith("running ") and line.endswith(" ..."):
            running[:] = [line[len("running "):-len(" ...")]]
        elif line.startswith("  done in") and running:
            completed.append(running.pop())

    started = time.monotonic()
    error = None
    try:
        runner.run(config, Path(home) / "out", until=until, say=say)
        if until is not None and NOTEBOOKS[-1] not in completed:
            cleanup.cleanup(config, progress=say)  # as a learner who stops here would
    except Exception as exc:  # noqa: BLE001 - reported per participant, never raised
        error = str(exc) if isinstance(exc, runner.RunError) else f"{type(exc).__name__}: {exc}"
        # As a learner would after a failure: `workshop cleanup`, so the room's account is left
        # as clean as the kit can leave it (what it cannot delete is reported as left over).
        try:
            cleanup.cleanup(config, progress=say)
        except Exception as failed:  # noqa: BLE001 - reported with the first error
            error += f"; the clean-up after it failed too: {type(failed).__name__}: {failed}"
    result = {"completed": completed, "error": error, "seconds": time.monotonic() - started}
    (Path(home) / "result.json").write_text(json.dumps(result), encoding="utf-8")


def _result(config: WorkshopConfig, home: Path, expected: list[str]) -> ParticipantResult:
    result = ParticipantResult(config.prefix, config.domain, expected=expected)
    found = home / "result.json"
    if not found.exists():
        result.error = f"the participant's process ended without a result (see {home}/run.log)"
    else:
        values = json.loads(found.read_text(encoding="utf-8"))
        result.completed, result.error = values["completed"], values["error"]
        result.seconds = values["seconds"]
    with environ.scoped({"WORKSHOP_HOME": str(home)}):  # the call log is in the participant's home
        records = calllog.read(config.prefix)
    result.calls = len(records)
    result.throttled, result.quota_wait_s = throttles(records)
    result.denied = denials(records)
    return result


def denials(records: list[dict[str, Any]]) -> list[str]:
    """``service Operation`` of each call AWS denied in a participant's call log."""
    return sorted({f"{r['service']} {r['operation']}" for r in records
                   if r.get("outcome") in permissions.DENIED_CODES or r.get("status") == 403})


def throttles(records: list[dict[str, Any]]) -> tuple[int, float]:
    """(throttles met, seconds spent on them) in a participant's call log.

    A throttled answer counts once, and its wait is the time until the same operation was
    asked again in that region (the kit's own pacing waits in between). A call that
    botocore retried counts each retry, and its whole duration as waiting (its retries
    back off inside the call; the log cannot separate the answer's own time).
    """
    count, waited = 0, 0.0
    for index, record in enumerate(records):
        if record.get("retries"):
            count += record["retries"]
            waited += record["ms"] / 1000
        if record.get("outcome") not in pacing.THROTTLED:
            continue
        count += 1
        later = next((r for r in records[index + 1:]
                      if (r["operation"], r["region"]) == (record["operation"], record["region"])),
                     None)
        if later is not None:
            waited += max(0.0, _epoch(later["time"]) - _epoch(record["time"]))
    return count, waited


def _epoch(stamp: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
