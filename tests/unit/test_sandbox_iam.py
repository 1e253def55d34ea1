"""The sandbox's IAM authorisation, without a sandbox: IAM's wildcards, the action IAM checks
for a call moto names, and each service's protocol for a denial
(:mod:`helpers.sandbox.iam.authorization`)."""

from __future__ import annotations

import pytest

from helpers.sandbox.iam.authorization import access_key_id, iam_action, iam_pattern, protocol


@pytest.mark.parametrize(("pattern", "value", "matches"), [
    ("arn:aws:s3:::p-ui-????????????-eu-west-1", "arn:aws:s3:::p-ui-123456789012-eu-west-1", True),
    # ? is one character: another participant whose prefix starts with p- does not match
    ("arn:aws:s3:::p-ui-????????????-eu-west-1", "arn:aws:s3:::p-ui-x-123456789012-eu-west-1",
     False),
    ("arn:aws:lambda:eu-west-1:*:function:p-*", "arn:aws:lambda:eu-west-1:1:function:p-get",
     True),
    ("arn:aws:lambda:eu-west-1:*:function:p-*", "arn:aws:lambda:eu-west-2:1:function:p-get",
     False),
    ("table/p.tickets", "table/pXtickets", False),  # a dot is a dot
    ("*", "anything at all", True),
])
def test_iam_wildcards(pattern, value, matches):
    assert bool(iam_pattern(pattern).match(value)) is matches


@pytest.mark.parametrize(("signed", "method", "operation", "query", "action"), [
    ("apigateway", "GET", "GetRestApis", {}, "apigateway:GET"),
    ("apigateway", "patch", "UpdateStage", {}, "apigateway:PATCH"),
    ("tagging", "POST", "GetResources", {}, "tag:GetResources"),
    ("s3", "HEAD", "HeadBucket", {}, "s3:ListBucket"),
    ("s3", "PUT", "CreateBucket", {"publicAccessBlock": [""]}, "s3:PutBucketPublicAccessBlock"),
    ("s3", "PUT", "PutObject", {}, "s3:PutObject"),
    ("dynamodb", "POST", "Scan", {}, "dynamodb:Scan"),
])
def test_the_action_iam_checks_for_a_call_moto_names(signed, method, operation, query, action):
    assert iam_action(signed, method, operation, query) == action


def test_each_service_denies_in_its_own_protocol():
    assert protocol("dynamodb") == "json"
    assert protocol("tagging") == "json"  # botocore speaks JSON of the Tagging API's two
    assert protocol("lambda") == "rest-json"
    assert protocol("route53") == "rest-xml"
    assert protocol("cloudformation") == "query"


def test_the_access_key_of_a_signed_request():
    header = ("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261206/eu-west-1/dynamodb/aws4_request,"
              " SignedHeaders=host, Signature=abc")
    assert access_key_id(header) == "AKIAEXAMPLE"
    assert access_key_id("") == ""
