"""One resolution order for the settings: defaults < saved (notebook 00) < WORKSHOP_* < flags.

And nothing saves settings the learner did not choose: notebook 00's form, opened the
way a headless `workshop run` opens it, leaves the saved settings as they are.
"""

from __future__ import annotations

import pytest

from helpers.base.regions import DEFAULT_PRIMARY
from helpers.connect import session
from helpers.core import settings, state
from helpers.core.config import DEFAULT_DOMAIN, DEFAULT_PREFIX, ConfigError, WorkshopConfig

ERIN = WorkshopConfig(prefix="erin", domain="erin.acme-tickets.test",
                      primary_region="us-east-1", secondary_region="us-west-2")


@pytest.fixture(autouse=True)
def home(monkeypatch, tmp_path):
    """A private workshop home, no WORKSHOP_* settings, and no mode chosen yet."""
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    for variable in settings.ENVIRONMENT.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(session, "_chosen_mode", None)
    return tmp_path


def test_without_anything_saved_the_defaults_apply():
    assert settings.resolve() == WorkshopConfig()
    assert (settings.resolve().prefix, settings.resolve().domain) == (DEFAULT_PREFIX,
                                                                     DEFAULT_DOMAIN)


def test_saved_settings_beat_the_defaults():
    state.remember_config(ERIN)
    assert settings.resolve() == ERIN
    assert state.current_config() == ERIN  # what every notebook's first cell prints


def test_the_environment_beats_saved_settings_and_flags_beat_the_environment(monkeypatch):
    state.remember_config(ERIN)
    monkeypatch.setenv("WORKSHOP_DOMAIN", "env.example.org")
    monkeypatch.setenv("WORKSHOP_SECONDARY_REGION", "eu-west-2")
    found = settings.resolve()
    assert (found.prefix, found.primary_region) == ("erin", "us-east-1")  # still saved
    assert (found.domain, found.secondary_region) == ("env.example.org", "eu-west-2")
    flagged = settings.resolve({"domain": "flag.example.org", "secondary_region": None,
                                "primary_region": None})
    assert (flagged.domain, flagged.secondary_region) == ("flag.example.org", "eu-west-2")


def test_another_participant_gets_their_own_saved_settings_never_the_current_ones(monkeypatch):
    bob = WorkshopConfig(prefix="bob", domain="bob.example.org")
    state.remember_config(bob)
    state.remember_config(ERIN)  # erin is the current participant
    assert settings.resolve({"prefix": "bob"}) == bob
    monkeypatch.setenv("WORKSHOP_PREFIX", "bob")
    assert settings.resolve() == bob
    nobody = settings.resolve({"prefix": "nobody"})  # nothing saved: defaults, not erin's
    assert (nobody.prefix, nobody.domain, nobody.primary_region) == (
        "nobody", DEFAULT_DOMAIN, DEFAULT_PRIMARY)


def test_a_bad_value_says_where_it_came_from(monkeypatch, home):
    monkeypatch.setenv("WORKSHOP_DOMAIN", "https://example.com")
    with pytest.raises(ConfigError, match=r"looks like a URL.*\(from WORKSHOP_DOMAIN\)"):
        settings.resolve()
    monkeypatch.delenv("WORKSHOP_DOMAIN")
    state.update("erin", config={**ERIN.as_dict(), "primary_region": "eu-west-9"})
    (home / "current-prefix").write_text("erin")
    with pytest.raises(ConfigError, match=r"eu-west-9.*saved by notebook 00 in .*"
                                          r"state-erin.json: open notebook 00 to change it, "
                                          r"or pass --primary"):
        settings.resolve()
    assert settings.resolve({"primary_region": "us-east-2"}).primary_region == "us-east-2"


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("0", False), ("YES", True)])
def test_create_zone_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("WORKSHOP_CREATE_ZONE", value)
    assert settings.resolve().create_zone is expected


def test_an_unreadable_create_zone_is_refused(monkeypatch):
    monkeypatch.setenv("WORKSHOP_CREATE_ZONE", "maybe")
    with pytest.raises(ConfigError, match="WORKSHOP_CREATE_ZONE is true or false, not 'maybe'"):
        settings.resolve()


def test_the_runner_hands_a_kernel_exactly_the_resolved_settings():
    variables = settings.as_environment(ERIN)
    assert variables["WORKSHOP_PREFIX"] == "erin" and variables["WORKSHOP_CREATE_ZONE"] == "true"
    assert settings.resolve(environ=variables) == ERIN


def test_notebook_00_in_a_headless_run_keeps_the_saved_settings(monkeypatch, home):
    """The defect: `workshop run` without flags replaced erin's settings with the defaults."""
    from helpers.views.widgets import SettingsForm

    state.remember_config(ERIN)
    saved = state.state_file("erin").read_text()
    modified = state.state_file("erin").stat().st_mtime_ns
    resolved = settings.resolve()  # what `workshop run` resolves without flags
    for variable, value in settings.as_environment(resolved).items():  # the kernel's env
        monkeypatch.setenv(variable, value)
    form = SettingsForm()  # notebook 00's cell
    assert form.config == ERIN
    assert state.state_file("erin").read_text() == saved
    assert state.state_file("erin").stat().st_mtime_ns == modified  # not even rewritten
    assert (home / "current-prefix").read_text() == "erin"
    assert not (home / f"state-{DEFAULT_PREFIX}.json").exists()


def test_notebook_00_saves_what_the_learner_chose_on_the_command_line(monkeypatch, home):
    from helpers.views.widgets import SettingsForm

    state.remember_config(ERIN)
    chosen = settings.resolve({"domain": "erin.example.org"})  # `workshop run --domain ...`
    for variable, value in settings.as_environment(chosen).items():
        monkeypatch.setenv(variable, value)
    SettingsForm()
    assert settings.saved("erin")["domain"] == "erin.example.org"
    assert settings.saved("erin")["primary_region"] == "us-east-1"


def test_the_mode_is_chosen_once_per_process_not_per_client(monkeypatch):
    state.remember_config(WorkshopConfig(prefix="erin", mode="aws"))
    assert session.current_mode() == "aws"  # resolved at the first client
    monkeypatch.setenv("WORKSHOP_MODE", "sandbox")
    assert session.current_mode() == "aws"  # the environment is not re-read
    session.use_mode("endpoint")  # a command (or the settings form) chooses explicitly
    assert session.current_mode() == "endpoint"
    with pytest.raises(session.ModeError, match="unknown mode 'cloud'"):
        session.use_mode("cloud")
