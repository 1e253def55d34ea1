"""The API functions (get tickets, post ticket, health check) against moto's DynamoDB."""

import base64
import json
import re
import threading
from decimal import Decimal
from types import SimpleNamespace

import common
import get_tickets
import health_check
import post_ticket
import pytest

PRIMARY = "eu-west-1"  # the function's own region (AWS_REGION, set in conftest)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
    "Access-Control-Expose-Headers": "X-Workshop-Region",
    "X-Workshop-Region": PRIMARY,
}


def get_event(**params):
    """An API Gateway REST proxy event for GET /ticket."""
    return {
        "resource": "/ticket", "path": "/ticket", "httpMethod": "GET",
        "headers": {"Accept": "application/json"},
        "queryStringParameters": params or None,
        "body": None, "isBase64Encoded": False,
    }


def post_event(body, content_type="application/json", base64_encoded=False):
    """An API Gateway REST proxy event for POST /ticket; a dict body is sent as JSON."""
    if isinstance(body, dict):
        body = json.dumps(body)
    headers = {"Content-Type": content_type} if content_type else {}
    return {
        "resource": "/ticket", "path": "/ticket", "httpMethod": "POST",
        "headers": headers, "queryStringParameters": None,
        "body": body, "isBase64Encoded": base64_encoded,
    }


def health_event():
    return {"resource": "/health", "path": "/health", "httpMethod": "GET",
            "headers": None, "queryStringParameters": None, "body": None}


def call(handler, event):
    """Invoke a handler; return (status, parsed body, raw response)."""
    result = handler(event, None)
    return result["statusCode"], json.loads(result["body"]), result


def put_tickets(table, count):
    """Store `count` tickets whose createdAt grows with their number."""
    with table.batch_writer() as batch:
        for n in range(count):
            batch.put_item(Item={
                "id": f"{n:032x}", "listKey": "ticket", "description": f"ticket {n}",
                "createdAt": f"2026-01-01T00:00:00.{n:06d}Z",
            })


# ------------------------------------------------------------------ get tickets


def test_empty_table_returns_the_original_body_byte_for_byte(table):
    status, _, result = call(get_tickets.handler, get_event())

    assert status == 200
    assert result["body"] == '{"Items":[],"Count":0,"ScannedCount":0}'


@pytest.mark.parametrize("handler, event", [
    (get_tickets.handler, get_event()),
    (get_tickets.handler, get_event(limit="0")),
    (post_ticket.handler, post_event({"description": "x"})),
    (post_ticket.handler, post_event("{")),
    (health_check.handler, health_event()),
])
def test_every_response_carries_cors_and_region_headers(table, handler, event):
    _, _, result = call(handler, event)

    assert CORS_HEADERS.items() <= result["headers"].items()


def test_tickets_are_listed_newest_first(table):
    for created_at in ["2026-03-01T10:00:00.000002Z", "2026-03-01T10:00:00.000009Z",
                       "2026-02-01T00:00:00.000000Z", "2026-03-01T10:00:00.000005Z"]:
        table.put_item(Item={"id": created_at[-8:-1], "listKey": "ticket",
                             "createdAt": created_at, "description": "d"})

    _, body, _ = call(get_tickets.handler, get_event())

    assert [item["createdAt"] for item in body["Items"]] == [
        "2026-03-01T10:00:00.000009Z", "2026-03-01T10:00:00.000005Z",
        "2026-03-01T10:00:00.000002Z", "2026-02-01T00:00:00.000000Z",
    ]
    assert body["Count"] == body["ScannedCount"] == 4
    assert "next" not in body


def test_dynamodb_numbers_are_returned_as_json_numbers(table):
    table.put_item(Item={"id": "a", "listKey": "ticket", "createdAt": "2026-01-01T00:00:00Z",
                         "description": "d", "votes": Decimal(3), "score": Decimal("2.5")})

    _, body, _ = call(get_tickets.handler, get_event())

    assert body["Items"][0]["votes"] == 3
    assert body["Items"][0]["score"] == 2.5


