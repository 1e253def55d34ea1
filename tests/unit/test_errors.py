"""What a learner reads when AWS or the sandbox cannot be used: errors.explain's sentences."""

from __future__ import annotations

from botocore.exceptions import ClientError, EndpointConnectionError, NoRegionError

from helpers.base.errors import explain


def client_error(code: str, operation: str = "DescribeStacks", message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def test_a_missing_region_says_which_options_set_one():
    sentence = explain(NoRegionError())
    assert "no region configured" in sentence
    assert "--primary" in sentence and "AWS_DEFAULT_REGION" in sentence


def test_an_unreachable_endpoint_names_it_and_suggests_the_sandbox_status():
    sentence = explain(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert "cannot reach http://127.0.0.1:1" in sentence
    assert "workshop sandbox status" in sentence


def test_an_expired_or_unknown_token_asks_for_fresh_credentials():
    for code in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                 "UnrecognizedClientException"):
        sentence = explain(client_error(code))
        assert f"AWS rejected the credentials ({code})" in sentence, code
        assert "aws sso login" in sentence


def test_a_denied_call_names_the_operation_and_the_permissions_needed():
    sentence = explain(client_error("AccessDenied", "DeleteStack", "not authorized"))
    assert sentence.startswith("AWS denied DeleteStack (not authorized)")
    assert "permissions" in sentence


def test_anything_else_is_left_to_the_traceback_as_a_bug():
    assert explain(client_error("ValidationError")) is None
    assert explain(KeyError("x")) is None
