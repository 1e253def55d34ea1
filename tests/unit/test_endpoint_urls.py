"""The URL forms endpoint mode tries for the workshop's public names (issue 15)."""

from __future__ import annotations

from helpers.core.endpoint_urls import Target, targets


def test_an_api_stage_first_by_the_path_form_then_by_host_under_emulator_domains():
    kind, forms = targets("http://127.0.0.1:4566",
                          "https://a1b2c3d4.execute-api.eu-west-1.amazonaws.com/prod/ticket?limit=5")
    assert kind == "execute-api"
    assert forms[0] == Target(
        "http://127.0.0.1:4566/restapis/a1b2c3d4/prod/_user_request_/ticket?limit=5", None)
    assert Target("http://127.0.0.1:4566/prod/ticket?limit=5",
                  "a1b2c3d4.execute-api.localhost.localstack.cloud:4566") in forms
    assert Target("http://127.0.0.1:4566/prod/ticket?limit=5",
                  "a1b2c3d4.execute-api.localhost:4566") in forms


def test_a_website_by_host_under_the_endpoint_name_first():
    kind, forms = targets("http://ministack:4566",
                          "http://p-ui-123-eu-west-1.s3-website-eu-west-1.amazonaws.com")
    assert kind == "website"
    assert forms[0] == Target("http://ministack:4566/",
                              "p-ui-123-eu-west-1.s3-website.eu-west-1.ministack:4566")
    assert Target("http://ministack:4566/",
                  "p-ui-123-eu-west-1.s3-website.localhost.localstack.cloud:4566") in forms


def test_a_custom_domain_keeps_its_name_as_the_host_header():
    assert targets("http://localhost:4566", "https://api.example.com/health") == (
        "custom-domain", [Target("http://localhost:4566/health", "api.example.com:4566")])
