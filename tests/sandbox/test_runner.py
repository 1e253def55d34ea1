"""`workshop run` as a learner meets it: recording, catching up, a failing cell, its own sandbox.

The runner executes stand-in notebooks named as the curriculum's (a folder of their own,
so the real notebooks stay untouched): what is tested is the runner, not the workshop.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from helpers import cli
from helpers.aws import deployment
from helpers.core import state
from helpers.runs import runner
from helpers.sandbox import process

SET_UP = "00-set-up.ipynb"
API = "01-api-layer.ipynb"


def write_notebook(folder: Path, name: str, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    path = folder / name
    nbformat.write(notebook, path)
    return path


def text_outputs(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    return ["".join(o.get("text", "") for o in cell.get("outputs", []))
            for cell in notebook.cells if cell.cell_type == "code"]


@pytest.fixture()
def participant(sandbox, tmp_path, monkeypatch, new_participant):
    """A participant of its own in a workshop home of its own; the notebooks folder is
    ``tmp_path / "notebooks"``."""
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path / "home"))
    folder = tmp_path / "notebooks"
    folder.mkdir()
    monkeypatch.setattr(runner, "NOTEBOOKS", folder)
    return new_participant("run")


def test_record_writes_outputs_back_and_a_plain_run_leaves_the_notebooks_untouched(
        participant, tmp_path):
    folder = runner.NOTEBOOKS
    source = write_notebook(folder, SET_UP, "print(6 * 7)")
    pristine = source.read_bytes()
    out = tmp_path / "out"

    said: list[str] = []
    report = runner.run(participant, out, say=said.append)
    assert source.read_bytes() == pristine  # the learner's copy keeps no outputs
    assert text_outputs(out / SET_UP) == ["42\n"]
    assert (out / "00-set-up.html").read_text().count("42") >= 1
    assert SET_UP in (out / "index.html").read_text()
    assert report.notebooks[0][0] == SET_UP
    assert "using the running sandbox (left running afterwards)" in said

    recorded_out = tmp_path / "recorded-out"
    runner.run(participant, recorded_out, record=True, say=said.append)
    assert text_outputs(source) == ["42\n"]  # --record: the outputs are in the notebook now
    assert not (recorded_out / SET_UP).exists()  # ... and nowhere else
    assert not (recorded_out / "index.html").exists()


def test_a_failing_cell_stops_the_run_naming_notebook_cell_and_error(
        participant, tmp_path, capsys):
    folder = runner.NOTEBOOKS
    write_notebook(folder, SET_UP, "x = 1", "raise ValueError('the ticket body is malformed')",
                   "print('never reached')")
    write_notebook(folder, API, "print('not run after a failure')")
    out = tmp_path / "out"

    code = cli.main(["run", "--out", str(out), "--prefix", participant.prefix,
                     "--domain", participant.domain])
    assert code != 0
    printed = capsys.readouterr()
    message = printed.out + printed.err
    assert ("00-set-up.ipynb, cell #2 (code cell 2 of 3): ValueError: "
            "the ticket body is malformed") in message
    assert "running 01-api-layer.ipynb" not in message  # the run stopped there
    # The failed notebook is kept with the error where it happened, and the index says so.
    failed = nbformat.read(out / SET_UP, as_version=4)
    assert [o["output_type"] for o in failed.cells[1].outputs] == ["error"]
    assert failed.cells[2].outputs == []
    assert "ValueError" in (out / "00-set-up.html").read_text()
    assert "failed" in (out / "index.html").read_text()
    assert not (out / API).exists()


def test_a_deployed_module_is_skipped_unless_rerun(participant, tmp_path):
    folder = runner.NOTEBOOKS
    write_notebook(folder, API, "print('module 1 ran')")
    state.remember_config(participant)  # as notebook 00 saves the settings
    deployment.deploy_api(participant, participant.primary_region)
    try:
        said: list[str] = []
        report = runner.run(participant, tmp_path / "out", say=said.append)
        assert report.skipped == [API]
        assert any(line.startswith(f"skipping {API}: module 1 is already deployed and working")
                   for line in said), said
        assert not (tmp_path / "out" / API).exists()

        report = runner.run(participant, tmp_path / "again", rerun=True, say=said.append)
        assert report.skipped == []
        assert text_outputs(tmp_path / "again" / API) == ["module 1 ran\n"]
    finally:
        from workshop_steps import tear_down

        tear_down(participant)


def test_the_run_says_which_checklist_items_a_notebook_turned_done(participant, tmp_path):
    """The long tier's catch-up runs (test_progress.py) check this after the real notebooks;
    here a stand-in notebook 01 deploys the API as the real one does."""
    write_notebook(runner.NOTEBOOKS, API,
                   "from helpers.aws import deployment\nfrom helpers.core import state\n"
                   "config = state.current_config()\n"
                   "deployment.deploy_api(config, config.primary_region)")
    state.remember_config(participant)  # as notebook 00 saves the settings
    try:
        said: list[str] = []
        report = runner.run(participant, tmp_path / "out", say=said.append)
        deployed = f"1 · API stack deployed in {participant.primary_region}"
        assert [run.name for run in report.runs] == [API]
        assert deployed in report.runs[0].turned_done and deployed in report.turned_done
        assert f"    ✓ {deployed}" in said, said
    finally:
        from workshop_steps import tear_down

        tear_down(participant)


def test_without_a_running_sandbox_the_run_starts_one_and_stops_it(
        participant, tmp_path, monkeypatch):
    own_status = tmp_path / "own-sandbox.json"  # no sandbox is running there
    monkeypatch.setenv("WORKSHOP_SANDBOX_FILE", str(own_status))
    write_notebook(runner.NOTEBOOKS, SET_UP,
                   "import json, os\n"
                   "from helpers.connect.session import client\n"
                   "cloudformation = client('cloudformation', 'eu-west-1')\n"
                   "stacks = cloudformation.list_stacks()['StackSummaries']\n"
                   "print(json.dumps({'stacks': len(stacks), "
                   "'status': os.environ['WORKSHOP_SANDBOX_FILE']}))")

    said: list[str] = []
    report = runner.run(participant, tmp_path / "out", say=said.append)
    assert report.sandbox_started
    assert "starting a sandbox for this run (it stops at the end)" in said
    seen = json.loads(text_outputs(tmp_path / "out" / SET_UP)[0])
    assert seen == {"stacks": 0, "status": str(own_status)}  # the notebook reached it
    assert process.read_status(own_status) is None  # ... and it is stopped again
