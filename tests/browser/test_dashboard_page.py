"""The instructor's dashboard in Chromium: a learner's row appears and changes as their kit
reports, without the page reloading; a refused report changes nothing on it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from helpers.checklist.room_report import MODULE_IDS
from helpers.runs.dashboard import Dashboard

TOKEN = "browser-room-" + "5" * 10


@pytest.fixture()
def dashboard():
    with Dashboard(TOKEN, port=0) as server:
        yield server


@pytest.fixture()
def tab(browser, open_tab):
    with open_tab(browser) as tab:
        yield tab


def report(name: str, stuck: str | None, next_notebook: str, **marks: str) -> dict:
    modules = dict.fromkeys(MODULE_IDS, "not started")
    modules.update({key[1:].replace("_", "."): mark for key, mark in marks.items()})
    return {"schema": 1, "participant": name, "modules": modules, "stuck": stuck,
            "next": next_notebook}


def post(dashboard: Dashboard, body: dict, token: str = TOKEN) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{dashboard.port}/rooms/{token}",
                                     data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_a_learner_s_row_follows_their_reports_without_a_reload(dashboard, tab, screenshots):
    loads = []
    tab.on("load", lambda _page: loads.append(tab.url))
    tab.goto(dashboard.page_url)
    expect(tab.locator("#state")).to_contain_text("live · 0 participant(s)")
    expect(tab.locator("#empty")).to_be_visible()

    assert post(dashboard, report("ada", "1 · API in eu-west-1 answers: /health 502",
                                  "01-api-layer.ipynb", m1="in progress")) == 202
    row = tab.locator('tr[data-participant="ada"]')
    expect(row.locator('td[data-module="1"]')).to_have_attribute("data-mark", "in progress")
    expect(row.locator("td.stuck")).to_have_text("1 · API in eu-west-1 answers: /health 502")
    expect(row.locator("td.seen")).to_contain_text("s ago")
    expect(tab.locator("#empty")).to_be_hidden()

    assert post(dashboard, report("ada", None, "03.1-second-region.ipynb", m1="done",
                                  m2="done")) == 202
    expect(row.locator('td[data-module="2"]')).to_have_attribute("data-mark", "done")
    expect(row.locator('td[data-module="1"]')).to_have_text("✓")
    expect(row.locator("td.stuck")).to_have_text("")
    expect(row.locator("td.next")).to_have_text("03.1-second-region.ipynb")

    assert post(dashboard, report("<img src=x onerror=alert(1)>", None, "x"),
                token="a-wrong-token") == 403  # refused: the page does not change
    assert post(dashboard, report("bo", "3.1 · the check: 2 of 5 missing", "03.1-x",
                                  m1="done", m2="done", m3_1="failed", m3_2="in progress")) == 202
    expect(tab.locator("tbody tr")).to_have_count(2)
    expect(tab.locator('tr[data-participant="bo"] td[data-module="3.1"]')).to_have_attribute(
        "data-mark", "failed")
    tab.screenshot(path=str(screenshots / "dashboard.png"))
    assert loads == [dashboard.page_url]  # one load: every change came over the event stream
    assert tab.js_errors == []