def test_a_limit_returns_one_page_and_a_next_token_for_the_rest(table):
    put_tickets(table, 5)

    _, first, _ = call(get_tickets.handler, get_event(limit="2"))
    _, second, _ = call(get_tickets.handler, get_event(limit="2", next=first["next"]))
    _, last, _ = call(get_tickets.handler, get_event(limit="2", next=second["next"]))

    pages = [[item["description"] for item in page["Items"]] for page in (first, second, last)]
    assert pages == [["ticket 4", "ticket 3"], ["ticket 2", "ticket 1"], ["ticket 0"]]
    assert first["Count"] == 2 and last["Count"] == 1
    assert "next" not in last


def test_no_next_token_when_the_last_page_is_exactly_full(table):
    put_tickets(table, 4)

    _, first, _ = call(get_tickets.handler, get_event(limit="2"))
    _, second, _ = call(get_tickets.handler, get_event(limit="2", next=first["next"]))

    assert second["Count"] == 2
    assert "next" not in second


def test_a_page_cut_short_by_dynamodb_still_offers_the_rest(table, monkeypatch):
    put_tickets(table, 5)
    client = common.dynamodb()
    real = client.query

    def one_megabyte_cap(**kwargs):  # DynamoDB stops at 1 MB whatever the Limit
        result = real(**kwargs)
        items = result["Items"] = result["Items"][:2]
        result["LastEvaluatedKey"] = {k: items[-1][k] for k in ("id", "listKey", "createdAt")}
        return result

    monkeypatch.setattr(client, "query", one_megabyte_cap)
    _, first, _ = call(get_tickets.handler, get_event(limit="4"))
    monkeypatch.setattr(client, "query", real)
    _, rest, _ = call(get_tickets.handler, get_event(limit="4", next=first["next"]))

    assert [i["description"] for i in first["Items"]] == ["ticket 4", "ticket 3"]
    assert [i["description"] for i in rest["Items"]] == ["ticket 2", "ticket 1", "ticket 0"]


def test_the_next_token_is_url_safe(table):
    put_tickets(table, 3)

    _, body, _ = call(get_tickets.handler, get_event(limit="1"))

    assert re.fullmatch(r"[A-Za-z0-9_-]+", body["next"])


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "", " 5", "1000"])
def test_an_invalid_limit_is_rejected_with_400(table, limit):
    status, body, _ = call(get_tickets.handler, get_event(limit=limit))

    assert status == 400
    assert "'limit' must be a whole number from 1 to 100" in body["message"]


