"""The call log: AWS CLI equivalents, masking, the JSON-lines log, its summary and command."""

from __future__ import annotations

import json
import shlex
import threading

import boto3
import pytest
from botocore.stub import Stubber

from helpers import cli
from helpers.base.paths import call_log
from helpers.connect import awscli, calllog, cell_calls

ACCOUNT = "123456789012"


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    monkeypatch.setenv("WORKSHOP_PREFIX", "alice")
    monkeypatch.setattr(calllog, "_participant", None)
    return tmp_path


@pytest.fixture()
def session():
    made = boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b")
    calllog.attach(made)
    calllog.attach(made)  # a second attach changes nothing
    return made


def test_a_change_becomes_its_aws_cli_command_with_kebab_case_options():
    assert awscli.command("cloudformation", "CreateStack", {
        "StackName": "alice-api", "Capabilities": ["CAPABILITY_IAM"],
        "Parameters": [{"ParameterKey": "Prefix", "ParameterValue": "alice"}]}, "eu-west-1") == (
        "aws cloudformation create-stack --stack-name alice-api --capabilities CAPABILITY_IAM "
        "--parameters '[{\"ParameterKey\":\"Prefix\",\"ParameterValue\":\"alice\"}]' "
        "--region eu-west-1")
    assert awscli.command("route53", "ChangeResourceRecordSets", {"HostedZoneId": "Z1"},
                          None).startswith("aws route53 change-resource-record-sets "
                                           "--hosted-zone-id Z1")
    assert awscli.command("apigateway", "PutIntegration", {"restApiId": "abc"}, "eu-west-1") == (
        "aws apigateway put-integration --rest-api-id abc --region eu-west-1")


def test_s3_is_s3api_booleans_are_flags_and_bodies_are_files():
    model = boto3.session.Session().client("s3", region_name="eu-west-1").meta.service_model
    put = model.operation_model("PutObject")
    assert awscli.command("s3", "PutObject", {"Bucket": "b", "Key": "k", "Body": b"x"},
                          "eu-west-1", put) == (
        "aws s3api put-object --bucket b --key k --body FILE --region eu-west-1")
    assert "--no-enabled" in awscli.command("lambda", "UpdateEventSourceMapping",
                                            {"Enabled": False}, None)


def test_account_ids_are_masked_and_secrets_and_payloads_never_shown():
    cmd = awscli.command("s3", "CreateBucket", {"Bucket": f"alice-ui-{ACCOUNT}-eu-west-1"}, None)
    assert ACCOUNT not in cmd and "alice-ui-${ACCOUNT_ID}-eu-west-1" in cmd
    arn = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q with space"
    assert awscli.command("sqs", "X", {"Arn": arn}, None).endswith(
        '"arn:aws:sqs:eu-west-1:${ACCOUNT_ID}:q with space"')
    cmd = awscli.command("iam", "CreateLoginProfile", {"Password": "hunter2",
                                                       "SessionToken": "t0k"}, None)
    assert "hunter2" not in cmd and "t0k" not in cmd and "--password ***" in cmd
    assert "'…'" in awscli.command("cloudformation", "CreateStack",
                                   {"TemplateBody": "Resources:\n" + "x" * 500}, None)
    assert awscli.key_params({"StackName": "s", "TemplateBody": "x" * 500, "Password": "p",
                              "Account": ACCOUNT}) == [
        "StackName=s", "TemplateBody", "Password", "Account=${ACCOUNT_ID}"]
    assert awscli.mask("1234567890123") == "1234567890123"  # 13 digits: not an account id


