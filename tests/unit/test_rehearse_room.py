"""`workshop rehearse --shared-domain`'s room without running it: one domain for everyone,
and the others' refusal counted as what the room expects, not as a failure.

The fast tier's stand-in for tests/sandbox/test_rehearse_shared_domain.py, which takes the
first participant through the whole workshop (the long tier). The room's machinery (a
process, home and prefix each, the clean-up, its proof) has its own stand-in,
tests/sandbox/test_rehearse.py's room of two through notebook 01, which never shares a domain.
"""

from __future__ import annotations

from helpers.aws import domain_owner, preflight
from helpers.core.config import WorkshopConfig
from helpers.runs import rehearse

BASE = WorkshopConfig(mode="sandbox", prefix="base", domain="room.example.com")


def room(shared_domain: bool) -> list[WorkshopConfig]:
    return [rehearse._participant_config(BASE, f"r1-p{n}", "r1", shared_domain)
            for n in (1, 2, 3)]


def test_a_shared_domain_room_gives_everyone_the_rooms_one_domain():
    assert [config.domain for config in room(shared_domain=True)] == ["r1.room.example.com"] * 3


def test_otherwise_each_participant_has_a_subdomain_of_their_own():
    assert [config.domain for config in room(shared_domain=False)] == [
        "r1-p1.room.example.com", "r1-p2.room.example.com", "r1-p3.room.example.com"]


def refusal(first: WorkshopConfig, other: WorkshopConfig, monkeypatch) -> str:
    """How the room reports ``other`` stopped by notebook 00's preflight, ``first`` having
    claimed the domain."""
    monkeypatch.setattr(domain_owner, "other_owners", lambda config: {
        first.prefix: [f"hosted zone {config.domain} (Z1)"]})
    try:
        preflight.assert_ready([preflight._domain_check(other)])
    except preflight.NotReady as exc:
        return f"00-set-up.ipynb, cell #5 (code cell 3 of 8): NotReady: {exc}"
    raise AssertionError("the preflight did not refuse a domain another participant uses")


def test_the_others_refused_is_what_a_shared_domain_room_expects_and_a_failure_otherwise(
        monkeypatch):
    first, second = room(shared_domain=True)[:2]
    completed = rehearse.ParticipantResult(first.prefix, first.domain,
                                           completed=list(rehearse.NOTEBOOKS))
    refused = rehearse.ParticipantResult(second.prefix, second.domain,
                                         error=refusal(first, second, monkeypatch))

    shared = rehearse.RoomResult([completed, refused], 60.0, 60.0, True, 0.1)
    assert (shared.completed, shared.refused, shared.failed, shared.ok) == (1, 1, 0, True)
    assert "1 completed, 0 failed, 1 refused the shared domain" in shared.text()
    # The same refusal in a room of subdomains is a participant who failed.
    assert rehearse.RoomResult([completed, refused], 60.0, 60.0, False, 0.1).failed == 1