def _token(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("token", [
    "", "not a token", "%%%", "bm90IGpzb24",  # "not json"
    _token(["a", "b"]),
    _token({"id": "a"}),
    _token({"id": "a", "listKey": "ticket", "createdAt": 5}),
    _token({"id": "a", "listKey": "other", "createdAt": "2026-01-01T00:00:00Z"}),
    _token({"id": "a", "listKey": "ticket", "createdAt": "x", "extra": "y"}),
    "A" * 5000,
])
def test_a_bad_next_token_is_rejected_with_400(table, token):
    status, body, _ = call(get_tickets.handler, get_event(next=token))

    assert status == 400
    assert "'next' is not a valid page token" in body["message"]


@pytest.fixture()
def quicker_moto_strings(monkeypatch):
    """Speed up moto's DynamoDB for the 10,000-ticket walk, without changing results.

    moto scans and sorts the whole table on every Query, comparing values
    through `DynamoType.cast_value`, which for a string ("S") returns the value
    itself after five type checks. Answering strings first saves ~40 % per page.
    """
    from moto.dynamodb.models.dynamo_type import DynamoType

    cast = DynamoType.cast_value.fget
    monkeypatch.setattr(DynamoType, "cast_value",
                        property(lambda v: v.value if v.type == "S" else cast(v)))


@pytest.mark.slow  # ~20 s: moto scans and sorts the whole table for every page
@pytest.mark.long
def test_ten_thousand_tickets_are_served_in_pages_of_at_most_100(table, quicker_moto_strings):
    served_in_pages_of_at_most_100(table, 10_000)


def test_a_thousand_tickets_are_served_in_ten_pages_of_at_most_100(table, quicker_moto_strings):
    """The fast tier's stand-in for the ten thousand: the same paging, a tenth of it."""
    served_in_pages_of_at_most_100(table, 1_000)


def served_in_pages_of_at_most_100(table, tickets: int) -> None:
    put_tickets(table, tickets)

    ids, created, token, pages = [], [], None, 0
    while True:
        params = {"limit": "100", **({"next": token} if token else {})}
        status, body, result = call(get_tickets.handler, get_event(**params))
        assert status == 200
        assert body["Count"] == len(body["Items"]) <= 100
        assert len(result["body"]) < 20_000
        ids += [item["id"] for item in body["Items"]]
        created += [item["createdAt"] for item in body["Items"]]
        pages += 1
        token = body.get("next")
        if token is None:
            break

    assert pages == tickets // 100
    assert len(set(ids)) == tickets
    assert created == sorted(created, reverse=True)


def test_the_default_page_holds_100_tickets(table):
    put_tickets(table, 150)

    _, body, _ = call(get_tickets.handler, get_event())

    assert body["Count"] == 100
    assert "next" in body


def test_get_answers_500_with_a_message_when_the_table_is_missing(aws, capsys):
    status, body, _ = call(get_tickets.handler, get_event())

    assert status == 500
    assert "ResourceNotFoundException" in body["message"]
    assert "AWS request failed" in capsys.readouterr().out


# ------------------------------------------------------------------ post ticket

ISO_MICROS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"


def test_post_stores_the_ticket_and_returns_the_stored_item(table):
    ticket = {"description": "Bike has a flat tyre", "assigned": "alice",
              "createdBy": "bob", "priority": "high", "status": "in-progress"}

    status, body, _ = call(post_ticket.handler, post_event(ticket))

    assert status == 200
    assert ticket.items() <= body.items()
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", body["createdOn"])
    assert re.fullmatch(ISO_MICROS, body["createdAt"])
    assert body["updatedAt"] == body["createdAt"]
    assert body["createdOn"] == body["createdAt"][:19].replace("T", " ")
    assert body["listKey"] == "ticket"
    assert table.get_item(Key={"id": body["id"]})["Item"] == body


def test_post_fills_in_default_priority_status_and_empty_optional_fields(table):
    status, body, _ = call(post_ticket.handler, post_event({"description": "d"}))

    assert status == 200
    assert (body["priority"], body["status"]) == ("medium", "open")
    assert (body["assigned"], body["createdBy"]) == ("", "")


def test_a_posted_ticket_is_listed_first(table):
    put_tickets(table, 3)

    _, posted, _ = call(post_ticket.handler, post_event({"description": "newest"}))
    _, page, _ = call(get_tickets.handler, get_event(limit="1"))

    assert page["Items"][0]["id"] == posted["id"]


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8",
])
def test_post_accepts_json_content_types_with_parameters(table, content_type):
    status, _, _ = call(post_ticket.handler, post_event({"description": "d"}, content_type))

    assert status == 200


def test_post_reads_the_content_type_header_whatever_its_case(table):
    event = post_event({"description": "d"}, content_type=None)
    event["headers"] = {"content-type": "text/plain"}

    status, body, _ = call(post_ticket.handler, event)

    assert status == 400
    assert "Content-Type must be application/json" in body["message"]


def test_post_without_a_content_type_is_accepted(table):
    status, _, _ = call(post_ticket.handler, post_event({"description": "d"}, content_type=None))

    assert status == 200


def test_post_accepts_a_base64_encoded_body(table):
    raw = json.dumps({"description": "Café au lait ☕"}).encode("utf-8")
    event = post_event(base64.b64encode(raw).decode(), base64_encoded=True)

    status, body, _ = call(post_ticket.handler, event)

    assert status == 200
    assert body["description"] == "Café au lait ☕"


@pytest.mark.parametrize("body, expected", [
    ("{not json", "not valid JSON"),
    ("", "request body is empty"),
    (None, "request body is empty"),
    ("[1, 2]", "must be a JSON object, not array"),
    ('"description"', "must be a JSON object, not string"),
    ({"assigned": "alice"}, "'description' is required"),
    ({"description": "   "}, "'description' must not be blank"),
    ({"description": "x" * 1001}, "'description' is 1001 characters long; at most 1000"),
    ({"description": "d", "assigned": "a" * 101}, "'assigned' is 101 characters long"),
    ({"description": "d", "createdBy": "c" * 101}, "'createdBy' is 101 characters long"),
    ({"description": 42}, "'description' must be a string, not number"),
    ({"description": "d", "assigned": None}, "'assigned' must be a string, not null"),
    ({"description": "d", "priority": ["high"]}, "'priority' must be a string, not array"),
    ({"description": "d", "status": True}, "'status' must be a string, not boolean"),
    ({"description": "d", "priority": "critical"},
     "'priority' must be one of low, medium, high, urgent (got 'critical')"),
    ({"description": "d", "status": "done"},
     "'status' must be one of open, in-progress, resolved, closed"),
    ({"description": "d", "id": "mine"}, "unknown field(s) id; allowed fields are"),
    ('{"description": "\\ud800"}', "not valid Unicode"),
    ("[" * 3000 + "]" * 3000, "not valid JSON"),
    ('{"description": "' + "x" * 10_300 + '"}', "at most 10240 are allowed"),
])
def test_post_rejects_a_bad_body_with_400_saying_what_is_expected(table, body, expected):
    status, response, _ = call(post_ticket.handler, post_event(body))

    assert status == 400
    assert expected in response["message"]
    assert table.scan()["Count"] == 0


