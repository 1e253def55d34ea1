"""The sandbox's account outlives its process (issue 10): killed with SIGKILL and started
again, it has every stack, ticket and record, and its data plane carries on.

Each test runs a sandbox process of its own, with its status and state files in the test's
temporary directory, never the session's sandbox or the workshop home.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
from pathlib import Path

import pytest
import requests

from helpers import checklist
from helpers.aws import failover, tickets
from helpers.connect import net
from helpers.connect.sandbox_admin import SandboxAdmin, stream_mappings
from helpers.core.config import WorkshopConfig
from helpers.sandbox import SandboxSettings, admin_paths, process, state_file
from workshop_cli import workshop
from workshop_steps import deploy_regions, set_up_failover

TIME_SCALE = 0.05


@pytest.fixture()
def own_sandbox(tmp_path, monkeypatch):
    """Starts (and restarts) a sandbox whose clients are this test's; stopped at the end."""
    status = tmp_path / "sandbox.json"
    monkeypatch.setenv("WORKSHOP_SANDBOX_FILE", str(status))
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WORKSHOP_MODE", "sandbox")

    def start(**settings) -> dict:
        return process.up(SandboxSettings(time_scale=TIME_SCALE, **settings),
                          status_file=status, stop_with_parent=True)

    try:
        yield start, status
    finally:
        process.down(status)


def _all_saved(endpoint_url: str) -> dict | None:
    """The sandbox's save figures once no change waits to be saved, else None."""
    saved = SandboxAdmin(endpoint_url).state()
    return None if saved["pending"] else saved


def _kill(info: dict, status: Path) -> None:
    os.kill(info["pid"], signal.SIGKILL)
    net.wait_until(lambda: process.read_status(status) is None, timeout=10,
                   what="the killed sandbox to be gone")


def _checklist(config: WorkshopConfig) -> dict[str, bool]:
    return {item.id: item.done for module in checklist.check(config, remember=False).modules
            for item in module.items}


def _deployed_done(config: WorkshopConfig, deployed: tuple[str, ...]) -> dict[str, bool] | None:
    """The checklist once every item of the ``deployed`` modules is done, else None."""
    items = _checklist(config)
    return items if all(done for key, done in items.items()
                        if key.split("/")[0] in deployed) else None


def _advanced_past(config: WorkshopConfig, position: int) -> dict | None:
    stats = _replicator_stats(config)
    return stats if stats["position"] > position else None


def _replicator_stats(config: WorkshopConfig) -> dict:
    table = f":table/{config.prefix}-tickets/"
    found = [s for s in stream_mappings().values()
             if table in s["event_source_arn"] and config.primary_region in s["event_source_arn"]]
    assert len(found) == 1, stream_mappings()
    return found[0]


def _in_region(ticket_id: str, api_url: str) -> bool:
    return ticket_id in {t["id"] for t in tickets.all_tickets(api_url)}


def _arrived(ticket_id: str, api_url: str) -> bool:
    """For polling: a first call can outlast the client's timeout while the function cold
    starts on a loaded machine; that says nothing about the ticket, so ask again."""
    try:
        return _in_region(ticket_id, api_url)
    except requests.Timeout:
        return False


@pytest.mark.long
def test_a_killed_sandbox_comes_back_with_its_tickets_checklist_and_replication(
        own_sandbox, new_participant):
    a_killed_sandbox_comes_back(own_sandbox, new_participant("ps"), through_3_3=True)


def test_a_killed_sandbox_comes_back_with_its_apis_tickets_and_replication(own_sandbox,
                                                                           new_participant):
    """The fast tier's stand-in: the APIs and the replicator (modules 1, 3.1's API, 3.2) and
    module 3.3's hosted zone (Route 53 is one backend for the account, not a region's),
    without the websites, certificates and records that the long tier's test restores too."""
    a_killed_sandbox_comes_back(own_sandbox, new_participant("ps"), through_3_3=False)


