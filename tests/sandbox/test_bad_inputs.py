"""Bad inputs at the command line, the ticket API and the sandbox: each gets one clear
sentence (no traceback) and leaves nothing half-created.

The ids (C1, A1, S1, ...) are the rows of docs/bad-inputs.md; the settings form's
cases (W1, ...) are in tests/unit/test_settings_form_bad_inputs.py.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
from pathlib import Path

import pytest
import requests

from helpers.aws import cleanup, deployment, failover, replication, stacks, tickets
from helpers.base.paths import REPO_ROOT
from helpers.base.regions import sandbox_ip
from helpers.cli import main
from helpers.connect import net
from helpers.connect.sandbox_admin import SandboxAdmin
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig
from helpers.sandbox import admin_paths
from workshop_cli import workshop

CATALOGUE = REPO_ROOT / "docs" / "bad-inputs.md"
TOKEN = secrets.token_hex(3)
PREFIX = f"bi-{TOKEN}"  # a valid prefix nothing ever gets deployed under


# ---------------------------------------------------------------- the command line

# id, arguments, what the learner reads. Rejected before any AWS call, so run in-process.
ARGUMENT_CASES = [
    ("C1", ["cleanup", "--prefix", PREFIX, "--primary", "eu-west-9"],
     "error: 'eu-west-9' is not a region this kit knows for the primary region (use a code "
     "such as eu-west-1 or ap-southeast-1). Did you mean eu-west-1?"),
    ("C2", ["cleanup", "--prefix", PREFIX, "--primary", "eu-west-1", "--secondary", "eu-west-1"],
     "the secondary region must differ from the primary (eu-west-1): failover needs two "
     "regions"),
    ("C3", ["run", "--prefix", PREFIX, "--domain", "https://example.com/tickets"],
     "looks like a URL: enter only the domain name, e.g. example.com"),
    ("C4", ["cleanup", "--prefix", PREFIX, "--domain", "Example.com"],
     "use lowercase letters: 'example.com'"),
    ("C5", ["cleanup", "--prefix", "Bad_Prefix"],
     "'Bad_Prefix' is not a usable participant prefix: 3-20 characters"),
    ("C6", ["run", "--mode", "bogus"], "argument --mode: invalid choice: 'bogus'"),
    ("C7", [], "the following arguments are required: command"),
    ("C8", ["run", "--prefix", PREFIX, "--until", "abc"],
     "error: --until takes a notebook number such as 03.2, not 'abc'"),
    ("C9", ["sandbox", "up", "--time-scale", "5"],
     "error: time_scale must be between 0.001 and 1.0 (1.0 = real AWS timings), got 5.0"),
    ("C10", ["replication", "redrive", "--prefix", PREFIX],
     f"error: stack {PREFIX}-replication does not exist in eu-west-1: run the cell that "
     "deploys the replication stack there first"),
    ("C19", ["rehearse", "--participants", "2", "--until", "3b"],
     "error: --until takes a notebook number such as 03.2, not '3b'"),
    ("C20", ["rehearse", "--participants", "2", "--shared-domain", "--until", "02"],
     "error: --shared-domain needs --until 03.3 or later: the first participant claims the "
     "domain in notebook 03.3"),
]


@pytest.fixture()
def isolated_home(tmp_path, monkeypatch):
    """A workshop home of its own, to see that nothing is written there."""
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def nothing_created(home: Path, prefix: str = PREFIX) -> None:
    assert not list(home.glob("state-*.json"))
    assert cleanup.leftovers(WorkshopConfig(prefix=prefix)) == []


def exit_code(args: list[str]) -> int:
    """``workshop <args>`` in this process; argparse's own errors exit 2 as well."""
    try:
        return main(args)
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.mark.parametrize(("case", "args", "message"), ARGUMENT_CASES,
                         ids=[c[0] for c in ARGUMENT_CASES])
def test_bad_arguments_get_one_sentence_and_exit_2(sandbox, isolated_home, capsys, case, args,
                                                   message):
    code = exit_code(args)
    out, err = capsys.readouterr()
    assert code == 2
    assert message in err, err
    assert "Traceback" not in err + out
    nothing_created(isolated_home)


