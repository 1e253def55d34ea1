"""What the room is told about a participant: a mark per module, the failing check's
sentence, and nothing secret; and which reports the dashboard takes."""

from __future__ import annotations

import json

import pytest
from room_fakes import report, status

from helpers.checklist.room_report import (
    FIELDS,
    MODULE_IDS,
    ReportRefused,
    accepted,
    marks,
    report_of,
    stuck,
)

ACCOUNT = "210987654321"  # shaped like an account id (not the sandbox's)
ACCESS_KEY = "AKIA" + "Q" * 16  # shaped like an access key id, built so no file holds one


def test_a_participant_half_way_through_a_module_is_in_progress_there():
    found = marks(status({"1", "2", "3.1/stacks"}))
    assert found == {"1": "done", "2": "done", "3.1": "in progress", "3.2": "not started",
                     "3.3": "not started", "4": "not started", "4.1": "not started",
                     "5": "not started"}


def test_a_module_left_behind_unfinished_is_failed_and_is_what_they_are_stuck_on():
    checklist = status({"1", "2", "3.1/stacks", "3.1/api-answers", "3.2/stack"},
                       details={"3.1/data": "3 of 5 ticket(s) missing in ap-southeast-1"})
    found = marks(checklist)
    assert (found["3.1"], found["3.2"], found["3.3"]) == ("failed", "in progress", "not started")
    assert stuck(checklist) == ("3.1 · the check 3.1/data: 3 of 5 ticket(s) missing in "
                                "ap-southeast-1")


def test_while_module_4s_break_is_live_the_modules_before_stay_done():
    # The break fails modules 1 and 3.3's checks (the primary answers with errors).
    done = {"2", "3.1", "3.2", "3.3/zone", "4/broken"} | {
        f"1/{key}" for key in ("api-stack",)}
    checklist = status(done, details={"4/restored": "the primary is still broken"})
    found = marks(checklist)
    assert {found[m] for m in ("1", "2", "3.1", "3.2", "3.3")} == {"done"}, found
    assert found["4"] == "in progress"
    assert stuck(checklist).startswith("4 · ")
    # Restored: what still fails is the learner's again.
    found = marks(status(done | {"4/restored"}))
    assert found["1"] == "failed" and found["3.3"] == "failed"


def test_a_participant_between_two_notebooks_is_stuck_on_nothing_and_told_the_next():
    sent = report_of(status({"1", "2"}), "ada")
    assert sent["stuck"] is None
    assert sent["next"] == "03.1-second-region.ipynb"
    assert report_of(status(set(MODULE_IDS)), "ada")["next"] is None  # complete


def test_a_report_carries_the_checklist_only():
    checklist = status({"1/api-stack"}, details={
        "1/api-answers": f"could not check: AccessDenied: User: arn:aws:iam::{ACCOUNT}:user/ada "
                         f"(key {ACCESS_KEY}) is not authorized"})
    sent = report_of(checklist, "ada")
    assert sorted(sent) == sorted(FIELDS)
    body = json.dumps(sent)
    assert ACCOUNT not in body and ACCESS_KEY not in body
    assert checklist.config.domain not in body and checklist.config.primary_region not in body
    assert sent["stuck"].startswith("1 · the check 1/api-answers: could not check: AccessDenied")


def test_what_the_kit_sends_is_accepted_as_it_is():
    sent = report_of(status({"1", "2/ui-stack"}), "Ada Lovelace")
    assert accepted(json.loads(json.dumps(sent))) == sent


@pytest.mark.parametrize(("change", "says"), [
    ({"credentials": {"aws_access_key_id": "x"}}, "unknown field 'credentials'"),
    ({"modules": {"1": "done"}}, "'modules' maps each module"),
    ({"modules": {**report()["modules"], "1": "nearly"}}, "each module's mark is one of"),
    ({"participant": ""}, "'participant' is a name"),
    ({"participant": "<script>"}, "'participant' is a name"),
    ({"stuck": 42}, "'stuck' is null or a string"),
    ({"stuck": f"arn:aws:iam::{ACCOUNT}:root"}, "account id or access key"),
    ({"next": ACCESS_KEY}, "account id or access key"),
    ({"schema": 2}, "different versions"),
])
def test_a_body_that_is_not_a_report_is_refused_saying_why(change, says):
    with pytest.raises(ReportRefused, match="not a checklist report") as refused:
        accepted({**report(), **change})
    assert says in str(refused.value)


@pytest.mark.parametrize("body", [[], "a report", None, {}])
def test_a_body_that_is_no_object_of_the_right_fields_is_refused(body):
    with pytest.raises(ReportRefused):
        accepted(body)
