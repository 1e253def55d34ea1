"""The web UI in headless Chromium, against the fake API (see conftest.py)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from helpers.aws import webui

PAGE_REGION = "eu-west-1"  # where conftest.py publishes the page
SUCCESS = "Successful response reading from DynamoDB table."


def seed(api) -> None:
    """A handful of realistic tickets, oldest first."""
    api.add("Unicorn refused to cross the bridge on Harbour Road; rider stranded.",
            timedelta(days=2, hours=3), priority="high", status="resolved",
            assigned="Ana Costa", createdBy="Ravi Patel")
    api.add("Charged twice for ride WR-20931.", timedelta(days=1, hours=6),
            priority="medium", status="in-progress", assigned="Billing team",
            createdBy="Mei Tanaka")
    api.add("App shows the wrong pick-up point near the central station.",
            timedelta(hours=20), priority="low", status="open", createdBy="Jonas Berg")
    api.add("Unicorn arrived with a loose saddle strap.", timedelta(hours=5),
            priority="urgent", status="open", assigned="Field ops", createdBy="Sara Lindqvist")
    api.add("Receipt e-mail never arrived after my ride on Friday.", timedelta(hours=1),
            priority="low", status="closed", assigned="Ana Costa", createdBy="Tom Okafor")


def rows(page):
    return page.locator("#tickets-body tr")


def test_chromium_is_installed(require_chromium):
    """Without /usr/bin/chromium this fails, naming `make system-packages` (the rest error)."""
    require_chromium()


# ---------------------------------------------------------------- happy path


def test_create_ticket_through_form(page, api, site, screenshots):
    seed(api)
    page.goto(site.url)

    banner = page.locator("#region-banner")
    expect(banner).to_have_attribute("data-state", "healthy")
    expect(page.locator("#served-region")).to_have_text(PAGE_REGION)
    expect(page.locator("#served-region-name")).to_have_text("Ireland")
    expect(page.locator("#health-message")).to_have_text(SUCCESS)
    expect(page.locator("#api-url")).to_have_text(api.base_url)
    expect(page.locator("#page-region")).to_have_text("eu-west-1 Ireland")
    expect(rows(page)).to_have_count(5)
    expect(rows(page).first).to_contain_text("Receipt e-mail never arrived")  # newest first

    page.get_by_label("Description").fill("Unicorn stopped for a nap halfway to the airport.")
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_label("Status").select_option("in-progress")
    page.get_by_label("Assigned to").fill("Field ops")
    page.get_by_label("Your name").fill("Priya Shah")
    page.get_by_role("button", name="Create ticket").click()

    expect(page.locator("#form-success")).to_have_text("Ticket created in eu-west-1.")
    expect(rows(page)).to_have_count(6)
    first = rows(page).first
    for text in ("Unicorn stopped for a nap", "Urgent", "In progress", "Field ops", "Priya Shah"):
        expect(first).to_contain_text(text)
    expect(page.get_by_label("Description")).to_have_value("")  # ready for the next one
    expect(page.get_by_label("Priority")).to_have_value("medium")
    expect(page.get_by_label("Your name")).to_have_value("Priya Shah")  # remembered

    stored = [t for t in api.tickets if t["createdBy"] == "Priya Shah"]
    assert len(stored) == 1
    assert {k: stored[0][k] for k in ("description", "priority", "status", "assigned")} == {
        "description": "Unicorn stopped for a nap halfway to the airport.",
        "priority": "urgent", "status": "in-progress", "assigned": "Field ops"}
    # The JSON POST is not a "simple" request: the browser asked the preflight first.
    assert ("OPTIONS", "/prod/ticket") in api.requests
    assert page.js_errors == []

    page.screenshot(path=screenshots / "web-ui.png", animations="disabled")


def test_empty_list_shows_empty_state(page, api, site):
    page.goto(site.url)
    expect(page.get_by_text("No tickets yet")).to_be_visible()
    expect(rows(page)).to_have_count(0)


def test_load_more_uses_the_next_token(page, api, site):
    for n in range(25):
        api.add(f"Ticket number {n:02d}", timedelta(minutes=100 - n))
    page.goto(site.url)
    expect(rows(page)).to_have_count(20)
    expect(rows(page).first).to_contain_text("Ticket number 24")
    expect(page.locator("#ticket-count")).to_have_text("20+ tickets, newest first")

    page.get_by_role("button", name="Load more").click()
    expect(rows(page)).to_have_count(25)
    expect(rows(page).last).to_contain_text("Ticket number 00")
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    expect(page.locator("#ticket-count")).to_have_text("25 tickets, newest first")
    gets = [path for method, path in api.requests if method == "GET" and path == "/prod/ticket"]
    assert len(gets) == 2


# ---------------------------------------------------------------- validation


def test_empty_description_is_rejected_in_the_page(page, api, site, screenshots):
    page.goto(site.url)
    expect(page.locator("#region-banner")).to_have_attribute("data-state", "healthy")
    page.get_by_label("Description").fill("   ")
    page.get_by_role("button", name="Create ticket").click()

    error = page.locator("#description-error")
    expect(error).to_have_text(re.compile("description is required"))
    expect(page.get_by_label("Description")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Description")).to_be_focused()
    page.screenshot(path=screenshots / "web-ui-validation.png", animations="disabled")
    page.wait_for_timeout(300)  # give a wrong submit time to reach the API
    assert api.posts() == []
    assert api.tickets == []

    page.get_by_label("Description").fill("Now with a description")
    page.get_by_role("button", name="Create ticket").click()
    expect(rows(page)).to_have_count(1)
    expect(error).to_be_hidden()


def test_api_400_message_is_shown(page, api, site, screenshots):
    message = "Invalid ticket: 'assigned' must name a support agent (got 'nobody')."
    api.fail_next("POST", 400, message)
    page.goto(site.url)
    page.get_by_label("Description").fill("Scooter unicorn lost its horn")
    page.get_by_label("Assigned to").fill("nobody")
    page.get_by_role("button", name="Create ticket").click()

    expect(page.locator("#form-error")).to_have_text(message)
    page.screenshot(path=screenshots / "web-ui-api-400.png", animations="disabled")
    expect(page.get_by_label("Description")).to_have_value("Scooter unicorn lost its horn")
    expect(rows(page)).to_have_count(0)
    assert api.tickets == []


# ---------------------------------------------------------------- error states


def test_api_down_shows_error_state_and_retry_recovers(page, api, site, screenshots):
    api.down = True
    api.add("Waiting behind the outage")
    page.goto(site.url)

    expect(page.locator("#tickets-error")).to_be_visible()
    expect(page.locator("#tickets-error-title")).to_have_text("API unreachable")
    expect(page.locator("#region-banner")).to_have_attribute("data-state", "error")
    expect(page.locator("#served-region")).to_have_text("no answer")
    page.screenshot(path=screenshots / "web-ui-api-down.png", animations="disabled")

    api.down = False
    page.get_by_role("button", name="Try again").click()
    expect(page.locator("#tickets-error")).to_be_hidden()
    expect(rows(page)).to_have_count(1)
    page.get_by_role("button", name="Check again").click()
    expect(page.locator("#region-banner")).to_have_attribute("data-state", "healthy")


def test_server_error_is_explained(page, api, site):
    api.outage = (502, "Internal server error")
    page.goto(site.url)
    expect(page.locator("#tickets-error-title")).to_have_text("The API failed (HTTP 502)")
    expect(page.locator("#tickets-error-detail")).to_have_text("Internal server error")
    expect(page.get_by_role("button", name="Try again")).to_be_visible()


def test_missing_cors_headers_are_diagnosed(page, api, site):
    api.cors = False
    page.goto(site.url)
    expect(page.locator("#tickets-error-title")).to_contain_text("CORS")
    expect(page.locator("#tickets-error-hint")).to_contain_text("Access-Control-Allow-Origin")


def test_missing_config_is_explained(page, api, site):
    page.route("**/config.js", lambda route: route.fulfill(status=404, body="Not Found"))
    page.goto(site.url)
    expect(page.locator("#tickets-error-title")).to_have_text("This page is not configured")
    expect(page.locator("#api-url")).to_have_text("not configured")
    assert api.requests == []


def test_banner_follows_a_region_change_and_an_unhealthy_region(page, api, site):
    page.goto(site.url)
    expect(page.locator("#served-region")).to_have_text(PAGE_REGION)

    api.healthy = False
    page.get_by_role("button", name="Check again").click()
    expect(page.locator("#region-banner")).to_have_attribute("data-state", "unhealthy")
    expect(page.locator("#health-message")).to_have_text("Could not read from DynamoDB table.")

    api.healthy, api.region = True, "ap-southeast-1"  # Route 53 failed over
    page.get_by_role("button", name="Check again").click()
    expect(page.locator("#served-region")).to_have_text("ap-southeast-1")
    expect(page.locator("#served-region-name")).to_have_text("Singapore")
    expect(page.locator("#region-change")).to_contain_text(
        "changed from eu-west-1 to ap-southeast-1")
    expect(page.locator("#region-banner")).to_have_attribute("data-state", "healthy")


# ---------------------------------------------------------------- layout and hosting


def test_narrow_screen_has_no_horizontal_scroll(page, api, site, screenshots):
    seed(api)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site.url)
    expect(rows(page)).to_have_count(5)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=screenshots / "web-ui-narrow.png", full_page=True,
                    animations="disabled")


def test_missing_page_serves_error_html(page, site):
    response = page.goto(site.url + "no/such/page")
    assert response.status == 404
    expect(page.get_by_role("heading")).to_have_text("This page does not exist")
    page.get_by_role("link", name="Go to support tickets").click()
    expect(page).to_have_title("Wild Rydes support tickets")


# ---------------------------------------------------------------- helpers/aws/webui.py


def test_published_objects(site, fake_api):
    objects = site.objects
    assert sorted(objects) == ["app.js", "config.js", "error.html", "index.html", "style.css"]
    assert objects["index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert objects["app.js"]["ContentType"] == "text/javascript; charset=utf-8"
    assert objects["style.css"]["ContentType"] == "text/css; charset=utf-8"
    assert objects["config.js"]["CacheControl"] == "no-cache"
    assert objects["index.html"]["CacheControl"] == "no-cache"
    assert "no-cache" not in objects["app.js"]["CacheControl"]
    assert objects["config.js"]["Body"].decode() == webui.render_config(fake_api.base_url,
                                                                       PAGE_REGION)


def test_publish_is_idempotent(publish_to_moto, monkeypatch):
    once = publish_to_moto("https://api.example.com", monkeypatch)
    twice = publish_to_moto("https://api.example.com", monkeypatch, times=2)
    assert once == twice  # the same objects, with nothing left over from the first run


def config_of(text: str) -> dict:
    prefix = "window.WORKSHOP_CONFIG = "
    line = text[text.index(prefix) + len(prefix):].rstrip().rstrip(";")
    return json.loads(line)


def test_render_config():
    config = config_of(webui.render_config("https://abc.execute-api.eu-west-1.amazonaws.com/prod",
                                           "eu-west-1"))
    assert config["apiBaseUrl"] == "https://abc.execute-api.eu-west-1.amazonaws.com/prod/"
    assert config["region"] == "eu-west-1"
    assert config["regionLabels"]["ap-southeast-1"] == "Singapore"
    assert config["regionLabels"]["sa-east-1"] == "São Paulo"
    assert "region" not in config_of(webui.render_config("https://api.example.com/"))
    for bad in ("api.example.com", "ftp://api.example.com/", "https://api.example.com/?x=1"):
        with pytest.raises(ValueError):
            webui.render_config(bad)
