"""A rehearsal as IAM users (`workshop rehearse --as-participants`) counts a participant whose
call AWS denied as not complete, even where the kit reported the denial and went on (notebook
00's checks): the policy lacks something the kit calls."""

from __future__ import annotations

from helpers.runs.rehearse import NOTEBOOKS, ParticipantResult, denials


def _record(service: str, operation: str, outcome: str, status: int) -> dict:
    return {"service": service, "operation": operation, "outcome": outcome, "status": status}


def test_denied_calls_are_found_in_a_call_log():
    records = [_record("dynamodb", "Scan", "ok", 200),
               _record("s3control", "GetPublicAccessBlock", "AccessDenied", 403),
               _record("dynamodb", "UpdateTable", "AccessDeniedException", 400),
               _record("s3", "HeadBucket", "403", 403),
               _record("dynamodb", "UpdateTable", "AccessDeniedException", 400)]
    assert denials(records) == ["dynamodb UpdateTable", "s3 HeadBucket",
                                "s3control GetPublicAccessBlock"]


def test_a_participant_with_a_denied_call_is_complete_only_when_not_an_iam_user():
    done = ParticipantResult("p", "p.example.com", completed=list(NOTEBOOKS),
                             denied=["s3control GetPublicAccessBlock"])
    assert done.complete  # the administrator: a 403 may be another account's bucket
    done.iam_user = "workshop-p"
    assert not done.complete
    done.denied = []
    assert done.complete
