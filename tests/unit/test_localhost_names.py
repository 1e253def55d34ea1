"""The sandbox's public names under ``.localhost`` (helpers/sandbox/localhost_names.py), the
targets' ``browser_url`` and the accessor notebooks print (``deployment.website_url``)."""

from __future__ import annotations

import pytest

from helpers.aws import deployment
from helpers.core import state
from helpers.core.config import WorkshopConfig
from helpers.core.target import for_mode
from helpers.sandbox import localhost_names
from helpers.sandbox.localhost_names import browser_url, localize_location, public_name

BUCKET_URL = "http://wildrydes-ui-123456789012-eu-west-1.s3-website-eu-west-1.amazonaws.com"
LINK = ("http://wildrydes-ui-123456789012-eu-west-1.s3-website-eu-west-1.amazonaws.com"
        ".localhost:41234")


@pytest.mark.parametrize(("url", "local"), [
    (BUCKET_URL, LINK),
    (BUCKET_URL + "/", LINK + "/"),
    ("http://b.s3-website.ap-southeast-1.amazonaws.com/index.html?x=1#top",
     "http://b.s3-website.ap-southeast-1.amazonaws.com.localhost:41234/index.html?x=1#top"),
    ("https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod/",
     "http://abc123defg.execute-api.eu-west-1.amazonaws.com.localhost:41234/prod/"),
    ("https://api.example.com/", "http://api.example.com.localhost:41234/"),
    ("https://API.Example.com:443/health", "http://api.example.com.localhost:41234/health"),
    ("https://api.example.com./", "http://api.example.com.localhost:41234/"),
])
def test_a_public_url_moves_under_localhost_on_the_fronts_port_over_http(url, local):
    assert browser_url(url, 41234) == local


@pytest.mark.parametrize("url", [
    "http://localhost:8000/", "http://api.example.com.localhost:41234/",
    "http://127.0.0.1:41234/", "http://[::1]:8080/",
])
def test_a_url_already_local_is_left_as_it_is(url):
    assert browser_url(url, 41234) == url


@pytest.mark.parametrize("url", ["ftp://example.com/", "/relative/path", "example.com", ""])
def test_only_absolute_http_urls_are_mapped(url):
    with pytest.raises(ValueError, match="absolute http"):
        browser_url(url, 41234)


@pytest.mark.parametrize(("host", "name"), [
    ("api.example.com.localhost:41234", "api.example.com"),
    ("api.example.com.localhost", "api.example.com"),
    ("API.Example.COM.LOCALHOST:80", "api.example.com"),
    ("api.example.com.localhost.:41234", "api.example.com"),
    (LINK.removeprefix("http://"),
     "wildrydes-ui-123456789012-eu-west-1.s3-website-eu-west-1.amazonaws.com"),
    ("api.example.com", None),  # a public name itself: the proxy's business
    ("localhost:41234", None),
    ("localhost", None),
    (".localhost", None),
    ("a..localhost", None),
    ("127.0.0.1.localhost", None),  # an address is no public name
    ("127.0.0.1:41234", None),
    ("[::1]:41234", None),
    ("", None),
])
def test_a_browsers_host_names_its_public_name(host, name):
    assert public_name(host) == name


@pytest.mark.parametrize("url", [BUCKET_URL + "/x", "https://api.example.com/prod/ticket?a=b"])
def test_the_mapping_round_trips(url):
    local = browser_url(url, 41234)
    host = local.split("//", 1)[1].split("/", 1)[0]
    assert public_name(host) == url.split("//", 1)[1].split("/", 1)[0]


def test_a_redirect_to_a_public_name_stays_under_localhost():
    assert localize_location(f"{BUCKET_URL}/docs/", 41234) == f"{LINK}/docs/"
    assert localize_location("/docs/", 41234) == "/docs/"  # relative: the browser's host
    assert localize_location("docs/", 41234) == "docs/"
    assert localize_location(f"{LINK}/x", 41234) == f"{LINK}/x"


def test_the_page_follows_the_same_rule():
    """web/app.js maps the API URL with the rule this module documents: named here so a
    change of one is a change of the other."""
    app = (localhost_names.__file__.rsplit("/helpers/", 1)[0]) + "/web/app.js"
    with open(app, encoding="utf-8") as source:
        text = source.read()
    assert "helpers/sandbox/localhost_names.py" in text
    assert 'local.hostname = `${url.hostname}.localhost`' in text
    assert 'local.protocol = "http:"' in text
    assert "local.port = location.port" in text


# ---------------------------------------------------------------- the targets


def test_on_aws_the_link_is_the_real_url():
    assert for_mode("aws").browser_url(BUCKET_URL) == BUCKET_URL
    assert for_mode("endpoint").browser_url(BUCKET_URL) == BUCKET_URL


def test_in_the_sandbox_the_link_is_under_localhost_on_its_http_port(monkeypatch):
    sandbox = for_mode("sandbox")
    monkeypatch.setattr(type(sandbox), "_status", staticmethod(lambda: {"http_port": 41234}))
    assert sandbox.browser_url(BUCKET_URL) == LINK


@pytest.mark.parametrize(("mode", "link"), [("aws", BUCKET_URL), ("sandbox", LINK)])
def test_website_url_is_the_link_to_open_whole(mode, link, monkeypatch, tmp_path):
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    monkeypatch.setattr(type(for_mode("sandbox")), "_status",
                        staticmethod(lambda: {"http_port": 41234}))
    config = WorkshopConfig(mode=mode, prefix="wildrydes")
    state.save(config.prefix, {"stacks": {"ui": {"eu-west-1": {
        "BucketName": "wildrydes-ui-123456789012-eu-west-1", "BucketURL": BUCKET_URL}}}})
    assert deployment.website_url(config, "eu-west-1") == link
