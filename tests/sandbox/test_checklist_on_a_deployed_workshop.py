"""The checklist, catch-up runs and a shared domain on the worker's shared deployment.

The fast tier's stand-ins for tests/sandbox/test_progress.py and test_shared_domain.py, which
take a participant through the workshop with notebooks (minutes: the long tier). Here the
participant is ``deployed_workshop``, deployed through module 3.3 by the helpers, and only
read: what the checklist says of it, what a catch-up run skips, and that a second
participant naming its domain is refused before anything is created.
"""

from __future__ import annotations

import json

from helpers.aws import cleanup
from helpers.cli import main
from helpers.core.config import WorkshopConfig
from helpers.runs import runner
from workshop_cli import workshop

DEPLOYED = ["1", "2", "3.1", "3.2", "3.3"]


def status_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(["status", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def participant_args(config: WorkshopConfig) -> list[str]:
    return ["--prefix", config.prefix, "--domain", config.domain]


def test_status_says_modules_1_to_3_3_are_done_and_04_comes_next(deployed_workshop, capsys):
    status = status_json(capsys, *participant_args(deployed_workshop))
    assert status["done"] == DEPLOYED
    assert {m["id"]: m["live"] for m in status["modules"] if m["id"] in DEPLOYED} == dict.fromkeys(
        DEPLOYED, True)
    assert status["next"]["notebook"] == "04-test-failover.ipynb"
    assert not status["complete"] and not status["cleaned_up"]


def test_status_all_finds_the_deployed_participant_at_its_stage(deployed_workshop, capsys,
                                                                 tmp_path, monkeypatch):
    # An instructor's machine has none of the participant's files: its stacks reveal it.
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    room = status_json(capsys, "--all")
    row = next(p for p in room["participants"] if p["prefix"] == deployed_workshop.prefix)
    assert row["done"] == DEPLOYED and row["reached"] == "3.3"
    assert row["next"]["notebook"] == "04-test-failover.ipynb"


def test_a_catch_up_run_skips_every_module_the_helpers_deployed(deployed_workshop, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path / "home"))
    said: list[str] = []
    report = runner.run(deployed_workshop, tmp_path / "out", until="03.3", say=said.append)
    assert report.skipped == ["01-api-layer.ipynb", "02-ui-layer.ipynb",
                              "03.1-second-region.ipynb", "03.2-replicate-data.ipynb",
                              "03.3-route53-failover.ipynb"], said
    assert [name for name, _ in report.notebooks] == ["00-set-up.ipynb"]
    assert report.turned_done == []


def test_a_participant_naming_a_deployed_participants_domain_is_refused_before_creating_anything(
        deployed_workshop, tmp_path, capsys, new_participant):
    taken = deployed_workshop.domain
    other = new_participant("dv", domain=taken)
    refused = workshop("run", "--until", "00", *participant_args(other),
                       "--out", str(tmp_path / "out"), env={"WORKSHOP_HOME": str(tmp_path)})

    assert refused.returncode != 0
    said = refused.stdout + refused.stderr
    assert (f"the domain {taken} is already used by another participant "
            f"({deployed_workshop.prefix}:") in said, said
    assert f"--domain {other.prefix}.{taken}" in said
    assert cleanup.leftovers(other) == []  # not a stack, record, check or certificate
    assert status_json(capsys, *participant_args(deployed_workshop))["done"] == DEPLOYED
