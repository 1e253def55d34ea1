"""The progress checklist, catch-up runs and the room view, on real notebook runs.

One participant goes through the workshop with ``workshop run`` in stages:
up to 03.2, the same again (nothing to do), a half-done module 3.3 finished
by ``--until 03.3``, then the rest. After each stage ``workshop status --json``
must say what is really deployed. A second participant, deployed through the
helpers (faster than notebooks), stands at another stage for the room view.
Tests run in file order.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from helpers import checklist
from helpers.aws import cleanup, deployment, failover
from helpers.cli import main
from helpers.core import settings
from helpers.core.config import WorkshopConfig
from helpers.runs import runner
from workshop_sandboxes import module_sandbox_at_workshop_clock  # noqa: F401  (our `sandbox`)
from workshop_steps import tear_down

# Steps of one story over one deployed participant: run in file order (tests/conftest.py).
# Whole workshop runs: the long tier; make test's stand-ins read the shared deployment
# (tests/sandbox/test_checklist_on_a_deployed_workshop.py). Notebooks 04 and 04.1 assert
# their failover bound, so the module runs at the workshop's clock (tests/workshop_sandboxes.py).
pytestmark = [pytest.mark.story, pytest.mark.long]

RUNS: dict[str, runner.RunReport] = {}
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def config(sandbox, tmp_path_factory, new_participant):
    """A participant of its own, with a workshop home of its own.

    ``workshop run`` exports its settings as ``WORKSHOP_*`` variables; they are
    set here first so that they are put back when the module ends.
    """
    participant = new_participant("pg")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(tmp_path_factory.mktemp("progress-home")))
        for key, value in participant.as_dict().items():
            patch.setenv(f"WORKSHOP_{key.upper()}",
                         str(value).lower() if isinstance(value, bool) else value)
        yield participant
        tear_down(participant)
    print("\nprogress test timings (s):", TIMINGS)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


def run(config: WorkshopConfig, out: Path, name: str, until: str | None) -> runner.RunReport:
    started = time.monotonic()
    said: list[str] = []
    report = runner.run(config, out / name, until=until, say=said.append)
    report.said = said  # type: ignore[attr-defined]
    RUNS[name] = report
    TIMINGS[f"workshop run {name}"] = round(time.monotonic() - started, 1)
    return report


def status_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(["status", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def done_flags(status: dict) -> dict[str, bool]:
    return {m["id"]: m["done"] for m in status["modules"]}


def test_after_running_until_03_2_modules_1_to_3_2_are_done_and_03_3_is_next(
        config, out, capsys):
    report = run(config, out, "until-03.2", until="03.2")
    assert [name for name, _ in report.notebooks][-1] == "03.2-replicate-data.ipynb"
    status = status_json(capsys, "--prefix", config.prefix)
    assert done_flags(status) == {"1": True, "2": True, "3.1": True, "3.2": True,
                                  "3.3": False, "4": False, "4.1": False, "5": False}
    assert status["next"]["notebook"] == "03.3-route53-failover.ipynb"
    assert status["next"]["section"] == "1 · The hosted zone"
    module_3_3 = next(m for m in status["modules"] if m["id"] == "3.3")
    assert all(item["next"].startswith("open 03.3-route53-failover.ipynb, section '")
               for item in module_3_3["items"])
    lag = next(i for m in status["modules"] for i in m["items"] if i["id"] == "3.2/in-step")
    assert lag["data"]["behind"] == 0
    # The run said, notebook by notebook, which items each one turned done.
    assert "1 · API stack deployed in eu-west-1" in report.runs[1].turned_done
    assert any(item.startswith("3.2 · replicator attached") for item in report.turned_done)


def test_the_run_folder_is_a_static_site_of_the_executed_notebooks(config, out):
    folder = RUNS["until-03.2"].out_dir
    index = (folder / "index.html").read_text()
    for name in ("00-set-up", "01-api-layer", "02-ui-layer", "03.1-second-region",
                 "03.2-replicate-data"):
        assert f"href='{name}.html'" in index
        assert (folder / f"{name}.html").exists()
    assert "Module 3.2 · Replicate the data" in index  # the notebook's own title
    assert "Two copies of the application are only useful" in index  # and its purpose
    assert re.search(r"<td class='time'>\d+\.\d s</td>", index)
    page = (folder / "03.2-replicate-data.html").read_text()
    assert page.count("data:image/png;base64,") >= 2  # the charts are embedded
    assert 'href="03.3-route53-failover.ipynb"' in page  # not run: stays a notebook link
    assert 'href="03.1-second-region.html"' in page  # navigation works inside the site


def test_running_until_03_2_again_skips_what_is_done_and_changes_nothing(config, out, capsys):
    before = status_json(capsys, "--prefix", config.prefix)
    report = run(config, out, "until-03.2-again", until="03.2")
    assert report.skipped == ["01-api-layer.ipynb", "02-ui-layer.ipynb",
                              "03.1-second-region.ipynb", "03.2-replicate-data.ipynb"]
    assert [name for name, _ in report.notebooks] == ["00-set-up.ipynb"]
    assert report.turned_done == []
    after = status_json(capsys, "--prefix", config.prefix)
    assert after["done"] == before["done"] == ["1", "2", "3.1", "3.2"]


def test_until_03_3_finishes_a_half_done_module_3_3(config, out, capsys):
    failover.hosted_zone(config, create=True)
    failover.request_certificates(config)  # requested, never validated: the learner stopped here
    half = status_json(capsys, "--prefix", config.prefix)
    items = {i["id"]: i["done"] for m in half["modules"] for i in m["items"]}
    assert items["3.3/zone"] and not items["3.3/certificates"]
    assert half["next"]["section"] == "2 · Certificates in both regions"

    report = run(config, out, "until-03.3", until="03.3")
    assert [name for name, _ in report.notebooks] == ["00-set-up.ipynb",
                                                      "03.3-route53-failover.ipynb"]
    assert "3.3 · certificates issued in both regions" in report.turned_done
    status = status_json(capsys, "--prefix", config.prefix)
    assert status["done"] == ["1", "2", "3.1", "3.2", "3.3"]
    assert status["next"]["notebook"] == "04-test-failover.ipynb"


def test_after_the_full_run_everything_is_done_and_cleaned_up(config, out, capsys):
    report = run(config, out, "full", until=None)
    assert [name for name, _ in report.notebooks] == [
        "00-set-up.ipynb", "04-test-failover.ipynb", "04.1-global-tables.ipynb",
        "05-clean-up.ipynb"]
    assert "4 · failover tested: the primary broken by a bad deploy" in report.turned_done
    status = status_json(capsys, "--prefix", config.prefix)
    assert all(done_flags(status).values()), status
    assert status["cleaned_up"] and status["complete"] and status["next"] is None
    assert cleanup.leftovers(config) == []
    # Modules 1-4.1 are done from the history now: nothing of them is deployed any more.
    assert [m["live"] for m in status["modules"]] == [False] * 7 + [True]


@pytest.fixture(scope="module")
def second(config, sandbox):
    """Another participant with modules 1 and 2 deployed (through the helpers)."""
    other = WorkshopConfig(mode="sandbox", prefix=f"{config.prefix}-b",
                           domain=f"b-{config.domain}")
    try:
        api = deployment.deploy_api(other, other.primary_region)
        deployment.deploy_ui(other, other.primary_region, api["ApiUrl"])
        yield other
    finally:
        tear_down(other)


def test_status_all_shows_each_participant_at_their_own_stage(config, second, capsys,
                                                              tmp_path, monkeypatch):
    started = time.monotonic()
    room = status_json(capsys, "--all")
    TIMINGS["workshop status --all"] = round(time.monotonic() - started, 2)
    rows = {p["prefix"]: p for p in room["participants"]}
    assert rows[config.prefix]["complete"] and rows[config.prefix]["reached"] == "5"
    assert rows[second.prefix]["done"] == ["1", "2"]
    assert rows[second.prefix]["next"]["notebook"] == "03.1-second-region.ipynb"

    capsys.readouterr()
    assert main(["status", "--all"]) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if line.startswith(second.prefix + " "))
    assert row.split()[-2:] == ["2", "03.1-second-region.ipynb"]
    assert "✓   ✓   ·   ·   ·   ·   ·" in row
    finished = next(line for line in table.splitlines() if line.startswith(config.prefix + " "))
    assert finished.split()[-2:] == ["5", "complete"]

    # An instructor's machine has none of the participants' state files: the stacks
    # (deleted ones too) still reveal both.
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    found = checklist.participants(config)
    assert {config.prefix, second.prefix} <= set(found)
    assert checklist.check(settings.resolve({"prefix": second.prefix}),
                           remember=False).done == ["1", "2"]
