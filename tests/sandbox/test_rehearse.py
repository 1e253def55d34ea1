"""A rehearsed room (issue 12): participants through the whole workshop at once in one
sandbox, quotas on, as `workshop rehearse` runs them; with ``--as-participants`` (issue 24)
each an IAM user holding exactly `workshop iam-policy`'s policy, which the sandbox enforces.
The test is a whole workshop per participant: minutes. A shared domain's room is
tests/sandbox/test_rehearse_shared_domain.py (a file of its own, so the two rooms run on
both workers at once).

On a sandbox of its own (``room_sandbox``, tests/sandbox/conftest.py) at the workshop's
own time scale (0.1). The whole room is the long tier; `make test` rehearses a room of two
through notebook 01 (``--until``), which exercises the same machinery (a process, home and
prefix per participant, the call logs, the room's clean-up and its proof) in seconds.
"""

from __future__ import annotations

import json

import pytest

from workshop_cli import rehearse

KEYS = {"participants", "completed", "failed", "seconds", "left_over", "throttled",
        "per_participant"}


@pytest.mark.long
def test_two_participants_complete_the_workshop_and_leave_nothing(room_sandbox, tmp_path):
    room = rehearse(tmp_path, "--participants", "2")

    assert set(room) >= KEYS
    assert (room["participants"], room["completed"], room["failed"], room["left_over"]) == (
        2, 2, 0, 0), json.dumps(room["per_participant"], indent=2)
    for participant in room["per_participant"]:
        assert participant["completed"][0].startswith("00-")
        assert participant["completed"][-1].startswith("05-")
        assert participant["calls"] > 0 and participant["seconds"] > 0



def test_two_participants_rehearse_up_to_01_then_clean_up_and_leave_nothing(room_sandbox,
                                                                          tmp_path):
    """The stand-in of both long rooms: each participant also an IAM user with the policy."""
    from helpers.connect.session import client

    room = rehearse(tmp_path, "--participants", "2", "--until", "01", "--stagger", "10",
                    "--as-participants")

    assert (room["participants"], room["completed"], room["failed"], room["left_over"],
            room["until"]) == (2, 2, 0, 0, "01"), json.dumps(room["per_participant"], indent=2)
    users = {u["UserName"] for u in client("iam", "us-east-1").list_users()["Users"]}
    for participant in room["per_participant"]:
        assert participant["iam_user"] == f"workshop-{participant['prefix']}"
        assert participant["iam_user"] not in users  # deleted after the room
        assert participant["denied"] == []  # the policy allowed every call it made
        assert participant["completed"] == ["00-set-up.ipynb", "01-api-layer.ipynb"]
        # Notebook 01 deployed a stack; the participant's clean-up left nothing of it.
        assert participant["complete"] and participant["calls"] > 0
        assert participant["left_over"] == []


@pytest.mark.long
def test_two_participants_as_iam_users_with_the_policy_complete_the_workshop(room_sandbox,
                                                                             tmp_path):
    room = rehearse(tmp_path, "--participants", "2", "--as-participants")

    assert (room["participants"], room["completed"], room["failed"], room["left_over"]) == (
        2, 2, 0, 0), json.dumps(room["per_participant"], indent=2)
    assert room["as_participants"]
    for participant in room["per_participant"]:
        assert participant["completed"][-1].startswith("05-")
        assert participant["iam_user"] == f"workshop-{participant['prefix']}"
        assert participant["denied"] == []