def test_the_configuration_a_learner_sets_is_shown_whole_and_pastes_back():
    """A health check's settings and a change batch are what 03.3 teaches: the panel shows
    them whole, as JSON the AWS CLI takes back, not as '…'."""
    check = {"Type": "HTTPS", "FullyQualifiedDomainName": "ireland.example.com", "Port": 443,
             "ResourcePath": "/health", "RequestInterval": 10, "FailureThreshold": 1,
             "EnableSNI": True}
    batch = {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": "api.example.com", "Type": "CNAME", "SetIdentifier": f"api-{role.lower()}",
        "Failover": role, "AliasTarget": {"HostedZoneId": "Z1", "EvaluateTargetHealth": True,
                                          "DNSName": f"{city}.example.com"}}}
        for role, city in (("PRIMARY", "ireland"), ("SECONDARY", "singapore"))]}
    for operation, option, value in (
            ("CreateHealthCheck", "--health-check-config", check),
            ("ChangeResourceRecordSets", "--change-batch", batch)):
        words = shlex.split(awscli.command("route53", operation, {"X": "x", "Y": value}, None))
        assert "'…'" not in words and json.loads(words[words.index("--y") + 1]) == value, option
    # A batch of items is data, not configuration: past WHOLE characters it stays elided.
    items = {"tickets": [{"PutRequest": {"Item": {"id": {"S": "x" * 40}}}}] * 60}
    assert awscli.command("dynamodb", "BatchWriteItem", {"RequestItems": items}, None).endswith(
        "--request-items '…'")


def test_reads_and_changes():
    assert not awscli.changes("DescribeStacks") and not awscli.changes("ListHostedZonesByName")
    assert awscli.changes("CreateStack") and awscli.changes("ChangeResourceRecordSets")
    assert awscli.changes("PutIntegration")


def test_every_call_of_the_session_is_a_json_line_in_the_participants_log(home, session):
    seen = []
    listener = lambda record, thread: seen.append((record, thread))  # noqa: E731
    calllog.subscribe(listener)
    try:
        cfn = session.client("cloudformation", region_name="eu-west-1")
        with Stubber(cfn) as stub:
            stub.add_response("create_stack", {"StackId": f"arn:aws:cloudformation:eu-west-1:"
                                                          f"{ACCOUNT}:stack/alice-api/x"})
            stub.add_client_error("describe_stacks", "ValidationError", "does not exist")
            cfn.create_stack(StackName="alice-api", TemplateURL=f"https://b-{ACCOUNT}.s3/x")
            with pytest.raises(cfn.exceptions.ClientError):
                cfn.describe_stacks(StackName="nope")
    finally:
        calllog.unsubscribe(listener)
    records = calllog.read("alice")
    assert [(r["operation"], r["outcome"], r["region"]) for r in records] == [
        ("CreateStack", "ok", "eu-west-1"), ("DescribeStacks", "ValidationError", "eu-west-1")]
    created, described = records
    assert created["changes"] and created["cli"].startswith(
        "aws cloudformation create-stack --stack-name alice-api")
    assert not described["changes"] and "cli" not in described
    assert ACCOUNT not in call_log("alice").read_text()
    assert [r for r, _ in seen] == records and seen[0][1] is threading.current_thread()


def test_a_command_logs_under_the_participant_it_acts_on(home, session, monkeypatch):
    monkeypatch.setattr(calllog, "_participant", None)
    calllog.use_participant("bob")
    sts = session.client("sts", region_name="us-east-1")
    with Stubber(sts) as stub:
        stub.add_response("get_caller_identity", {"Account": ACCOUNT})
        sts.get_caller_identity()
    assert [r["operation"] for r in calllog.read("bob")] == ["GetCallerIdentity"]
    assert calllog.read("alice") == []


def _record(operation: str, time: str, outcome: str = "ok", **extra):
    return {"time": time, "participant": "alice", "service": "route53",
            "operation": operation, "region": "us-east-1", "params": ["HostedZoneId=Z1"],
            "outcome": outcome, "status": 200, "ms": 10.0,
            "changes": awscli.changes(operation), "origin": "notebook", **extra}


