"""The stream replicator: primary-region stream records -> the secondary region's table."""

import json

import common
import pytest
import replicator
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

SECONDARY = "ap-southeast-1"  # TARGET_REGION, set in conftest
_serializer = TypeSerializer()


@pytest.fixture(autouse=True)
def no_backoff_waits(monkeypatch):
    """Record the backoff delays instead of sleeping through them."""
    waits = []
    monkeypatch.setattr(replicator, "_sleep", waits.append)
    return waits


def ticket(id_, updated_at, **fields):
    return {"id": id_, "listKey": "ticket", "description": f"ticket {id_}",
            "createdAt": "2026-01-01T00:00:00.000000Z", "updatedAt": updated_at, **fields}


def to_dynamodb(item):
    return {name: _serializer.serialize(value) for name, value in item.items()}


def record(event_name, seq, new=None, old=None):
    """A DynamoDB Streams record as Lambda delivers it (images in DynamoDB JSON)."""
    image = new or old
    data = {"Keys": {"id": {"S": image["id"]}}, "SequenceNumber": str(seq),
            "StreamViewType": "NEW_AND_OLD_IMAGES", "SizeBytes": 100}
    if new:
        data["NewImage"] = to_dynamodb(new)
    if old:
        data["OldImage"] = to_dynamodb(old)
    return {"eventID": f"e{seq}", "eventName": event_name, "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": "eu-west-1", "dynamodb": data}


def insert(seq, item):
    return record("INSERT", seq, new=item)


def modify(seq, old, new):
    return record("MODIFY", seq, new=new, old=old)


def remove(seq, item):
    return record("REMOVE", seq, old=item)


def replicate(*records):
    return replicator.handler({"Records": list(records)}, None)


def target_items(target_table):
    return {item["id"]: item for item in target_table.scan()["Items"]}


def batch_logs(capsys):
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return [line for line in lines if line["message"] == "replicated batch"]


V1, V2, V3 = ("2026-01-01T10:00:00.000001Z", "2026-01-01T10:00:00.000002Z",
              "2026-01-01T10:00:00.000003Z")


def test_an_insert_is_copied_to_the_target_region(target_table):
    item = ticket("a", V1, assigned="alice")

    result = replicate(insert("100", item))

    assert result == {"batchItemFailures": []}
    assert target_items(target_table) == {"a": item}


def test_put_then_modify_then_remove_of_one_key_leaves_no_item(target_table, capsys):
    old, new = ticket("a", V1), ticket("a", V2, status="closed")

    result = replicate(insert(1, old), modify(2, old, new), remove(3, new))

    assert result == {"batchItemFailures": []}
    assert target_items(target_table) == {}
    assert batch_logs(capsys)[0]["deleted"] == 1


def test_the_last_change_in_a_batch_wins(target_table):
    v1, v2, v3 = ticket("a", V1), ticket("a", V2, status="resolved"), ticket("a", V3)

    replicate(insert(1, v1), modify(2, v1, v2), modify(3, v2, v3))

    assert target_items(target_table)["a"]["updatedAt"] == V3


def test_a_key_removed_and_created_again_in_one_batch_exists(target_table):
    v1, v2 = ticket("a", V1), ticket("a", V2)

    replicate(insert(1, v1), remove(2, v1), insert(3, v2))

    assert target_items(target_table)["a"]["updatedAt"] == V2


def test_a_remove_deletes_the_item_from_the_target(target_table):
    item = ticket("a", V1)
    target_table.put_item(Item=item)
    target_table.put_item(Item=ticket("b", V1))

    result = replicate(remove(7, item))

    assert result == {"batchItemFailures": []}
    assert set(target_items(target_table)) == {"b"}


def test_an_older_image_arriving_after_a_newer_one_is_skipped(target_table, capsys):
    replicate(modify(20, ticket("a", V1), ticket("a", V2, status="closed")))

    replicate(insert(10, ticket("a", V1)))  # e.g. a late retry of an earlier batch

    assert target_items(target_table)["a"]["status"] == "closed"
    assert batch_logs(capsys)[-1]["skipped_stale"] == 1