NO_CREDENTIALS = {"AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_CONFIG_FILE": os.devnull,
                  "AWS_EC2_METADATA_DISABLED": "true"}
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                        "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE")

# id, arguments, environment, variables removed, exit code, what the learner reads.
# These depend on the environment, so each runs as its own process.
ENVIRONMENT_CASES = [
    ("C11", ["cleanup", "--mode", "aws", "--prefix", PREFIX], NO_CREDENTIALS,
     CREDENTIAL_VARIABLES, 2,
     "error: no AWS credentials found: run `aws configure` or `aws sso login`, or set "
     "AWS_PROFILE; to work without an account use the sandbox (--mode sandbox)"),
    ("C12", ["replication", "redrive", "--mode", "aws", "--prefix", PREFIX],
     {**NO_CREDENTIALS, "AWS_PROFILE": "no-such-profile"}, CREDENTIAL_VARIABLES, 2,
     "error: The config profile (no-such-profile) could not be found: check AWS_PROFILE "
     "against `aws configure list-profiles`"),
    ("C13", ["cleanup", "--mode", "endpoint", "--prefix", PREFIX], {}, ("AWS_ENDPOINT_URL",), 2,
     "error: mode 'endpoint' needs AWS_ENDPOINT_URL, e.g. http://localhost:4566"),
    ("C14", ["cleanup", "--prefix", PREFIX], {"WORKSHOP_SANDBOX_FILE": "{tmp}/none.json"}, (),
     2, "error: no sandbox is running: start one with `workshop sandbox up` (or choose AWS "
        "with `--mode aws`)"),
    ("C15", ["sandbox", "status"], {"WORKSHOP_SANDBOX_FILE": "{tmp}/none.json"}, (), 1,
     "no sandbox is running: start one with `workshop sandbox up`"),
    ("C21", ["iam-policy", "--create-user", "--mode", "aws", "--prefix", PREFIX], {}, (), 2,
     "error: the kit creates participants' IAM users only in the sandbox, not in aws mode: "
     "on AWS, write the policy with `workshop iam-policy --out policy.json` and attach it"),
    ("C22", ["cleanup", "--prefix", PREFIX], {"WORKSHOP_SANDBOX_CREDENTIALS": "{tmp}/none.json"},
     (), 2, "is not a credentials file (FileNotFoundError: "),
]


@pytest.mark.parametrize(("case", "args", "env", "drop", "code", "message"),
                         ENVIRONMENT_CASES, ids=[c[0] for c in ENVIRONMENT_CASES])
def test_missing_credentials_endpoint_or_sandbox_are_explained(sandbox, isolated_home, tmp_path,
                                                               case, args, env, drop, code,
                                                               message):
    env = {k: v.replace("{tmp}", str(tmp_path)) for k, v in env.items()}
    result = workshop(*args, env=env, drop=drop)
    assert result.returncode == code, result.stdout + result.stderr
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "none.json").exists()
    nothing_created(isolated_home)


