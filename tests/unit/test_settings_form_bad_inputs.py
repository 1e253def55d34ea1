"""Bad inputs in the settings form (notebook 00): each field shows a sentence that says
what is wrong and what to type instead, and nothing is saved until every field is valid.

The catalogue with every bad input of the kit is docs/bad-inputs.md; the ids here
(W1, W2, ...) are its rows. The sandbox side (CLI, API, sandbox) is in
tests/sandbox/test_bad_inputs.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "bad-inputs.md"

# id, field, value, what the learner reads beside the field
FORM_CASES = [
    ("W1", "domain", "Example.COM", "use lowercase letters: 'example.com'"),
    ("W2", "domain", "https://example.com/tickets", "looks like a URL: enter only the domain"),
    ("W3", "domain", "", "enter a domain name, e.g. example.com"),
    ("W4", "domain", "localhost", "has no top-level domain"),
    ("W5", "domain", "my_site.com", "'my_site' is not a valid part of a domain name"),
    ("W6", "domain", "192.168.0.1", "looks like an IP address"),
    ("W7", "domain", " example.com", "remove the spaces around the domain name"),
    ("W8", "domain", "example.com.", "leave out the trailing dot: 'example.com'"),
    ("W9", "domain", "a" * 64 + ".com", "1-63 characters per part"),
    ("W10", "domain", ("a" * 60 + ".") * 5 + "com", "at most 253 characters"),
    ("W11", "secondary_region", "eu-west-1",
     "the secondary region must differ from the primary (eu-west-1)"),
    ("W12", "prefix", "WildRydes", "'WildRydes' is not a usable participant prefix"),
    ("W13", "prefix", "ab", "3-20 characters"),
    ("W14", "prefix", "team_1", "lowercase letters, digits and '-'"),
]


@pytest.fixture()
def form(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    for name in ("WORKSHOP_PREFIX", "WORKSHOP_DOMAIN", "WORKSHOP_MODE",
                 "WORKSHOP_PRIMARY_REGION", "WORKSHOP_SECONDARY_REGION"):
        monkeypatch.delenv(name, raising=False)
    from helpers.core.config import WorkshopConfig
    from helpers.views.widgets import SettingsForm

    return SettingsForm(WorkshopConfig())


def saved_config(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "state-wildrydes.json").read_text())["config"]


@pytest.mark.parametrize(("case", "field", "value", "message"), FORM_CASES,
                         ids=[c[0] for c in FORM_CASES])
def test_settings_form_explains_the_bad_value_and_saves_nothing(form, tmp_path, case, field,
                                                                value, message):
    before = saved_config(tmp_path)  # the form saved the valid defaults when it opened
    widget = {"domain": form.domain, "prefix": form.prefix,
              "secondary_region": form.secondary}[field]
    widget.value = value
    shown = form.errors[field].value
    assert message in shown.replace("&#x27;", "'")
    assert "color:#c62828" in shown  # in red, beside the field
    assert form.config is None
    assert "Not saved" in form.status.value
    assert saved_config(tmp_path) == before  # nothing half-saved
    others = [name for name, label in form.errors.items() if label.value and name != field]
    assert others == []  # only the field at fault is marked


def test_fixing_the_field_saves_the_settings(form, tmp_path):
    form.domain.value = "Example.COM"
    form.domain.value = "example.org"
    assert form.errors["domain"].value == ""
    assert form.config is not None and form.config.domain == "example.org"
    assert saved_config(tmp_path)["domain"] == "example.org"


def test_every_form_case_is_in_the_catalogue():
    rows = set(re.findall(r"^\| (W\d+) \|", CATALOGUE.read_text(), re.MULTILINE))
    assert rows == {case for case, *_ in FORM_CASES}