def test_a_remove_is_skipped_when_the_target_holds_a_newer_version(target_table):
    target_table.put_item(Item=ticket("a", V2))

    replicate(remove(5, ticket("a", V1)))

    assert target_items(target_table)["a"]["updatedAt"] == V2


def test_items_without_updated_at_are_treated_as_oldest(target_table):
    target_table.put_item(Item=ticket("a", V1))
    no_version = {"id": "a", "description": "legacy"}
    target_table.put_item(Item={"id": "b", "description": "legacy"})

    replicate(insert(1, no_version), insert(2, ticket("b", V1)))

    items = target_items(target_table)
    assert items["a"]["updatedAt"] == V1  # the versionless image did not win
    assert items["b"]["updatedAt"] == V1  # a versioned image replaced the versionless item


def test_delivering_the_same_batch_twice_gives_the_same_table(target_table):
    records = [insert(1, ticket("a", V1)), insert(2, ticket("b", V1)),
               modify(3, ticket("a", V1), ticket("a", V2)), remove(4, ticket("b", V1))]

    first = replicate(*records)
    after_first = target_items(target_table)
    second = replicate(*records)

    assert first == second == {"batchItemFailures": []}
    assert target_items(target_table) == after_first == {"a": ticket("a", V2)}


def test_writes_are_batched_25_per_call(target_table, monkeypatch):
    client = common.dynamodb(SECONDARY)
    sizes = []
    real = client.batch_write_item

    def counting(**kwargs):
        sizes.append(sum(len(requests) for requests in kwargs["RequestItems"].values()))
        return real(**kwargs)

    monkeypatch.setattr(client, "batch_write_item", counting)

    result = replicate(*(insert(n, ticket(f"t{n}", V1)) for n in range(60)))

    assert result == {"batchItemFailures": []}
    assert sizes == [25, 25, 10]
    assert len(target_items(target_table)) == 60


def test_unprocessed_items_are_retried_with_backoff(target_table, monkeypatch,
                                                      no_backoff_waits, capsys):
    client = common.dynamodb(SECONDARY)
    real = client.batch_write_item
    calls = []

    def throttled_once(**kwargs):
        calls.append(kwargs)
        if len(calls) > 1:
            return real(**kwargs)
        (table, requests), = kwargs["RequestItems"].items()
        real(RequestItems={table: requests[:1]})
        return {"UnprocessedItems": {table: requests[1:]}}

    monkeypatch.setattr(client, "batch_write_item", throttled_once)

    result = replicate(*(insert(n, ticket(f"t{n}", V1)) for n in range(3)))

    assert result == {"batchItemFailures": []}
    assert len(calls) == 2
    assert len(calls[1]["RequestItems"]["wildrydes-tickets"]) == 2
    assert len(no_backoff_waits) == 1 and 0 <= no_backoff_waits[0] <= replicator.MAX_DELAY
    assert set(target_items(target_table)) == {"t0", "t1", "t2"}
    assert batch_logs(capsys)[0]["written"] == 3


def refuse_key(client, monkeypatch, bad_id):
    """Make every write of `bad_id` come back unprocessed; the others go through."""
    real = client.batch_write_item

    def refusing(**kwargs):
        (table, requests), = kwargs["RequestItems"].items()

        def is_bad(request):
            item = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
            return item["id"]["S"] == bad_id

        good = [r for r in requests if not is_bad(r)]
        if good:
            real(RequestItems={table: good})
        bad = [r for r in requests if is_bad(r)]
        return {"UnprocessedItems": {table: bad} if bad else {}}

    monkeypatch.setattr(client, "batch_write_item", refusing)


