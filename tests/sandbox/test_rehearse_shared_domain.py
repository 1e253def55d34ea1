"""A rehearsed room on one shared domain (issue 12): the first participant completes the
workshop, the others are refused before anything is created (`workshop rehearse
--shared-domain`). Minutes: a whole workshop; a room of its own (``room_sandbox``).
"""

from __future__ import annotations

import pytest

from workshop_cli import rehearse

pytestmark = pytest.mark.long


def test_a_shared_domain_is_refused_to_all_but_the_first_before_anything_is_created(
        room_sandbox, tmp_path):
    room = rehearse(tmp_path, "--participants", "2", "--shared-domain")

    first, second = room["per_participant"]
    assert first["complete"], first
    assert second["refused"] and second["completed"] == [], second
    assert second["error"].startswith("00-set-up.ipynb, cell")
    assert f"--domain {second['prefix']}.{second['domain']}" in second["error"]
    assert (room["failed"], room["left_over"]) == (0, 0)
