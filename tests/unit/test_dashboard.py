"""`workshop dashboard`'s server: reports refused (403, 413, 400) change nothing; an accepted
one shows in the room's JSON and its event stream; the shared account is read again and again."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from room_fakes import report, status

from helpers.base.polling import wait_until
from helpers.checklist.room_report import MAX_BYTES
from helpers.runs.dashboard import Dashboard

TOKEN = "room-token-" + "7" * 12
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def dashboard():
    said: list[str] = []
    with Dashboard(TOKEN, port=0, say=said.append) as server:
        server.said = said
        yield server


def post(dashboard: Dashboard, body: bytes, token: str = TOKEN) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{dashboard.port}/rooms/{token}",
                                     data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())["message"]
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())["message"]


def room(dashboard: Dashboard) -> dict:
    with urllib.request.urlopen(f"{dashboard.page_url}room.json", timeout=5) as answer:
        return json.loads(answer.read())


@pytest.mark.parametrize(("token", "body", "status", "says"), [
    ("not-the-room-token", json.dumps(report()).encode(), 403, "wrong room token"),
    (TOKEN, b" " * (MAX_BYTES + 1), 413, f"a report is at most {MAX_BYTES} bytes"),
    (TOKEN, b"x" * (200 * 1024), 413, "this body has 204800"),
    (TOKEN, b'{"schema": 1, "participant": "ada"', 400, "the body is not JSON"),
    (TOKEN, b"\xff\xfe", 400, "the body is not JSON"),
    (TOKEN, json.dumps({**report(), "aws_secret_access_key": "x"}).encode(), 400,
     "unknown field 'aws_secret_access_key'"),
    (TOKEN, json.dumps({**report(), "modules": {"1": "done"}}).encode(), 400,
     "'modules' maps each module"),
], ids=["wrong-token", "oversized", "far-oversized", "malformed", "not-utf8", "extra-field",
        "schema"])
def test_a_refused_report_says_why_and_changes_nothing(dashboard, token, body, status, says):
    before = room(dashboard)
    answer = post(dashboard, body, token)
    assert answer[0] == status and says in answer[1]
    after = room(dashboard)
    assert (after["version"], after["rows"]) == (before["version"], [])
    assert dashboard.said == [f"refused a report from 127.0.0.1: {status} {answer[1]}"]
    assert "not-the-room-token" not in dashboard.said[0]  # a wrong token is not echoed


def test_an_accepted_report_is_the_participant_s_row(dashboard):
    assert post(dashboard, json.dumps(report("ada", m1="done", m2="in progress")).encode()) == (
        202, "reported: ada")
    [row] = room(dashboard)["rows"]
    assert (row["participant"], row["modules"]["1"], row["modules"]["2"], row["source"]) == (
        "ada", "done", "in progress", "own sandbox")
    assert row["stuck"] == "1 · API in eu-west-1 answers: /health 502"
    post(dashboard, json.dumps(report("ada", m1="done", m2="done")).encode())
    [row] = room(dashboard)["rows"]
    assert row["modules"]["2"] == "done"  # the newest word on a participant wins


def read_event(stream: http.client.HTTPResponse) -> dict:
    """The next ``room`` event's snapshot (comments and ``retry`` lines skipped)."""
    event = None
    while True:
        line = stream.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[len("event: "):]
        elif line.startswith("data: ") and event == "room":
            return json.loads(line[len("data: "):])


def test_the_event_stream_sends_the_room_at_once_and_each_accepted_report(dashboard):
    connection = http.client.HTTPConnection("127.0.0.1", dashboard.port, timeout=5)
    connection.request("GET", "/events")
    stream = connection.getresponse()
    assert stream.headers["Content-Type"] == "text/event-stream"
    assert read_event(stream)["rows"] == []
    post(dashboard, b"{}")  # refused: no event
    post(dashboard, json.dumps(report("bo", m1="in progress")).encode())
    snapshot = read_event(stream)
    assert [(r["participant"], r["modules"]["1"]) for r in snapshot["rows"]] == [
        ("bo", "in progress")]
    connection.close()


def test_the_shared_account_is_read_again_until_it_answers():
    answers = [RuntimeError("the sandbox is not running"), [status({"1"}, prefix="cy-1")],
               [status({"1", "2"}, prefix="cy-1")]]

    def read_room():
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    with Dashboard(TOKEN, port=0, read_room=read_room, every=0.05) as server:
        row = wait_until(lambda: next((r for r in server.board.snapshot()["rows"]
                                       if r["modules"]["2"] == "done"), None), 5,
                         what="the shared account's second read on the board")
    assert (row["participant"], row["source"]) == ("cy-1", "shared account")
    assert server.board.shared_note == ""  # said while it failed, gone once it answered


def test_a_shared_account_that_cannot_be_read_is_said_on_the_page():
    def read_room():
        raise RuntimeError("the sandbox is not running")

    with Dashboard(TOKEN, port=0, read_room=read_room, every=0.05) as server:
        note = wait_until(lambda: server.board.snapshot()["shared_note"], 5, what="a note")
    assert "could not be read: RuntimeError: the sandbox is not running" in note


def test_the_page_and_its_data_are_for_this_machine_only(dashboard):
    assert dashboard.on_this_machine("127.0.0.1") and dashboard.on_this_machine("::1")
    assert not dashboard.on_this_machine("10.1.2.3")
    with urllib.request.urlopen(dashboard.page_url, timeout=5) as page:
        assert b"EventSource" in page.read()


def test_a_room_token_learners_could_not_send_is_refused_at_start():
    from helpers.base.errors import UsageError

    with pytest.raises(UsageError, match="a room token is 8 to 64 letters"):
        Dashboard("short", port=0)


@pytest.mark.parametrize(("host", "says"), [
    ("127.0.0.1", "listening on 127.0.0.1 only: reports reach it from this machine alone"),
    ("0.0.0.0", "reachable from other machines: reports need the room token"),
])
def test_the_command_says_where_it_listens_and_what_learners_set(host, says):
    command = [sys.executable, "-m", "helpers", "dashboard", "--no-shared", "--port", "0",
               "--host", host, "--room-token", TOKEN]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True) as run:
        try:
            lines = [run.stdout.readline() for _ in range(3)]
        finally:
            run.terminate()
    assert lines[0].startswith("dashboard: http://127.0.0.1:")
    assert lines[1].startswith("learners:  WORKSHOP_ROOM=http://") and TOKEN in lines[1]
    assert says in lines[2]


def test_a_shared_read_that_agrees_with_a_row_leaves_it_and_its_last_seen_alone():
    from helpers.checklist.room_report import report_of
    from helpers.runs.room_board import SHARED, Board

    times = iter([100.0, 200.0, 300.0])
    board = Board(clock=lambda: next(times))
    board.accept(report_of(status({"1"}, prefix="cy-1"), "cy-1"), "own sandbox")
    board.read_shared([status({"1"}, prefix="cy-1")])
    row = board.rows["cy-1"]
    assert (row["source"], row["last_seen"], board.version) == ("own sandbox", 100.0, 1)
    board.read_shared([status({"1", "2"}, prefix="cy-1")])
    assert (board.rows["cy-1"]["source"], board.rows["cy-1"]["last_seen"]) == (SHARED, 200.0)
