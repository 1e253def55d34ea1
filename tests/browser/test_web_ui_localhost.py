"""The web UI in a learner's own browser, from the link the kit prints: no proxy at all.

``deployment.website_url`` is what notebook 02 prints for the learner to open; in the
sandbox it is the website endpoint's name under ``.localhost`` on the sandbox's HTTP
port (:mod:`helpers.sandbox.localhost_names`), which Chromium resolves to loopback by
itself. The page then calls ``api.<domain>`` under ``.localhost`` too, and the sandbox's
front resolves that name through the sandbox DNS for every request: module 4's break
moves the page's API calls to the secondary, its restore back to the primary.

The participant is the shared ``deployed_workshop`` (modules 1 to 3.3, both pages on
``https://api.<domain>/``); the test puts the primary back before it ends.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from helpers.aws import deployment, failover
from helpers.aws.webui import region_display_name
from helpers.base.regions import sandbox_ip
from helpers.connect import net
from workshop_steps import module_4_undone

SUCCESS = "Successful response reading from DynamoDB table."


@pytest.fixture(scope="module")
def own_browser(launch_browser):
    """Chromium as a learner has it: no proxy, no extra certificate authority."""
    with launch_browser() as context:
        yield context


@pytest.fixture()
def page(own_browser, open_tab):
    with open_tab(own_browser, expect_ms=10000, action_ms=15000) as tab:
        yield tab


def expect_served_by(page, region: str) -> None:
    expect(page.locator("#region-banner")).to_have_attribute("data-state", "healthy")
    expect(page.locator("#served-region")).to_have_text(region)
    expect(page.locator("#served-region-name")).to_have_text(region_display_name(region))
    expect(page.locator("#health-message")).to_have_text(SUCCESS)


def wait_for_dns(config, region: str, what: str) -> None:
    net.wait_until(lambda: failover.dns_answer(config, "api").addresses
                   == (sandbox_ip(region),), timeout=15, what=what)


def test_the_printed_link_opens_the_ui_and_follows_module_4s_failover(
        page, deployed_workshop, sandbox, screenshots):
    config = deployed_workshop
    primary, secondary = config.regions
    link = deployment.website_url(config, primary)
    bucket_url = deployment.stack_outputs(config, "ui", primary)["BucketURL"]
    assert link == (f"http://{urlsplit(bucket_url).hostname}.localhost:"
                    f"{sandbox['http_port']}{urlsplit(bucket_url).path}")

    # What notebook 03.3 does with the same link: the kit's own HTTP reaches it too.
    assert f"https://{config.api_host()}/" in net.request("GET", link + "/config.js").text

    response = page.goto(link)
    assert response is not None and response.status == 200
    expect_served_by(page, primary)
    expect(page.locator("#api-url")).to_have_text(f"https://{config.api_host()}/")
    called = f"http://{config.api_host()}.localhost:{sandbox['http_port']}/"
    expect(page.locator("#api-url")).to_have_attribute("data-called-as", called)
    expect(page.locator("#tickets-error")).to_be_hidden()
    expect(page.locator("#tickets-table")).to_have_attribute("aria-busy", "false")
    page.get_by_label("Description").fill("Filed from the printed link, with no proxy.")
    page.get_by_label("Your name").fill("Own Browser")
    page.get_by_role("button", name="Create ticket").click()
    expect(page.locator("#form-success")).to_have_text(f"Ticket created in {primary}.")
    expect(page.locator("#tickets-body tr", has_text="with no proxy")).to_have_count(1)

    assert failover.break_primary(config)
    try:
        failover.wait_until_unhealthy(config, timeout=30)
        wait_for_dns(config, secondary, "DNS to fail over")
        page.get_by_role("button", name="Check again").click()
        expect_served_by(page, secondary)
        expect(page.locator("#region-change")).to_contain_text(
            f"changed from {primary} to {secondary}")
        page.get_by_role("button", name="Refresh").click()  # the list, from the secondary
        expect(page.locator("#tickets-loading")).to_be_hidden()
        expect(page.locator("#tickets-error")).to_be_hidden()
        # The ticket filed in the primary, replicated (module 3.2) before the break.
        expect(page.locator("#tickets-body tr", has_text="with no proxy")).to_have_count(1)
        page.screenshot(path=screenshots / "web-ui-localhost-failover.png",
                        animations="disabled")
    finally:
        module_4_undone(config)  # shared: restored, and module 4 forgotten for the next tests
    failover.wait_until_healthy(config, timeout=30)
    wait_for_dns(config, primary, "DNS to fail back")
    page.get_by_role("button", name="Check again").click()
    expect_served_by(page, primary)
    assert page.js_errors == []
