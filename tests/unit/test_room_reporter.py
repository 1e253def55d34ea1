"""The learner's kit reports its checklist to the room when it changes, in the background:
an unreachable, silent or refusing room never slows or breaks the notebook, and is said once."""

from __future__ import annotations

import json
import logging
import os
import socket
import time

import pytest
from room_fakes import status

from helpers.checklist import room_reporter
from helpers.checklist.room_reporter import Reporter

ROOM = "http://127.0.0.1:9/rooms/room-token-1"


class Room:
    """A room that records what it is sent and answers ``answer``."""

    def __init__(self, answer: int = 202) -> None:
        self.answer = answer
        self.bodies: list[dict] = []

    def __call__(self, url: str, body: bytes, timeout: float) -> int:
        assert url == ROOM
        self.bodies.append(json.loads(body))
        return self.answer


def test_the_checklist_is_sent_when_it_changes_and_not_again_while_it_does_not():
    room = Room()
    reporter = Reporter(ROOM, send=room)
    first = room_reporter.report_of(status({"1/api-stack"}), "ada")
    reporter.offer(first)
    assert reporter.flush(5)
    reporter.offer(dict(first))  # the same checklist, taken again
    assert reporter.flush(5)
    changed = room_reporter.report_of(status({"1"}), "ada")
    reporter.offer(changed)
    assert reporter.flush(5)
    assert [b["modules"]["1"] for b in room.bodies] == ["in progress", "done"]


def test_an_unchanged_checklist_is_sent_again_after_the_heartbeat():
    room = Room()
    reporter = Reporter(ROOM, send=room, heartbeat=0.0)
    sent = room_reporter.report_of(status({"1"}), "ada")
    for _ in range(2):
        reporter.offer(sent)
        assert reporter.flush(5)
    assert len(room.bodies) == 2  # "last seen" moves on


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_room_costs_the_notebook_nothing_and_is_said_once(caplog):
    reporter = Reporter(f"http://127.0.0.1:{_closed_port()}/rooms/room-token-1")
    with caplog.at_level(logging.WARNING, logger=room_reporter.__name__):
        for done in ({"1/api-stack"}, {"1"}, {"1", "2"}):
            started = time.monotonic()
            reporter.offer(room_reporter.report_of(status(done), "ada"))
            assert time.monotonic() - started < 0.05  # queued, not sent, in the caller
            assert reporter.flush(5)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "could not report the checklist to the room" in said[0]
    assert "room-token-1" not in said[0]  # where, not the secret
    assert reporter.sent is None


def test_a_room_that_never_answers_is_given_up_on_after_the_timeout():
    with socket.socket() as silent:  # accepts connections (the backlog), answers nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        room = f"http://127.0.0.1:{silent.getsockname()[1]}/rooms/room-token-1"
        reporter = Reporter(room, timeout=0.3)
        started = time.monotonic()
        reporter.offer(room_reporter.report_of(status({"1"}), "ada"))
        assert time.monotonic() - started < 0.05
        assert reporter.flush(5)
        assert 0.3 <= time.monotonic() - started < 3
        assert reporter.failing and reporter.sent is None


def test_a_refusing_room_is_said_once_and_then_that_it_takes_reports_again(caplog):
    room = Room(answer=403)
    reporter = Reporter(ROOM, send=room)
    with caplog.at_level(logging.WARNING, logger=room_reporter.__name__):
        for done, answer in (({"1/api-stack"}, 403), ({"1"}, 403), ({"1", "2"}, 202)):
            room.answer = answer
            reporter.offer(room_reporter.report_of(status(done), "ada"))
            assert reporter.flush(5)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2
    assert "HTTP 403 (a wrong room token?)" in said[0] and "again" in said[1]
    assert reporter.sent["modules"]["2"] == "done"


@pytest.fixture()
def fresh_reporter(monkeypatch):
    """No reporter of an earlier test; the module's own put back afterwards."""
    monkeypatch.setattr(room_reporter, "_reporter", None)
    monkeypatch.setattr(room_reporter, "_warned_about", None)
    for variable in (room_reporter.ROOM_VARIABLE, *room_reporter.NAME_VARIABLES):
        monkeypatch.delenv(variable, raising=False)


def test_without_a_room_nothing_is_sent(fresh_reporter):
    room_reporter.offer(status({"1"}))
    assert room_reporter._reporter is None


def test_a_room_that_is_no_room_address_is_said_once_and_nothing_is_sent(
        fresh_reporter, monkeypatch, caplog):
    monkeypatch.setenv("WORKSHOP_ROOM", "instructor-laptop:8765")
    with caplog.at_level(logging.WARNING, logger=room_reporter.__name__):
        room_reporter.offer(status({"1"}))
        room_reporter.offer(status({"1", "2"}))
    assert room_reporter._reporter is None
    assert [r.getMessage() for r in caplog.records] == [
        "WORKSHOP_ROOM='instructor-laptop:8765' is not a room's address: it is the "
        "http://<host>:<port>/rooms/<token> that `workshop dashboard` printed; the checklist "
        "is not reported"]


def test_a_report_that_cannot_be_built_never_reaches_the_notebook(fresh_reporter, monkeypatch):
    monkeypatch.setenv("WORKSHOP_ROOM", ROOM)

    def broken(*_):
        raise RuntimeError("a bug in the report")

    monkeypatch.setattr(room_reporter, "report_of", broken)
    room_reporter.offer(status({"1"}))  # logged, not raised


@pytest.mark.parametrize(("variables", "shown"), [
    ({}, "ada-1"),
    ({"JUPYTERHUB_USER": "ada@hub"}, "ada@hub"),
    ({"JUPYTERHUB_USER": "ada@hub", "WORKSHOP_PARTICIPANT": "Ada L."}, "Ada L."),
])
def test_the_name_shown_is_the_one_chosen_else_the_hub_user_else_the_prefix(
        fresh_reporter, monkeypatch, variables, shown):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert room_reporter.participant_name(status()) == shown


def test_a_process_that_ends_right_after_its_check_still_reports():
    """A headless run shuts a notebook's kernel down right after its progress cell."""
    import subprocess
    import sys
    from pathlib import Path

    from helpers.runs.dashboard import Dashboard

    repo = Path(__file__).resolve().parents[2]
    script = ("import sys; sys.path.insert(0, 'tests/unit'); from room_fakes import status; "
              "from helpers.checklist import room_reporter; "
              "room_reporter.offer(status({'1'}))")  # and exit at once
    with Dashboard("exit-room-" + "2" * 10, port=0) as dashboard:
        env = {**os.environ, "PYTHONPATH": str(repo), "WORKSHOP_ROOM": dashboard.room_url,
               "WORKSHOP_PARTICIPANT": "Ada"}
        subprocess.run([sys.executable, "-c", script], cwd=repo, env=env, check=True,
                       timeout=60)
        rows = dashboard.board.snapshot()["rows"]
    assert [(r["participant"], r["modules"]["1"]) for r in rows] == [("Ada", "done")]