def test_post_lists_every_problem_at_once(table):
    event = post_event({"priority": "now", "colour": "red"})

    _, body, _ = call(post_ticket.handler, event)

    for part in ("unknown field(s) colour", "'description' is required", "'priority' must be"):
        assert part in body["message"]


def test_post_rejects_a_wrong_content_type(table):
    status, body, _ = call(post_ticket.handler, post_event({"description": "d"}, "text/plain"))

    assert status == 400
    assert body["message"] == "Content-Type must be application/json (got 'text/plain')."


def test_post_rejects_a_body_marked_base64_that_is_not(table):
    status, body, _ = call(post_ticket.handler, post_event("{not base64}", base64_encoded=True))

    assert status == 400
    assert "not valid base64" in body["message"]


def test_concurrent_posts_get_unique_ids(table):
    results = []

    def post(n):
        results.append(post_ticket.handler(post_event({"description": f"ticket {n}"}), None))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r["statusCode"] for r in results] == [200] * 40
    ids = {json.loads(r["body"])["id"] for r in results}
    assert len(ids) == 40
    assert table.scan()["Count"] == 40


def test_post_draws_a_new_id_if_the_first_is_taken(table, monkeypatch):
    table.put_item(Item={"id": "0" * 32, "description": "existing"})
    ids = iter(["0" * 32, "1" * 32])
    monkeypatch.setattr(post_ticket, "uuid", SimpleNamespace(uuid4=lambda: SimpleNamespace(
        hex=next(ids))))

    status, body, _ = call(post_ticket.handler, post_event({"description": "new"}))

    assert (status, body["id"]) == (200, "1" * 32)
    assert table.get_item(Key={"id": "0" * 32})["Item"]["description"] == "existing"


def test_post_answers_500_and_logs_when_dynamodb_fails(aws, capsys):
    status, body, _ = call(post_ticket.handler, post_event({"description": "d"}))

    assert status == 500
    assert "ResourceNotFoundException" in body["message"]
    errors = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(e["level"] == "ERROR" and e.get("error_code") == "ResourceNotFoundException"
               for e in errors)


def test_an_unexpected_error_becomes_a_500_not_a_crash(table, monkeypatch):
    monkeypatch.delenv("TABLE_NAME")

    status, body, _ = call(post_ticket.handler, post_event({"description": "d"}))

    assert status == 500
    assert body == {"message": "Internal error; see the function's logs."}


# ------------------------------------------------------------------ health check


def test_health_check_reports_its_region_when_the_table_is_readable(table):
    status, body, _ = call(health_check.handler, health_event())

    assert status == 200
    assert body == {"region": PRIMARY,
                    "message": "Successful response reading from DynamoDB table."}


def test_health_check_fails_with_500_when_the_table_is_gone(table):
    table.delete()

    status, body, _ = call(health_check.handler, health_event())

    assert status == 500
    assert body == {"region": PRIMARY, "message": "Could not read from DynamoDB table."}


# ------------------------------------------------------------------ logs


def test_every_log_line_is_a_json_object_with_level_and_message(table, capsys):
    call(post_ticket.handler, post_event({"description": "d"}))
    call(post_ticket.handler, post_event("{"))
    call(get_tickets.handler, get_event())

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3
    assert all({"level", "message"} <= line.keys() for line in lines)
    assert [line["status"] for line in lines] == [200, 400, 200]
    assert "not valid JSON" in lines[1]["error"]


def test_clients_are_reused_between_invocations(table):
    call(health_check.handler, health_event())
    first = common.dynamodb()
    call(health_check.handler, health_event())

    assert common.dynamodb() is first
