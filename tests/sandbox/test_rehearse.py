"""A rehearsed room (issue 12): participants through the whole workshop at once in one
sandbox, quotas on, as `workshop rehearse` runs them. The test is a whole workshop per
participant: minutes. A shared domain's room is tests/sandbox/test_rehearse_shared_domain.py
(a file of its own, so the two rooms run on both workers at once).

On a sandbox of its own (``room_sandbox``, tests/sandbox/conftest.py) at the workshop's
own time scale (0.1).
"""

from __future__ import annotations

import json

import pytest

from workshop_cli import rehearse

pytestmark = pytest.mark.long

KEYS = {"participants", "completed", "failed", "seconds", "left_over", "throttled",
        "per_participant"}


def test_two_participants_complete_the_workshop_and_leave_nothing(room_sandbox, tmp_path):
    room = rehearse(tmp_path, "--participants", "2")

    assert set(room) >= KEYS
    assert (room["participants"], room["completed"], room["failed"], room["left_over"]) == (
        2, 2, 0, 0), json.dumps(room["per_participant"], indent=2)
    for participant in room["per_participant"]:
        assert participant["completed"][0].startswith("00-")
        assert participant["completed"][-1].startswith("05-")
        assert participant["calls"] > 0 and participant["seconds"] > 0

