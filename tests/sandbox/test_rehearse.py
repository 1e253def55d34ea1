"""A rehearsed room (issue 12): participants through the whole workshop at once in one
sandbox, quotas on, as `workshop rehearse` runs them. Each test is a whole workshop per
participant: a minute or two.

On a sandbox of its own at the workshop's own time scale (0.1): a fresh account, as
an instructor rehearses on, and health checks whose scaled timeouts a loaded
two-core machine running two participants at once still meets.
"""

from __future__ import annotations

import json

import pytest

from helpers.sandbox import SandboxSettings, running_sandbox
from workshop_cli import workshop

KEYS = {"participants", "completed", "failed", "seconds", "left_over", "throttled",
        "per_participant"}


@pytest.fixture(scope="module")
def room_sandbox(sandbox):  # the session's sandbox sets the mode; this one is the room's
    with running_sandbox(SandboxSettings(time_scale=0.1)) as info:
        yield info


def rehearse(tmp_path, *args: str) -> dict:
    done = workshop("rehearse", *args, "--json", env={"WORKSHOP_HOME": str(tmp_path)},
                    timeout=1200)
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout)


def test_two_participants_complete_the_workshop_and_leave_nothing(room_sandbox, tmp_path):
    room = rehearse(tmp_path, "--participants", "2")

    assert set(room) >= KEYS
    assert (room["participants"], room["completed"], room["failed"], room["left_over"]) == (
        2, 2, 0, 0), json.dumps(room["per_participant"], indent=2)
    for participant in room["per_participant"]:
        assert participant["completed"][0].startswith("00-")
        assert participant["completed"][-1].startswith("05-")
        assert participant["calls"] > 0 and participant["seconds"] > 0


def test_a_shared_domain_is_refused_to_all_but_the_first_before_anything_is_created(
        room_sandbox, tmp_path):
    room = rehearse(tmp_path, "--participants", "2", "--shared-domain")

    first, second = room["per_participant"]
    assert first["complete"], first
    assert second["refused"] and second["completed"] == [], second
    assert second["error"].startswith("00-set-up.ipynb, cell")
    assert f"--domain {second['prefix']}.{second['domain']}" in second["error"]
    assert (room["failed"], room["left_over"]) == (0, 0)