def sandbox_processes(status_file: Path) -> list[int]:
    """Sandbox processes started for ``status_file`` (none may be left after a failure)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if str(status_file).encode() in cmdline:
            found.append(int(proc.name))
    return found


@pytest.mark.parametrize(("case", "flag", "what"), [
    ("C16", "--endpoint-port", "control plane (AWS API endpoint)"),
    ("C17", "--http-port", "HTTP listener"),
    ("C18", "--dns-port", "DNS server"),
], ids=["C16", "C17", "C18"])
def test_a_busy_port_is_named_with_the_way_out_and_no_sandbox_is_left(tmp_path, case, flag,
                                                                       what):
    status = tmp_path / "sandbox.json"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = workshop("sandbox", "up", flag, str(port),
                          env={"WORKSHOP_SANDBOX_FILE": str(status),
                               "WORKSHOP_HOME": str(tmp_path)})
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"error: port {port} for the sandbox {what} is already in use: stop the program using "
        f"it (`ss -ltnp 'sport = :{port}'` shows which) or choose another port, e.g. "
        f"`workshop sandbox up {flag} 0` for any free port")
    assert not status.exists()
    assert sandbox_processes(status) == []


# ---------------------------------------------------------------- the ticket API


@pytest.fixture(scope="module")
def api(sandbox, tmp_path_factory, new_participant):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(tmp_path_factory.mktemp("workshop-home")))
        config = new_participant("ba", own_domain=False)
        outputs = deployment.deploy_api(config, config.primary_region)
        yield outputs
        cleanup.cleanup(config)


HUGE = json.dumps({"description": "x" * 11_000})

# id, method, path, body, content type, status, message
API_CASES = [
    ("A1", "POST", "ticket", "", "application/json", 400,
     'The request body is empty; send a JSON object such as {"description": "..."}.'),
    ("A2", "POST", "ticket", '{"description": "flat tyre"', "application/json", 400,
     "The request body is not valid JSON"),
    ("A3", "POST", "ticket", '["flat tyre"]', "application/json", 400,
     "The request body must be a JSON object, not array."),
    ("A4", "POST", "ticket", '{"description": 5}', "application/json", 400,
     "Invalid ticket: 'description' must be a string, not number."),
    ("A5", "POST", "ticket", json.dumps({"description": "x" * 1001}), "application/json", 400,
     "Invalid ticket: 'description' is 1001 characters long; at most 1000 are allowed."),
    ("A6", "POST", "ticket", HUGE, "application/json", 400,
     f"The request body is {len(HUGE)} bytes; at most 10240 are allowed."),
    ("A7", "POST", "ticket", "{}", "application/json", 400,
     "Invalid ticket: 'description' is required: a string of 1 to 1000 characters."),
    ("A8", "POST", "ticket", '{"description": "   "}', "application/json", 400,
     "Invalid ticket: 'description' must not be blank."),
    ("A9", "POST", "ticket", '{"description": "x", "priority": "asap"}', "application/json",
     400, "Invalid ticket: 'priority' must be one of low, medium, high, urgent (got 'asap')."),
    ("A10", "POST", "ticket", '{"description": "x", "owner": "me"}', "application/json", 400,
     "Invalid ticket: unknown field(s) owner; allowed fields are description, assigned, "
     "createdBy, priority, status."),
    ("A11", "POST", "ticket", '{"description": "x"}', "text/plain", 400,
     "Content-Type must be application/json (got 'text/plain')."),
    ("A12", "GET", "tickets", None, None, 403, "Missing Authentication Token"),
    ("A13", "DELETE", "ticket", None, None, 403, "Missing Authentication Token"),
    ("A14", "GET", "ticket?limit=abc", None, None, 400,
     "'limit' must be a whole number from 1 to 100 (got 'abc')."),
]


@pytest.mark.parametrize(("case", "method", "path", "body", "content_type", "status",
                          "message"), API_CASES, ids=[c[0] for c in API_CASES])
def test_the_api_answers_bad_requests_with_a_json_message_and_stores_nothing(
        api, case, method, path, body, content_type, status, message):
    headers = {"Content-Type": content_type} if content_type else {}
    response = net.request(method, tickets.endpoint(api["ApiUrl"], path), headers=headers,
                           data=body.encode() if body is not None else None)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    assert message in response.json()["message"]
    assert client("dynamodb", "eu-west-1").scan(TableName=api["TableName"],
                                                Select="COUNT")["Count"] == 0


# ---------------------------------------------------------------- the sandbox


@pytest.mark.parametrize(("case", "body", "message"), [
    ("S1", '{"service": "dynamodb", "action": "throttle", "every": "3"}',
     "invalid fault rule: 'every' must be a whole number >= 1 (got '3')"),
    ("S2", '{"service": "dynamodb", "action": "explode"}',
     "invalid fault rule: 'action' must be one of throttle, error, unprocessed, delay, kill, "
     "duplicate, replica (got 'explode')"),
    ("S3", "throttle everything", "the body is not JSON"),
], ids=["S1", "S2", "S3"])
def test_a_bad_fault_rule_is_refused_and_nothing_is_injected(sandbox, case, body, message):
    response = SandboxAdmin(sandbox["endpoint_url"]).send("POST", admin_paths.FAULTS, data=body)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert SandboxAdmin(sandbox["endpoint_url"]).faults() == {}


def test_s4_an_unknown_host_gets_api_gateways_forbidden(sandbox):
    region = "eu-west-1"
    response = requests.get(f"http://{sandbox_ip(region)}:{sandbox['http_port']}/health",
                            headers={"Host": f"nothing-{TOKEN}.example.com"}, timeout=10)
    assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})


def test_s5_a_name_nobody_created_does_not_resolve(sandbox):
    with pytest.raises(requests.ConnectionError,
                       match=rf"api\.nothing-{TOKEN}\.example\.com does not resolve"):
        tickets.health(f"https://api.nothing-{TOKEN}.example.com/")


def test_s6_a_stack_stuck_in_rollback_complete_says_why_and_is_recreated(
        sandbox, tmp_path, monkeypatch, new_participant):
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    config = new_participant("br", own_domain=False)
    region = config.primary_region
    parameters = {"Prefix": config.prefix, **stacks.upload_code(config, region),
                  "CodeBucket": f"no-such-bucket-{TOKEN}"}
    try:
        with pytest.raises(stacks.StackError) as failed:
            stacks.deploy(config, region, "api", parameters)
        assert str(failed.value).startswith(
            f"stack {config.stack_name('api')} ended in ROLLBACK_COMPLETE: GetFunction: "
            "Resource handler returned message: \"Error occurred while GetObject. S3 Error "
            "Code: NoSuchBucket.")
        # The rollback removed what had been created; only the stack itself is left.
        left = cleanup.leftovers(config)
        assert [item for item in left if not item.startswith("bucket ")] == [
            f"stack {config.stack_name('api')} ({region}, ROLLBACK_COMPLETE)"]
        said: list[str] = []
        outputs = deployment.deploy_api(config, region, progress=said.append)
        assert said[0] == (f"{config.stack_name('api')} is in ROLLBACK_COMPLETE (its first "
                           "creation failed); deleting it to retry")
        assert tickets.health(outputs["ApiUrl"])[0] == 200
    finally:
        cleanup.cleanup(config)


def test_s7_a_table_deleted_under_a_running_replicator(sandbox, tmp_path, monkeypatch,
                                                       new_participant):
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    config = new_participant("bt", own_domain=False)
    primary, secondary = config.regions
    try:
        apis = {region: deployment.deploy_api(config, region) for region in config.regions}
        replication_outputs = deployment.deploy_replication(config)
        table = apis[secondary]["TableName"]
        client("dynamodb", secondary).delete_table(TableName=table)
        ticket = tickets.create_ticket(apis[primary]["ApiUrl"], description="nowhere to go")

        batches = net.wait_until(lambda: replication.failed_batches(config), timeout=60,
                                 interval=0.5, what="the failed batch in the failure queue")
        assert [b["condition"] for b in batches] == ["RetryAttemptsExhausted"]
        with pytest.raises(replication.MissingTable) as missing:
            replication.item_counts(config)
        assert str(missing.value).startswith(
            f"the secondary table {table} in {secondary} no longer exists")
        assert "`workshop replication redrive`" in str(missing.value)
        logs = client("logs", primary).filter_log_events(
            logGroupName=f"/aws/lambda/{replication_outputs['ReplicatorFunctionName']}")
        refused = [json.loads(e["message"]) for e in logs["events"]
                   if ticket["id"] in e["message"] and "record not replicated" in e["message"]]
        assert refused and "ResourceNotFoundException" in refused[-1]["reason"]
        # Nothing else moved: the primary still has the ticket.
        assert tickets.all_tickets(apis[primary]["ApiUrl"])[0]["id"] == ticket["id"]
    finally:
        cleanup.cleanup(config)


# ---------------------------------------------------------------- the catalogue


def test_every_case_here_is_a_row_of_the_catalogue():
    ids = {case for case, *_ in ARGUMENT_CASES + ENVIRONMENT_CASES + API_CASES}
    ids |= {"C16", "C17", "C18", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"}
    rows = set(re.findall(r"^\| ([CAS]\d+) \|", CATALOGUE.read_text(), re.MULTILINE))
    assert rows == ids


def test_s8_failover_without_a_hosted_zone_stops_with_what_to_do_and_creates_none(sandbox):
    config = WorkshopConfig(prefix=PREFIX, domain=f"no-zone-{TOKEN}.example.com")
    with pytest.raises(failover.FailoverSetupError, match="there is no public hosted zone for "
                       f"no-zone-{TOKEN}.example.com in this account"):
        failover.hosted_zone(config)
    assert failover.find_hosted_zone(config) is None