def a_killed_sandbox_comes_back(own_sandbox, config: WorkshopConfig, through_3_3: bool) -> None:
    start, status = own_sandbox
    info = start()
    deployed = deploy_regions(config, ui=through_3_3)  # modules 1 to 3.2
    if through_3_3:
        set_up_failover(config, republish_ui=True)  # 3.3 too: health checks, DNS, certificates
    else:
        failover.hosted_zone(config, create=True)
    modules = ("1", "2", "3.1", "3.2", "3.3") if through_3_3 else ("1", "3.2")
    primary, secondary = (deployed[r]["ApiUrl"] for r in config.regions)
    ticket = tickets.create_ticket(primary, description="flat tyre before the crash")
    net.wait_until(lambda: _arrived(ticket["id"], secondary), timeout=60,
                   what="the ticket in the secondary")
    # On a loaded machine a cold start can fail a health probe for a moment: wait for the
    # checklist to settle with every item of modules 1 to 3.3 done.
    before = net.wait_until(lambda: _deployed_done(config, modules), timeout=60,
                            what=f"modules {', '.join(modules)} done")
    replicated = _replicator_stats(config)
    assert replicated["records"] >= 1
    # "Written as it changes": within about a second, nothing is left unsaved.
    saved = net.wait_until(lambda: _all_saved(info["endpoint_url"]), timeout=10,
                           what="the state saved after the ticket")

    _kill(info, status)
    again = start()

    assert again["state"]["restored_from"] >= saved["last_saved_at"]
    # Every item as before: the stacks, the APIs answering (Lambda runs the restored code),
    # the custom domains, the health checkers probing the restored health check, DNS
    # answering from the restored zone. (Its first probes also warm the functions up.)
    net.wait_until(lambda: _checklist(config) == before, timeout=60,
                   what=f"the checklist as before the crash: {before}")
    assert _in_region(ticket["id"], primary) and _in_region(ticket["id"], secondary)
    # The poller resumed from its saved position: the old ticket is not delivered again...
    assert _replicator_stats(config) == replicated
    # ...and a new one is replicated, exactly once.
    new = tickets.create_ticket(primary, description="filed after the restart")
    net.wait_until(lambda: _arrived(new["id"], secondary), timeout=60,
                   what="the new ticket in the secondary")
    after = net.wait_until(lambda: _advanced_past(config, replicated["position"]),
                           timeout=10, what="the poller's position to advance")
    assert after["records"] == replicated["records"] + 1
    assert after["position"] == replicated["position"] + 1
    assert after["duplicates"] == 0


def _patches(endpoint_url: str) -> list[list[str]] | None:
    """The moto patches installed, ``[target, owner]`` in order, once all are, else None."""
    answer = SandboxAdmin(endpoint_url).patches()
    return answer["installed"] if answer["complete"] else None


def test_a_restored_sandbox_patches_moto_as_a_fresh_one_does(own_sandbox):
    """The moto patches (helpers.sandbox.patches) after a kill -9 and a restore are the fresh
    start's: the same ones, nested the same way (both wrappers of CreateDomainName work)."""
    from helpers.connect.session import client

    start, status = own_sandbox
    info = start(fresh=True)
    fresh = net.wait_until(lambda: _patches(info["endpoint_url"]), timeout=30,
                           what="the moto patches installed")
    domain = f"patched-{secrets.token_hex(3)}.example.com"
    certificate = f"arn:aws:acm:eu-west-1:{info['account_id']}:certificate/x"

    def create_domain() -> None:
        client("apigateway", "eu-west-1").create_domain_name(
            domainName=domain, endpointConfiguration={"types": ["REGIONAL"]},
            regionalCertificateArn=certificate)

    create_domain()  # something to save, and so to restore
    saved = net.wait_until(lambda: _all_saved(info["endpoint_url"]), timeout=10,
                           what="the state saved after the domain")

    _kill(info, status)
    again = start()

    assert again["state"]["restored_from"] >= saved["last_saved_at"]
    assert _patches(again["endpoint_url"]) == fresh  # installed while restoring
    owners = [owner for target, owner in fresh if target.endswith(".create_domain_name")]
    assert owners == ["helpers.sandbox.apigateway.executor", "helpers.sandbox.apigateway.domains"]
    apigw = client("apigateway", "eu-west-1")
    with pytest.raises(apigw.exceptions.ConflictException):
        create_domain()  # the outer wrapper: the name is taken
    apigw.delete_domain_name(domainName=domain)
    create_domain()
    assert apigw.get_base_path_mappings(domainName=domain).get("items", []) == []  # the inner


def _queues() -> list[str]:
    from helpers.connect.session import client

    return client("sqs", "eu-west-1").list_queues().get("QueueUrls", [])