def test_a_persistent_failure_reports_the_lowest_failed_sequence_number(
        target_table, monkeypatch, no_backoff_waits, capsys):
    refuse_key(common.dynamodb(SECONDARY), monkeypatch, "bad")
    bad_v1, bad_v2 = ticket("bad", V1), ticket("bad", V2)

    result = replicate(
        insert(900, ticket("a", V1)),
        insert(1000, bad_v1),  # the first record of the failing key
        insert(1100, ticket("b", V1)),
        modify(1200, bad_v1, bad_v2),
        insert(1300, ticket("c", V1)),
    )

    assert result == {"batchItemFailures": [{"itemIdentifier": "1000"}]}
    assert set(target_items(target_table)) == {"a", "b", "c"}
    assert len(no_backoff_waits) == replicator.MAX_ATTEMPTS - 1
    assert all(0 <= wait <= replicator.MAX_DELAY for wait in no_backoff_waits)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    failures = [line for line in lines if line["message"] == "record not replicated"]
    assert [f["key"] for f in failures] == [{"id": {"S": "bad"}}]
    summary = next(line for line in lines if line["message"] == "replicated batch")
    assert (summary["records"], summary["written"], summary["failed"]) == (5, 3, 2)


def test_sequence_numbers_are_compared_as_numbers(target_table, monkeypatch):
    refuse_key(common.dynamodb(SECONDARY), monkeypatch, "bad")

    result = replicate(insert("9", ticket("ok", V1)), insert("10", ticket("bad", V1)),
                       modify("100", ticket("bad", V1), ticket("bad", V2)))

    assert result == {"batchItemFailures": [{"itemIdentifier": "10"}]}


def test_a_missing_target_table_fails_the_batch_from_its_first_record(aws, capsys):
    result = replicate(insert(42, ticket("a", V1)), insert(43, ticket("b", V1)))

    assert result == {"batchItemFailures": [{"itemIdentifier": "42"}]}
    assert batch_logs(capsys)[0]["failed"] == 2


def test_one_invalid_item_does_not_block_the_rest_of_its_call(target_table, monkeypatch):
    # DynamoDB rejects a whole BatchWriteItem call when one item is invalid (too
    # large, say); moto does not check sizes, so the client does it here.
    client = common.dynamodb(SECONDARY)
    real = client.batch_write_item

    def rejecting(**kwargs):
        (requests,) = kwargs["RequestItems"].values()
        if any(r["PutRequest"]["Item"]["id"]["S"] == "big" for r in requests):
            raise ClientError({"Error": {"Code": "ValidationException",
                                         "Message": "Item size has exceeded the maximum"}},
                              "BatchWriteItem")
        return real(**kwargs)

    monkeypatch.setattr(client, "batch_write_item", rejecting)

    result = replicate(insert(1, ticket("a", V1)), insert(2, ticket("big", V1)),
                       insert(3, ticket("b", V1)))

    assert result == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert set(target_items(target_table)) == {"a", "b"}


def test_a_record_without_images_is_reported_as_failed(target_table):
    keys_only = insert(5, ticket("a", V1))
    del keys_only["dynamodb"]["NewImage"]

    result = replicate(insert(4, ticket("b", V1)), keys_only)

    assert result == {"batchItemFailures": [{"itemIdentifier": "5"}]}
    assert set(target_items(target_table)) == {"b"}


def test_one_json_summary_line_per_batch(target_table, capsys):
    target_table.put_item(Item=ticket("old", V2))

    replicate(insert(1, ticket("a", V1)), remove(2, ticket("gone", V1)),
              insert(3, ticket("old", V1)))

    (summary,) = batch_logs(capsys)
    assert summary["level"] == "INFO"
    assert {k: summary[k] for k in ("records", "written", "deleted", "skipped_stale", "failed")} \
        == {"records": 3, "written": 1, "deleted": 1, "skipped_stale": 1, "failed": 0}
    assert summary["duration_ms"] >= 0


def test_an_empty_batch_reports_no_failures(aws):
    assert replicator.handler({"Records": []}, None) == {"batchItemFailures": []}


def test_the_target_table_name_can_differ_from_the_source(make_table, monkeypatch):
    monkeypatch.setenv("TARGET_TABLE_NAME", "replica-tickets")
    replica = make_table(SECONDARY, "replica-tickets")

    replicate(insert(1, ticket("a", V1)))

    assert set(target_items(replica)) == {"a"}


def test_replicating_into_the_source_table_itself_is_refused(aws, monkeypatch):
    monkeypatch.setenv("TARGET_REGION", "eu-west-1")

    with pytest.raises(RuntimeError, match="source table itself"):
        replicate(insert(1, ticket("a", V1)))
