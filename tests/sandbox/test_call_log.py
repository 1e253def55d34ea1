"""The call log against a real sandbox: module 4's break and restore in the open, the
per-cell disclosure in a real kernel, and the architecture picture from real state."""

from __future__ import annotations

import pytest

from helpers.aws import deployment, failover
from helpers.base.paths import call_log
from helpers.connect import calllog
from helpers.core.config import WorkshopConfig
from helpers.views import architecture

pytestmark = pytest.mark.story


@pytest.fixture(scope="module")
def participant(sandbox, tmp_path_factory, new_participant):
    """A participant of its own with the API deployed in the primary only."""
    from workshop_steps import tear_down

    config = new_participant("cl")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(tmp_path_factory.mktemp("calls-home")))
        patch.setenv("WORKSHOP_PREFIX", config.prefix)
        patch.setattr(calllog, "_participant", None)
        try:
            deployment.deploy_api(config, config.primary_region)
            yield config
        finally:
            tear_down(config)


def _since(config: WorkshopConfig, start: int) -> list[dict]:
    return calllog.read(config.prefix)[start:]


def test_the_deploy_is_logged_with_its_cloudformation_command(participant):
    records = calllog.read(participant.prefix)
    created = [r for r in records if r["operation"] == "CreateStack"]
    assert created and created[0]["region"] == participant.primary_region
    assert created[0]["cli"].startswith(
        f"aws cloudformation create-stack --stack-name {participant.prefix}-api")
    assert any(r["operation"] == "PutObject" and r["service"] == "s3" for r in records)
    assert "123456789012" not in call_log(participant.prefix).read_text()
    assert "notebook" not in {r["origin"] for r in records}


def test_breaking_the_primary_is_put_integration_then_create_deployment_on_prod(participant):
    start = len(calllog.read(participant.prefix))
    assert failover.break_primary(participant)
    broke = [r for r in _since(participant, start) if r["changes"]]
    assert [r["operation"] for r in broke] == ["PutIntegration", "CreateDeployment"]
    put, deploy = broke
    assert "httpMethod=GET" in put["params"] and put["cli"].startswith(
        "aws apigateway put-integration --rest-api-id ")
    assert "--http-method GET" in put["cli"] and "--type AWS_PROXY" in put["cli"]
    assert "stageName=prod" in deploy["params"] and "--stage-name prod" in deploy["cli"]

    start = len(calllog.read(participant.prefix))
    assert failover.restore_primary(participant)
    restored = [r for r in _since(participant, start) if r["changes"]]
    assert [r["operation"] for r in restored] == ["PutIntegration", "CreateDeployment"]


def test_the_picture_shows_what_is_deployed_and_fades_the_rest(participant):
    picture = architecture.look(participant)
    primary, secondary = participant.regions
    assert picture.part(f"{primary}/table").state == architecture.OK
    assert picture.part(f"{primary}/api").state == architecture.OK  # restored above
    assert picture.part(f"{secondary}/api").state == architecture.ABSENT
    assert picture.part("replication").state == architecture.ABSENT
    assert picture.dns_region is None
    assert architecture.draw(picture).axes


def test_a_cell_shows_its_calls_under_its_output_in_a_real_kernel(participant):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import threading\nfrom helpers.connect.session import client\n"
                                  "s3 = client('s3', 'eu-west-1')\nprint('listing')\n"
                                  "s3.list_buckets()['ResponseMetadata']['HTTPStatusCode']"),
        nbformat.v4.new_code_cell("t = threading.Thread(target=lambda: s3.list_buckets())\n"
                                  "t.start(); t.join()"),
        nbformat.v4.new_code_cell("1 + 1"),
    ])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    first, threaded, none = (cell.outputs for cell in notebook.cells)
    assert first[0]["text"] == "listing\n" and first[1]["data"]["text/plain"] == "200"
    disclosure = first[2]["data"]
    assert disclosure["text/plain"] == "AWS calls (1): reads only"
    assert disclosure["text/html"].startswith("<details class='aws-calls'")
    assert "<b>ListBuckets</b>" in disclosure["text/html"]
    assert threaded[0]["data"]["text/plain"] == "AWS calls (1): reads only"
    assert none == [{"output_type": "execute_result", "execution_count": 3,
                     "data": {"text/plain": "2"}, "metadata": {}}]
    notebook_calls = [r for r in calllog.read(participant.prefix) if r["origin"] == "notebook"]
    assert [r["operation"] for r in notebook_calls] == ["ListBuckets", "ListBuckets"]
