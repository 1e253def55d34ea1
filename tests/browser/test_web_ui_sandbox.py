"""The web UI in headless Chromium against the sandbox: deployed stacks, no fakes.

What a learner does in modules 2 to 4, in a browser: open the website bucket's
endpoint (``http://<bucket>.s3-website-<region>.amazonaws.com/``), file a ticket,
see it listed and see which region answered. The browser reaches the sandbox's
names through its proxy (``--proxy-server``); the page's ``config.js`` is the one
the helpers published, with the same ``https://`` API URL as on AWS: the proxy
answers ``CONNECT`` with certificates of the sandbox's local CA, which the browser
is told to accept (and nothing else). The link the kit prints for a learner
(``deployment.website_url``, the same names under ``.localhost``) is opened once with no
proxy at all; test_web_ui_localhost.py follows a failover from it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from helpers.aws import deployment, failover
from helpers.aws.webui import region_display_name
from helpers.base.regions import sandbox_ip
from helpers.connect import net
from workshop_steps import deploy_regions, set_up_failover, tear_down

SUCCESS = "Successful response reading from DynamoDB table."

# Steps of one story over one deployed participant: run in file order (tests/conftest.py).
pytestmark = pytest.mark.story


@pytest.fixture(scope="module")
def config(sandbox, tmp_path_factory, new_participant):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(tmp_path_factory.mktemp("workshop-home")))
        yield new_participant("ui")


@pytest.fixture(scope="module")
def deployed(config, sandbox):
    """Modules 1-3.2: API and UI in both regions (each page on its own region's API),
    and the primary's tickets replicated into the secondary."""
    outputs = deploy_regions(config)
    yield outputs
    tear_down(config)


@pytest.fixture(scope="module")
def failover_ready(config, deployed):
    """Module 3.3: Route 53 failover for api.<domain>, and both pages re-published on it."""
    zone_id, _ = set_up_failover(config, republish_ui=True)
    return zone_id


@pytest.fixture(scope="module")
def chromium(sandbox, launch_browser):
    with launch_browser(sandbox["http_proxy"], ca_cert=sandbox["ca_cert"]) as context:
        yield context


@pytest.fixture()
def page(chromium, open_tab):
    """A fresh tab that records the page's uncaught JavaScript errors."""
    with open_tab(chromium, expect_ms=10000, action_ms=15000) as tab:
        yield tab


def rows(page):
    return page.locator("#tickets-body tr")


def file_ticket(page, description: str, name: str) -> None:
    page.get_by_label("Description").fill(description)
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Create ticket").click()


def expect_served_by(page, region: str) -> None:
    expect(page.locator("#region-banner")).to_have_attribute("data-state", "healthy")
    expect(page.locator("#served-region")).to_have_text(region)
    expect(page.locator("#served-region-name")).to_have_text(region_display_name(region))
    expect(page.locator("#health-message")).to_have_text(SUCCESS)


def test_module_2_page_talks_to_its_stage_url(page, config, deployed):
    primary = config.primary_region
    site = deployed[primary]["BucketURL"]
    response = page.goto(site)
    assert response is not None and response.status == 200
    expect_served_by(page, primary)
    expect(page.locator("#api-url")).to_have_text(deployed[primary]["ApiUrl"])
    assert deployed[primary]["ApiUrl"].startswith("https://")  # as on AWS, through the CA
    expect(page.get_by_text("No tickets yet")).to_be_visible()

    file_ticket(page, "Saddle squeaks on the ride to the harbour.", "Module Two")
    expect(page.locator("#form-success")).to_have_text(f"Ticket created in {primary}.")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Saddle squeaks")
    assert page.js_errors == []


def test_module_2_the_printed_link_opens_with_no_proxy(launch_browser, config, deployed,
                                                      sandbox):
    """The link notebook 02 prints (``deployment.website_url``), in a browser with no proxy
    and no extra CA: the page is served under .localhost and calls its stage URL there too
    (test_web_ui_localhost.py follows module 4's failover from the same link)."""
    primary = config.primary_region
    link = deployment.website_url(config, primary)
    assert link.endswith(f".localhost:{sandbox['http_port']}")
    stage = urlsplit(deployed[primary]["ApiUrl"])
    with launch_browser() as context:
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        response = tab.goto(link)
        assert response is not None and response.status == 200
        expect_served_by(tab, primary)
        expect(tab.locator("#api-url")).to_have_text(deployed[primary]["ApiUrl"])
        expect(tab.locator("#api-url")).to_have_attribute(
            "data-called-as",
            f"http://{stage.hostname}.localhost:{sandbox['http_port']}{stage.path}")
        expect(rows(tab)).to_have_count(1)  # the ticket filed above, listed with no proxy
        assert errors == []


def test_module_3_page_on_the_failover_name_files_and_lists_tickets(
        page, config, deployed, failover_ready, screenshots):
    primary = config.primary_region
    page.goto(deployed[primary]["BucketURL"])
    expect(page.locator("#api-url")).to_have_text(f"https://{config.api_host()}/")
    expect_served_by(page, primary)
    expect(page.locator("#page-region")).to_have_text(
        f"{primary} {region_display_name(primary)}")
    expect(rows(page)).to_have_count(1)  # the module-2 ticket: the same table behind the name

    description = "Unicorn refuses the failover bridge until it is health-checked."
    file_ticket(page, description, "Priya Shah")
    expect(page.locator("#form-success")).to_have_text(f"Ticket created in {primary}.")
    expect(rows(page)).to_have_count(2)
    first = rows(page).first  # newest first
    for text in ("Unicorn refuses the failover bridge", "High", "Priya Shah"):
        expect(first).to_contain_text(text)
    assert page.js_errors == []
    page.screenshot(path=screenshots / "web-ui-sandbox.png", animations="disabled")


def test_module_4_the_open_page_follows_the_failover_to_the_secondary(
        page, config, deployed, failover_ready, screenshots):
    primary, secondary = config.regions
    page.goto(deployed[primary]["BucketURL"])
    expect_served_by(page, primary)
    assert failover.break_primary(config)
    try:
        failover.wait_until_unhealthy(config, timeout=30)
        net.wait_until(lambda: failover.dns_answer(config, "api").addresses
                       == (sandbox_ip(secondary),), timeout=10, what="DNS to fail over")
        # The sandbox closes every HTTP connection after one answer (and its proxy
        # resolves each new one), so the next request follows DNS at once; a browser
        # on AWS may keep using an open connection to the primary for a while.
        page.get_by_role("button", name="Check again").click()
        expect_served_by(page, secondary)
        expect(page.locator("#region-change")).to_contain_text(
            f"changed from {primary} to {secondary}")
        page.get_by_role("button", name="Refresh").click()  # the list, now from the secondary
        expect(rows(page)).to_have_count(2)  # both earlier tickets, replicated in module 3.2
        file_ticket(page, "Filed while the primary is broken.", "Failover Fan")
        expect(page.locator("#form-success")).to_have_text(f"Ticket created in {secondary}.")
        expect(rows(page)).to_have_count(3)
        expect(rows(page).first).to_contain_text("Filed while the primary is broken.")
        assert page.js_errors == []
        page.screenshot(path=screenshots / "web-ui-sandbox-failover.png", animations="disabled")
    finally:
        failover.restore_primary(config)
    failover.wait_until_healthy(config, timeout=30)
    net.wait_until(lambda: failover.dns_answer(config, "api").addresses
                   == (sandbox_ip(primary),), timeout=10, what="DNS to fail back")
    page.get_by_role("button", name="Check again").click()
    expect_served_by(page, primary)