def test_down_keeps_the_state_fresh_and_forget_discard_it(tmp_path, monkeypatch):
    status = tmp_path / "sandbox.json"
    env = {"WORKSHOP_SANDBOX_FILE": str(status), "WORKSHOP_HOME": str(tmp_path / "home")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    saved = state_file.beside(status)
    try:
        started = workshop("sandbox", "up", env=env)
        assert started.returncode == 0, started.stderr
        assert ", empty" in started.stdout.splitlines()[0]
        assert f"state         {saved}" in workshop("sandbox", "status", env=env).stdout
        from helpers.connect.session import client

        client("sqs", "eu-west-1").create_queue(QueueName="kept")
        assert workshop("sandbox", "down", env=env).stdout.strip() == "sandbox stopped"
        assert saved.is_file()  # the last save, at the stop

        restored = workshop("sandbox", "up", env=env)
        assert "with the state saved at" in restored.stdout.splitlines()[0], restored.stdout
        assert any(url.endswith("/kept") for url in _queues())
        workshop("sandbox", "down", env=env)

        fresh = workshop("sandbox", "up", "--fresh", env=env)
        assert ", empty" in fresh.stdout.splitlines()[0], fresh.stdout
        assert _queues() == []
        client("sqs", "eu-west-1").create_queue(QueueName="forgotten")

        forgot = workshop("sandbox", "down", "--forget", env=env)
        assert forgot.stdout.splitlines() == [
            "sandbox stopped",
            "its saved state is deleted: the next `workshop sandbox up` starts empty"]
        assert not saved.exists()
        empty = workshop("sandbox", "up", env=env)
        assert ", empty" in empty.stdout.splitlines()[0]
        assert _queues() == []
    finally:
        workshop("sandbox", "down", "--forget", env=env)


def test_a_damaged_state_stops_the_start_with_one_line_naming_fresh(tmp_path):
    status = tmp_path / "sandbox.json"
    env = {"WORKSHOP_SANDBOX_FILE": str(status), "WORKSHOP_HOME": str(tmp_path / "home")}
    saved = state_file.beside(status)
    saved.write_bytes(b"\x00 half a file")
    try:
        refused = workshop("sandbox", "up", env=env)
        assert refused.returncode == 2
        assert refused.stdout == ""
        assert refused.stderr.count("\n") == 1, refused.stderr
        assert refused.stderr.startswith(f"error: the sandbox's saved state {saved} is damaged")
        assert "`workshop sandbox up --fresh` discards it" in refused.stderr
        assert saved.read_bytes() == b"\x00 half a file"  # never replaced unasked
        assert workshop("sandbox", "status", env=env).returncode == 1

        fresh = workshop("sandbox", "up", "--fresh", env=env)
        assert fresh.returncode == 0, fresh.stderr
        assert ", empty" in fresh.stdout.splitlines()[0]
    finally:
        workshop("sandbox", "down", "--forget", env=env)


def test_a_state_from_another_moto_version_is_refused_before_unpickling(tmp_path):
    saved = tmp_path / "sandbox-state.pickle"
    head = {**state_file.header(), "moto": "4.0.0"}
    saved.write_bytes(json.dumps(head).encode() + b"\n" + b"never unpickled")
    with pytest.raises(state_file.StateFileError) as refused:
        state_file.read(saved)
    message = str(refused.value)
    assert "written by moto 4.0.0" in message
    assert "`workshop sandbox up --fresh` discards it and starts empty" in message
    assert "\n" not in message


def test_a_missing_state_is_an_empty_start_and_a_written_one_reads_back(tmp_path):
    saved = tmp_path / "sandbox-state.pickle"
    assert state_file.read(saved) is None
    head = state_file.header()
    state_file.write(saved, b"payload", head)
    assert state_file.read(saved) == state_file.Saved(head, b"payload")
    assert not saved.with_name(saved.name + ".tmp").exists()


@pytest.mark.parametrize(("method", "path", "headers", "body", "changes"), [
    ("GET", "/2015-03-31/functions/", {}, b"", False),
    ("HEAD", "/bucket/key", {}, b"", False),
    ("PUT", "/bucket/key", {}, b"data", True),
    ("POST", "/", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}, b"{}", True),
    ("POST", "/", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query"}, b"{}", False),
    ("POST", "/", {"HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"}, b"{}", False),
    ("POST", "/", {"CONTENT_TYPE": "application/x-www-form-urlencoded"},
     b"Action=DescribeStacks&Version=2010-05-15", False),
    ("POST", "/", {"CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8"},
     b"Action=CreateStack&StackName=s", True),
    # Its code's own requests are gated; holding the gate across it could deadlock a save.
    ("POST", "/2015-03-31/functions/f/invocations", {}, b"{}", False),
    ("PUT", admin_paths.region("eu-west-1"), {}, b"{}", False),
])
def test_which_requests_a_save_waits_for(method, path, headers, body, changes):
    from helpers.sandbox.persistence import changes_state

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, **headers}
    assert changes_state(environ, body) is changes