def test_the_summary_counts_each_operation_with_mean_and_peak_rates():
    records = [_record("GetHealthCheckStatus", f"2026-01-01T00:00:0{i}.000Z") for i in range(4)]
    records += [_record("GetHealthCheckStatus", "2026-01-01T00:00:03.500Z", "Throttling"),
                _record("ChangeResourceRecordSets", "2026-01-01T00:00:10.000Z")]
    found = calllog.summary(records)
    assert found["calls"] == 6 and found["span_s"] == 10.0
    by_name = {o["operation"]: o for o in found["operations"]}
    assert by_name["GetHealthCheckStatus"] == {
        "service": "route53", "operation": "GetHealthCheckStatus", "count": 5, "errors": 1,
        "per_s": 0.5, "peak_per_s": 2}
    assert by_name["ChangeResourceRecordSets"]["count"] == 1
    assert "GetHealthCheckStatus" in calllog.summary_text(found)


def test_workshop_calls_prints_the_log_and_its_summary(home, capsys):
    for record in (_record("ChangeResourceRecordSets", "2026-01-01T00:00:00.000Z",
                           cli="aws route53 change-resource-record-sets --hosted-zone-id Z1"),
                   _record("GetChange", "2026-01-01T00:00:01.000Z")):
        calllog.write(record)
    assert cli.main(["calls", "--summary", "--json"]) == 0
    out = capsys.readouterr()
    found = json.loads(out.out)
    assert "participant alice" in out.err  # the settings line stays off stdout
    assert {(o["operation"], o["count"]) for o in found["operations"]} == {
        ("ChangeResourceRecordSets", 1), ("GetChange", 1)}
    assert cli.main(["calls"]) == 0
    assert "$ aws route53 change-resource-record-sets" in capsys.readouterr().out


# ---------------------------------------------------------------- the per-cell disclosure


def test_the_disclosure_text_is_stable_and_the_html_shows_every_call():
    polls = [_record("GetChange", f"2026-01-01T00:00:0{i}.000Z") for i in range(3)]
    change = _record("ChangeResourceRecordSets", "2026-01-01T00:00:04.000Z",
                     cli="aws route53 change-resource-record-sets --hosted-zone-id Z1")
    calls = [change, *polls, change]
    assert cell_calls.disclosure_text(calls) == (
        "AWS calls (5): changes: route53 ChangeResourceRecordSets")
    assert cell_calls.disclosure_text(polls) == "AWS calls (3): reads only"
    page = cell_calls.disclosure_html(calls)
    assert page.startswith("<details class='aws-calls'") and "AWS calls (5) · 2 changes" in page
    assert "<b>GetChange</b> ×3" in page  # a waiter's polls are one row
    assert page.count("$ aws route53 change-resource-record-sets") == 2


def test_a_thread_started_by_a_cell_reports_to_that_cell():
    cells = cell_calls._Cells()
    cells.pre_run_cell()
    first = cells.current
    started = threading.Event()
    go_on = threading.Event()
    worker = threading.Thread(target=lambda: (started.set(), go_on.wait(5)))
    worker.start()
    started.wait(5)
    cells.on_call(_record("PutItem", "2026-01-01T00:00:00.000Z"), threading.current_thread())
    cells.on_call(_record("PutItem", "2026-01-01T00:00:00.100Z"), worker)
    cells.current, cells.last = None, first  # the first cell ended (without displaying)
    cells.pre_run_cell()  # the next cell: the worker still runs
    cells.on_call(_record("GetItem", "2026-01-01T00:00:01.000Z"), worker)
    cells.on_call(_record("Scan", "2026-01-01T00:00:01.000Z"), threading.current_thread())
    go_on.set()
    worker.join()
    assert [c["operation"] for c in first.calls] == ["PutItem", "PutItem", "GetItem"]
    assert [c["operation"] for c in cells.current.calls] == ["Scan"]
    assert cells.late == [first]  # its disclosure is updated at the end of the next cell
