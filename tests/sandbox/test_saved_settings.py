"""The terminal acts on the settings saved in notebook 00, and never overwrites them.

The defect this guards against (issue 11): with erin's settings saved, `workshop run`
without flags deployed the default participant in the default regions, replaced the
saved settings with the defaults, and `workshop cleanup --verify` then "verified"
the wrong participant - on AWS erin's resources would have kept billing. Every
command here runs as a learner types it: its own process, no flags, no WORKSHOP_*
settings in the environment.
"""

from __future__ import annotations

import json

import pytest

from helpers.aws import cleanup
from helpers.connect.session import client
from helpers.core import settings, state
from helpers.core.config import WorkshopConfig
from workshop_cli import workshop

ERIN = WorkshopConfig(mode="sandbox", prefix="erin", domain="erin.acme-tickets.test",
                      primary_region="us-east-1", secondary_region="us-west-2")
FIRST_LINE = ("sandbox mode · participant erin · primary us-east-1 (virginia) · secondary "
              "us-west-2 (oregon) · domain erin.acme-tickets.test")


@pytest.fixture(scope="module")
def home(sandbox, tmp_path_factory):
    """A workshop home where notebook 00 saved erin's settings, and nothing else."""
    path = tmp_path_factory.mktemp("erin-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(path))
        state.remember_config(ERIN)  # what notebook 00's form does
        try:
            yield path
        finally:
            cleanup.cleanup(ERIN)  # leave the shared sandbox clean after a failure


def as_learner(home, *args: str, timeout: float = 300):
    """``workshop *args`` with no flags of the settings and no WORKSHOP_* settings."""
    return workshop(*args, env={"WORKSHOP_HOME": str(home)},
                    drop=tuple(settings.ENVIRONMENT.values()), timeout=timeout)


def saved_settings(home) -> tuple[str, dict]:
    return ((home / "current-prefix").read_text(),
            json.loads((home / "state-erin.json").read_text())["config"])


def test_run_status_drill_and_cleanup_act_on_the_saved_participant(home, tmp_path):
    before = saved_settings(home)
    assert before == ("erin", ERIN.as_dict())

    run = as_learner(home, "run", "--until", "01", "--out", str(tmp_path / "out"), timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[0] == FIRST_LINE
    assert saved_settings(home) == before, "the run changed the saved settings"
    assert not (home / "state-wildrydes.json").exists()
    stacks = client("cloudformation", "us-east-1").describe_stacks(StackName="erin-api")
    assert stacks["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    status = as_learner(home, "status")
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[0] == FIRST_LINE
    assert "Module 1 · API layer  (01-api-layer.ipynb): done" in lines
    as_json = as_learner(home, "status", "--json")
    assert as_json.stderr.splitlines()[0] == FIRST_LINE  # stdout stays JSON
    assert json.loads(as_json.stdout)["done"] == ["1"]

    drill = as_learner(home, "drill")  # not deployed far enough: refused in one sentence
    assert drill.stdout.splitlines()[0] == FIRST_LINE
    assert drill.returncode == 2
    assert drill.stderr.startswith("error: the drill needs the workshop deployed through "
                                   "notebook 03.3 for participant 'erin' (sandbox mode)")
    assert len(drill.stderr.splitlines()) == 1 and "Traceback" not in drill.stderr

    clean = as_learner(home, "cleanup", "--verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.splitlines()[0] == FIRST_LINE
    assert clean.stdout.splitlines()[-1] == "verified: nothing carrying the prefix 'erin' is left"
    assert cleanup.leftovers(ERIN) == []
    assert saved_settings(home) == before


def test_flags_and_environment_choose_for_one_command_without_saving(home):
    other = as_learner(home, "status", "--json", "--prefix", "nobody-here")
    assert other.stderr.splitlines()[0].startswith("sandbox mode · participant nobody-here ·")
    env = workshop("status", "--json", env={"WORKSHOP_HOME": str(home),
                                            "WORKSHOP_DOMAIN": "env.example.org"},
                   drop=tuple(settings.ENVIRONMENT.values()))
    assert env.stderr.splitlines()[0].endswith("domain env.example.org")
    assert "participant erin" in env.stderr.splitlines()[0]
    assert saved_settings(home) == ("erin", ERIN.as_dict())
    assert not (home / "state-nobody-here.json").exists()


def test_a_second_zone_of_the_same_name_reaches_the_terminal_as_one_sentence(home):
    r53 = client("route53", "us-east-1")
    domain = "twins.acme-tickets.test"
    zones = [r53.create_hosted_zone(Name=domain, CallerReference=f"twin-{n}")["HostedZone"]["Id"]
             for n in (1, 2)]
    try:
        done = as_learner(home, "cleanup", "--domain", domain)
        assert done.returncode == 2
        assert done.stderr.startswith(f"error: 2 public hosted zones are named {domain} (")
        assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    finally:
        for zone in zones:
            r53.delete_hosted_zone(Id=zone)
