"""A learner's kit with a sandbox of its own reports its checklist to the instructor's room:
every check it takes (a notebook's "Your progress" cell) reaches `workshop dashboard`'s board,
and a change shows as the participant's new row - with nothing of the account in it."""

from __future__ import annotations

import json
import os
import socket

import pytest

from helpers import checklist
from helpers.aws import deployment
from helpers.base.polling import wait_until
from helpers.checklist import room_reporter
from helpers.runs.dashboard import Dashboard
from workshop_steps import tear_down

SANDBOX_ACCOUNT = "123456789012"


@pytest.fixture()
def room(monkeypatch):
    """A dashboard with no shared account, named by WORKSHOP_ROOM as a learner sets it."""
    with Dashboard("sandbox-room-" + "3" * 10, port=0) as dashboard:
        monkeypatch.setenv("WORKSHOP_ROOM", dashboard.room_url)
        monkeypatch.setenv("WORKSHOP_PARTICIPANT", "Ada")
        monkeypatch.setattr(room_reporter, "_reporter", None)  # this room's, from now on
        yield dashboard


def row_of(dashboard: Dashboard, name: str, **wanted: str) -> dict | None:
    row = next((r for r in dashboard.board.snapshot()["rows"] if r["participant"] == name), None)
    if row and all(row["modules"][key[1:].replace("_", ".")] == mark
                   for key, mark in wanted.items()):
        return row
    return None


def test_each_check_the_kit_takes_reaches_the_room_and_a_change_shows(
        sandbox, room, new_participant):
    config = new_participant("room")
    try:
        checklist.check(config)
        row = wait_until(lambda: row_of(room, "Ada"), 5, what="Ada's first report")
        assert set(row["modules"].values()) == {"not started"}
        assert (row["next"], row["source"]) == ("00-set-up.ipynb", "own sandbox")

        deployment.deploy_api(config, config.primary_region)
        checklist.check(config)
        row = wait_until(lambda: row_of(room, "Ada", m1="done"), 5,
                         what="module 1 done on Ada's row")
        assert (row["modules"]["2"], row["stuck"], row["next"]) == (
            "not started", None, "02-ui-layer.ipynb")
        shown = json.dumps(room.board.snapshot())
        assert SANDBOX_ACCOUNT not in shown and config.domain not in shown
        assert os.environ.get("AWS_SECRET_ACCESS_KEY", "no-key") not in shown
    finally:
        tear_down(config)


def test_a_check_with_an_unreachable_room_is_the_same_check(sandbox, new_participant,
                                                           monkeypatch, caplog):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("WORKSHOP_ROOM", f"http://127.0.0.1:{port}/rooms/gone-room-token")
    monkeypatch.setattr(room_reporter, "_reporter", None)
    config = new_participant("gone")
    status = checklist.check(config)  # no exception: the notebook's progress cell shows it
    assert status.next["notebook"] == "00-set-up.ipynb"
    assert room_reporter._reporter.flush(5)
    assert [r.getMessage() for r in caplog.records
            if r.name == room_reporter.__name__][0].startswith(
        f"could not report the checklist to the room http://127.0.0.1:{port}/rooms/…")
