"""The kit's shared loops: waiting for a condition, "which ids exist" with backoff, live output."""

from __future__ import annotations

import pytest

from helpers.base import polling, ticket_ids
from helpers.views import live


def test_wait_until_returns_the_first_truthy_value_and_runs_between_each_try():
    answers = iter([0, None, "ready"])
    between: list[int] = []
    assert polling.wait_until(lambda: next(answers), timeout=5, interval=0,
                              between=lambda: between.append(1)) == "ready"
    assert between == [1, 1]


def test_wait_until_names_what_it_waited_for_and_the_detail():
    with pytest.raises(TimeoutError, match=r"waiting for the moon; last sample: 3"):
        polling.wait_until(lambda: False, timeout=0, what="the moon",
                           detail=lambda: "last sample: 3")


class _ThrottledTable:
    """A BatchGetItem that leaves half the keys unprocessed the first ``throttled`` times."""

    def __init__(self, held: set[str], throttled: int) -> None:
        self.held, self.throttled, self.calls = held, throttled, []

    def batch_get_item(self, RequestItems):  # noqa: N803 - boto3's name
        (table, request), = RequestItems.items()
        keys = [k["id"]["S"] for k in request["Keys"]]
        self.calls.append(keys)
        assert len(keys) <= ticket_ids.BATCH_GET_MAX and request["ConsistentRead"]
        half = len(keys) // 2
        answered, left = (keys[:half], keys[half:]) if self.throttled else (keys, [])
        self.throttled = max(0, self.throttled - 1)
        answer = {"Responses": {table: [{"id": {"S": k}} for k in answered if k in self.held]}}
        if left:
            answer["UnprocessedKeys"] = {table: {**request, "Keys": [{"id": {"S": k}}
                                                                     for k in left]}}
        return answer


def test_present_asks_again_for_unprocessed_keys_after_a_backoff(monkeypatch):
    pauses: list[float] = []
    monkeypatch.setattr(ticket_ids.time, "sleep", pauses.append)
    ids = [f"id-{n}" for n in range(250)]
    db = _ThrottledTable(held=set(ids[:200]), throttled=2)
    assert ticket_ids.present(db, "t", ids) == set(ids[:200])
    assert ticket_ids.missing(db, "t", ids + ids[:3]) == set(ids[200:])
    assert len(pauses) >= 2
    assert all(0 <= p <= ticket_ids.MAX_BACKOFF_S for p in pauses)


def test_present_gives_up_on_a_table_that_stays_throttled(monkeypatch):
    monkeypatch.setattr(ticket_ids.time, "sleep", lambda _s: None)
    with pytest.raises(TimeoutError, match="still unprocessed"):
        ticket_ids.present(_ThrottledTable(held=set(), throttled=10**6), "t", ["a", "b"])


def test_live_output_draws_nothing_outside_a_notebook():
    output = live.LiveOutput(every=0)
    assert not output.active and not output.due()
    output.show("anything")  # no IPython shell: a no-op
    assert output.handles is None
