"""Settings a learner types are checked with a message that says how to fix them."""

from __future__ import annotations

import pytest

from helpers.aws import deployment
from helpers.core import settings, state
from helpers.core.config import ConfigError, WorkshopConfig


@pytest.fixture(autouse=True)
def workshop_home(monkeypatch, tmp_path):
    """A private workshop home and no WORKSHOP_* settings from the caller's environment."""
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    for field in ("MODE", "PRIMARY_REGION", "SECONDARY_REGION", "DOMAIN", "PREFIX"):
        monkeypatch.delenv(f"WORKSHOP_{field}", raising=False)
    return tmp_path


def problem(**fields: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        WorkshopConfig(**fields)
    return caught.value


def test_defaults_are_valid():
    config = WorkshopConfig()
    assert config.problems() == {}
    assert config.regions == ("eu-west-1", "ap-southeast-1")
    assert config.api_host() == "api.example.com"
    assert config.regional_host("eu-west-1") == "ireland.example.com"
    assert config.regional_host("ap-southeast-1") == "singapore.example.com"
    assert config.stack_name("api") == "wildrydes-api"


@pytest.mark.parametrize("domain", ["exa mple.com", "-example.com", "example..com", "example",
                                    "ex_ample.com", ""])
def test_invalid_domain_is_rejected(domain):
    assert problem(domain=domain).field == "domain"


def test_uppercase_domain_suggests_the_lowercase_form():
    error = problem(domain="Example.COM")
    assert error.field == "domain"
    assert "'example.com'" in str(error)


@pytest.mark.parametrize("url", ["https://example.com", "http://example.com/", "example.com/app"])
def test_url_instead_of_a_domain_says_to_enter_only_the_name(url):
    error = problem(domain=url)
    assert error.field == "domain"
    assert "looks like a URL" in str(error)


def test_trailing_dot_is_rejected_with_the_fixed_name():
    error = problem(domain="example.com.")
    assert "trailing dot" in str(error)
    assert "'example.com'" in str(error)


def test_ip_address_is_not_a_domain():
    assert "IP address" in str(problem(domain="192.168.1.10"))


def test_same_region_twice_is_rejected():
    error = problem(primary_region="eu-west-1", secondary_region="eu-west-1")
    assert error.field == "secondary_region"
    assert "must differ" in str(error)


@pytest.mark.parametrize(("typed", "suggested"), [("eu-west-9", "eu-west-1"),
                                                   ("euwest1", "eu-west-1"),
                                                   ("EU-WEST-1", "eu-west-1")])
def test_unknown_region_comes_with_a_suggestion(typed, suggested):
    error = problem(primary_region=typed)
    assert error.field == "primary_region"
    assert f"Did you mean {suggested}?" in str(error)


@pytest.mark.parametrize("prefix", ["ab", "1abc", "Wildrydes", "wild_rydes", "wildrydes-",
                                    "a" * 21, ""])
def test_bad_prefix_is_rejected(prefix):
    error = problem(prefix=prefix)
    assert error.field == "prefix"
    assert "3-20 characters" in str(error)


def test_problems_lists_every_invalid_field_at_once():
    config = WorkshopConfig()
    object.__setattr__(config, "domain", "https://x")  # bypass __post_init__ to collect all
    object.__setattr__(config, "prefix", "X")
    assert set(config.problems()) == {"domain", "prefix"}


def test_environment_settings_are_read_and_explicit_values_win(monkeypatch):
    monkeypatch.setenv("WORKSHOP_DOMAIN", "kit.example.org")
    monkeypatch.setenv("WORKSHOP_PREFIX", "team-7")
    config = settings.resolve({"prefix": "team-8"})
    assert (config.domain, config.prefix) == ("kit.example.org", "team-8")


def test_state_round_trip(workshop_home):
    state.save("team-7", {"config": {"domain": "kit.example.org"}, "n": 1})
    assert state.load("team-7") == {"config": {"domain": "kit.example.org"}, "n": 1}
    assert state.state_file("team-7").parent == workshop_home
    assert state.load("nobody") == {}


def test_state_update_merges_dictionaries_one_level_deep():
    state.update("team-7", failover={"zone_id": "Z1"}, other=1)
    data = state.update("team-7", failover={"health_check_id": "h"}, other=2)
    assert data == {"failover": {"zone_id": "Z1", "health_check_id": "h"}, "other": 2}
    assert state.load("team-7") == data


def test_saved_config_is_current_after_a_restart():
    config = WorkshopConfig(domain="kit.example.org", prefix="team-7",
                            primary_region="us-east-1", secondary_region="us-west-2")
    state.remember_config(config)
    assert state.current_config() == config


def test_stack_outputs_of_both_regions_are_kept_side_by_side():
    config = WorkshopConfig(prefix="team-7")
    deployment.remember(config, "api", "eu-west-1", {"ApiUrl": "https://a/prod/"})
    deployment.remember(config, "api", "ap-southeast-1", {"ApiUrl": "https://b/prod/"})
    assert deployment.stack_outputs(config, "api", "eu-west-1") == {"ApiUrl": "https://a/prod/"}
    deployment.remember(config, "ui", "eu-west-1", {"BucketName": "b"})
    table = deployment.stack_outputs_table(config)
    assert list(table["region"]) == ["eu-west-1", "ap-southeast-1", "eu-west-1"]
    assert list(deployment.stack_outputs_table(config, kinds=["ui"])["value"]) == ["b"]
    deployment.forget(config, "api", "eu-west-1")
    assert list(deployment.stack_outputs_table(config, kinds=["api"])["region"]) == [
        "ap-southeast-1"]
