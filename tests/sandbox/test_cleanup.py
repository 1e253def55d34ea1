"""Module 5's clean-up: it removes everything of one participant, proves it, can be run
again, resumes after a failure, and leaves everyone and everything else alone.

Two participants (their own prefixes and domains) run the workshop side by side
in one sandbox, through Route 53 failover. Participant A uses a hosted zone the
learner made (with a record of their own) and owns a certificate of their own;
neither may be touched. The clean-up runs through the `workshop` command in a
subprocess, as a learner or CI runs it.

The tests on two participants deployed through module 3.3 for themselves take minutes: they
are the long tier. `make test` checks the same promises on the worker's shared deployment
(``deployed_workshop``, read only) beside a participant with only what each promise needs.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import zipfile

import pytest
from botocore.exceptions import ClientError

from helpers.aws import cleanup, deployment, failover, tickets
from helpers.aws.ownership import tags
from helpers.connect import net
from helpers.connect.sandbox_admin import SandboxAdmin
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig
from workshop_cli import workshop
from workshop_steps import deploy_regions, set_up_failover, tear_down

R53 = "us-east-1"


def deploy_everything(config: WorkshopConfig, create_zone: bool) -> None:
    """Modules 1 to 3.3 for one participant."""
    deploy_regions(config)
    set_up_failover(config, create_zone=create_zone)


def cleanup_cli(config: WorkshopConfig, *extra: str) -> subprocess.CompletedProcess:
    return workshop("cleanup", "--prefix", config.prefix, "--domain", config.domain, *extra)


def replicates(config: WorkshopConfig) -> bool:
    """A ticket posted through the participant's failover URL reaches its secondary."""
    ticket = tickets.create_ticket(failover.api_url(config), description="still here?")
    table = deployment.stack_outputs(config, "api", config.secondary_region)["TableName"]
    ddb = client("dynamodb", config.secondary_region)
    net.wait_until(lambda: "Item" in ddb.get_item(TableName=table, Key={"id": {"S": ticket["id"]}},
                                                 ConsistentRead=True), timeout=10)
    return True


KIT_KINDS = {"stack", "bucket", "function", "event", "table", "REST", "queue", "log", "IAM",
             "custom", "certificate", "health", "DNS", "hosted"}


@contextlib.contextmanager
def learners_own(config: WorkshopConfig):
    """What the learner made, not the kit, which no clean-up may touch: a hosted zone for
    the participant's domain holding a record of the learner's own, and a certificate the
    learner requested. Yields (zone id, record, certificate ARN); removed afterwards."""
    r53, acm = client("route53", R53), client("acm", config.primary_region)
    zone_id = r53.create_hosted_zone(Name=config.domain,
                                     CallerReference=f"learner-{config.prefix}")[
        "HostedZone"]["Id"].split("/")[-1]
    record = {"Name": f"learner.{config.domain}.", "Type": "TXT", "TTL": 300,
              "ResourceRecords": [{"Value": '"mine, not the kit\'s"'}]}
    failover.change_records(zone_id, [{"Action": "CREATE", "ResourceRecordSet": record}],
                            "learner")
    cert = acm.request_certificate(DomainName=f"www.{config.domain}",
                                   ValidationMethod="DNS")["CertificateArn"]
    try:
        yield zone_id, record, cert
    finally:
        failover.change_records(zone_id, [{"Action": "DELETE", "ResourceRecordSet": record}],
                                "learner")
        r53.delete_hosted_zone(Id=zone_id)
        acm.delete_certificate(CertificateArn=cert)


@pytest.fixture(scope="module")
def room(sandbox, tmp_path_factory, new_participant):
    """Participants A and B, deployed through module 3.3; A in the learner's own zone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(tmp_path_factory.mktemp("workshop-home")))
        a, b = new_participant("ca"), new_participant("cb")
        with learners_own(a) as (zone_id, learners_record, learners_cert):
            deploy_everything(a, create_zone=False)
            deploy_everything(b, create_zone=True)
            yield {"a": a, "b": b, "zone_id": zone_id, "learners_record": learners_record,
                   "learners_cert": learners_cert}
            SandboxAdmin(sandbox["endpoint_url"]).clear_faults()
            tear_down(a)
            tear_down(b)


@pytest.fixture()
def participant(sandbox, tmp_path_factory, new_participant):
    """One more participant through module 3.3, for a test that cleans it up its own way."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(tmp_path_factory.mktemp("workshop-home")))
        config = new_participant("cc")
        try:
            deploy_everything(config, create_zone=True)
            yield config
        finally:
            try:
                SandboxAdmin(sandbox["endpoint_url"]).clear_faults()
            finally:
                tear_down(config)


@pytest.mark.long
def test_leftovers_lists_every_kind_the_workshop_creates(room):
    kinds = {item.split(" ")[0] for item in cleanup.leftovers(room["b"])}
    assert kinds >= KIT_KINDS


@pytest.mark.long
def test_cleanup_twice_leaves_nothing_of_one_participant_and_the_other_untouched(room,
                                                                               sandbox):
    a, b = room["a"], room["b"]
    b_before = sorted(cleanup.leftovers(b))
    # The room cleans up at once: API Gateway's one-deletion-per-30-s quota answers A's
    # first DeleteDomainName with TooManyRequests (a 429 the SDK would retry in silence).
    SandboxAdmin(sandbox["endpoint_url"]).add_faults({
        "id": "domain-quota", "service": "apigateway", "region": a.primary_region,
        "method": "DELETE", "path": f"^/domainnames/[^/]*{re.escape(a.domain)}$",
        "action": "error", "status": 429, "code": "TooManyRequestsException",
        "message": "Too Many Requests", "times": 1})
    try:
        first = cleanup_cli(a, "--verify")
    finally:
        quota = SandboxAdmin(sandbox["endpoint_url"]).faults()["domain-quota"]
        SandboxAdmin(sandbox["endpoint_url"]).clear_faults()
    assert quota["fired"] == 1
    assert first.returncode == 0, first.stdout + first.stderr
    # The wait on the sandbox's clock with its AWS figure; the quota in AWS's seconds.
    assert re.search(rf"waiting \d+ s( on the sandbox's clock \(\d+ s on AWS at time scale "
                     rf"[\d.]+\))? to delete custom domain \S*{re.escape(a.domain)} "
                     rf"\({a.primary_region}\): API Gateway deletes one custom domain per 30 s "
                     "in an account, whatever the region", first.stdout), first.stdout
    assert f"verified: nothing carrying the prefix {a.prefix!r} is left" in first.stdout
    assert "deleted stack" in first.stdout and "deleted health check" in first.stdout
    assert f"kept: hosted zone {a.domain}" in first.stdout
    second = cleanup_cli(a, "--verify")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "nothing to delete" in second.stdout and "verified" in second.stdout
    assert cleanup.leftovers(a) == []

    # The learner's zone, record and certificate are still there.
    records = {(r["Name"], r["Type"]) for r in failover.records(room["zone_id"])}
    assert records == {(f"{a.domain}.", "NS"), (f"{a.domain}.", "SOA"),
                       (room["learners_record"]["Name"], "TXT")}
    acm = client("acm", a.primary_region)
    assert acm.describe_certificate(CertificateArn=room["learners_cert"])["Certificate"]

    # B is exactly as it was, and still works end to end.
    assert sorted(cleanup.leftovers(b)) == b_before
    status, _, served = tickets.health(failover.api_url(b))
    assert (status, served) == (200, b.primary_region)
    assert replicates(b)


def cleanup_stopped_by_a_denied_stack_deletion(config: WorkshopConfig, kind: str,
                                               endpoint: str) -> list[str]:
    """``workshop cleanup --verify`` while the secondary's ``kind`` stack cannot be deleted
    (a permission the learner lacks): it stops with AWS's refusal, in one line. Returns
    what it left, that stack among it."""
    SandboxAdmin(endpoint).add_faults({
        "id": "deny-delete", "service": "cloudformation", "region": config.secondary_region,
        "operation": "DeleteStack", "contains": config.stack_name(kind), "action": "error",
        "status": 403, "code": "AccessDenied",
        "message": "User is not authorized to perform: cloudformation:DeleteStack"})
    try:
        failed = cleanup_cli(config, "--verify")
    finally:
        SandboxAdmin(endpoint).clear_faults()
    assert failed.returncode == 2, failed.stdout + failed.stderr
    assert "error: AWS denied DeleteStack" in failed.stderr
    assert "Traceback" not in failed.stderr
    half_way = cleanup.leftovers(config)
    assert (f"stack {config.stack_name(kind)} ({config.secondary_region}, CREATE_COMPLETE)"
            in half_way)
    return half_way


def cleanup_resumes(config: WorkshopConfig, kind: str) -> None:
    """The next run deletes the stack it could not, and the one after has nothing to do."""
    resumed = cleanup_cli(config, "--verify")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (f"deleted stack {config.stack_name(kind)} ({config.secondary_region})"
            in resumed.stdout)
    assert cleanup.leftovers(config) == []
    again = cleanup_cli(config, "--verify")
    assert again.returncode == 0 and "nothing to delete" in again.stdout


@pytest.mark.long
def test_cleanup_resumes_after_failing_half_way(participant, sandbox):
    half_way = cleanup_stopped_by_a_denied_stack_deletion(participant, "ui",
                                                          sandbox["endpoint_url"])
    assert not [item for item in half_way if item.startswith(("health check", "DNS record"))]
    cleanup_resumes(participant, "ui")


def test_what_stacks_left_behind_is_deleted_and_anything_else_tagged_fails_verify(
        sandbox, new_participant):
    """No stacks at all, only what a stack deleted by hand could leave: the failure
    queue, a log group and the replicator's event source mapping. Plus an SNS topic
    someone tagged for the participant: not the kit's to delete, so --verify fails."""
    config = new_participant("co", own_domain=False)
    region = config.primary_region
    tag_list = [{"Key": "workshop:kit", "Value": "multi-region-resilience"},
                {"Key": "workshop:participant", "Value": config.prefix}]
    tag_map = {t["Key"]: t["Value"] for t in tag_list}
    sqs, logs = client("sqs", region), client("logs", region)
    sqs.create_queue(QueueName=f"{config.prefix}-replicator-dlq", tags=tag_map)
    untagged_queue = sqs.create_queue(QueueName=f"{config.prefix}-replicator-dlq-mine")[
        "QueueUrl"]
    logs.create_log_group(logGroupName=f"/aws/lambda/{config.prefix}-replicator", tags=tag_map)
    ddb, lam = client("dynamodb", region), client("lambda", region)
    stream = ddb.create_table(
        TableName=f"{config.prefix}-tickets", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    iam = client("iam", region)
    role = iam.create_role(RoleName=f"{config.prefix}-someone-elses", AssumeRolePolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
        '{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'))["Role"]["Arn"]
    lam.create_function(FunctionName=f"{config.prefix}-other", Runtime="python3.12",
                        Handler="app.handler", Code={"ZipFile": code.getvalue()}, Role=role)
    lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=f"{config.prefix}-other",
                                    StartingPosition="LATEST", Enabled=False)
    topic = client("sns", region).create_topic(Name=f"{config.prefix}-alerts",
                                               Tags=tag_list)["TopicArn"]
    try:
        report = cleanup.cleanup(config)
        deleted = report.deleted
        assert f"queue {config.prefix}-replicator-dlq ({region})" in deleted
        assert f"log group /aws/lambda/{config.prefix}-replicator ({region})" in deleted
        assert [item for item in deleted if item.startswith("event source mapping")]
        assert len(deleted) == 3, deleted
        assert sqs.get_queue_url(QueueName=f"{config.prefix}-replicator-dlq-mine")

        verify = workshop("cleanup", "--verify", "--prefix", config.prefix)
        assert verify.returncode == 1, verify.stdout + verify.stderr
        assert f"tagged {topic} ({region})" in verify.stdout
        assert f"table {config.prefix}-tickets ({region})" in verify.stdout  # no stack's
    finally:
        client("sns", region).delete_topic(TopicArn=topic)
        ddb.delete_table(TableName=f"{config.prefix}-tickets")
        lam.delete_function(FunctionName=f"{config.prefix}-other")
        iam.delete_role(RoleName=f"{config.prefix}-someone-elses")
        sqs.delete_queue(QueueUrl=untagged_queue)
    assert cleanup.leftovers(config) == []


# ------------------------------------------- certificates last, custom domain deletion quota


def kit_domain_with_certificate(config: WorkshopConfig, host: str) -> str:
    """A kit certificate for the participant's domain and a kit custom domain using it (what
    module 3.3 makes, without the rest); returns the certificate's ARN."""
    region = config.primary_region
    arn = client("acm", region).request_certificate(
        DomainName=config.domain, SubjectAlternativeNames=[config.domain, f"*.{config.domain}"],
        ValidationMethod="DNS", Tags=tags(config))["CertificateArn"]
    client("apigateway", region).create_domain_name(
        domainName=host, regionalCertificateArn=arn, endpointConfiguration={"types": ["REGIONAL"]},
        tags={t["Key"]: t["Value"] for t in tags(config)})
    return arn


def kit_certificate_a_learners_domain_uses(config: WorkshopConfig) -> tuple[str, str]:
    """:func:`kit_domain_with_certificate`, and a custom domain of the learner's own (not a
    kit name: the clean-up leaves it alone) holding the certificate in use; returns the
    certificate's ARN and the learner's domain name."""
    arn = kit_domain_with_certificate(config, config.api_host())
    learners = f"mine.{config.domain}"
    client("apigateway", config.primary_region).create_domain_name(
        domainName=learners, regionalCertificateArn=arn,
        endpointConfiguration={"types": ["REGIONAL"]})
    return arn, learners


def test_custom_domains_are_deleted_before_the_certificates_they_use(sandbox, tmp_path,
                                                                     monkeypatch,
                                                                     new_participant):
    """The sandbox refuses to delete a certificate a custom domain still uses, as ACM does;
    so a clean-up that deleted certificates first would leave them behind."""
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    config = new_participant("cd")
    arn = kit_domain_with_certificate(config, config.api_host())
    report = cleanup.cleanup(config)
    assert report.kept == []
    assert report.deleted == [f"custom domain {config.api_host()} ({config.primary_region})",
                              f"certificate {arn}"]
    assert cleanup.leftovers(config) == []


@pytest.mark.long
def test_a_certificate_still_in_use_is_kept_with_advice_and_holds_up_nothing(
        sandbox, tmp_path, monkeypatch, new_participant):
    """A certificate the kit made but something else still uses (on AWS: its custom domain,
    deleted moments ago, for a few minutes more): the clean-up deletes everything else,
    says to run it again, and --verify names the certificate; the next run finishes."""
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    config = new_participant("ck")
    region = config.primary_region
    arn, learners = kit_certificate_a_learners_domain_uses(config)
    apigw = client("apigateway", region)
    queue = client("sqs", region).create_queue(
        QueueName=f"{config.prefix}-replicator-dlq",
        tags={t["Key"]: t["Value"] for t in tags(config)})["QueueUrl"]
    try:
        first = cleanup_cli(config, "--verify")
        assert first.returncode == 1, first.stdout + first.stderr
        assert "Traceback" not in first.stderr
        assert f"deleted custom domain {config.api_host()} ({region})" in first.stdout
        assert f"deleted queue {config.prefix}-replicator-dlq ({region})" in first.stdout
        assert (f"kept: certificate {arn} ({region}): still in use by a custom domain"
                in first.stdout)
        assert "run `workshop cleanup` again in a few minutes" in first.stdout
        assert f"  - certificate {arn}" in first.stdout  # what --verify found
        assert queue not in client("sqs", region).list_queues(
            QueueNamePrefix=config.prefix).get("QueueUrls", [])
    finally:
        apigw.delete_domain_name(domainName=learners)
    again = cleanup_cli(config, "--verify")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"deleted certificate {arn}" in again.stdout
    assert cleanup.leftovers(config) == []


def test_a_certificate_still_in_use_is_kept_with_advice_once_everything_else_is_gone(
        sandbox, tmp_path, monkeypatch, new_participant):
    """The long tier's certificate still in use, without its minutes of waiting for API
    Gateway to let go of it (no patience at all): kept with advice, the rest deleted; the
    next run, with the kit's patience, deletes it once API Gateway lets go of it."""
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    patience = cleanup.CERTIFICATE_RELEASE_PATIENCE_S
    monkeypatch.setattr(cleanup, "CERTIFICATE_RELEASE_PATIENCE_S", 0)
    config = new_participant("cu")
    region = config.primary_region
    arn, learners = kit_certificate_a_learners_domain_uses(config)
    apigw = client("apigateway", region)
    try:
        first = cleanup.cleanup(config)
        assert first.deleted == [f"custom domain {config.api_host()} ({region})"]
        [kept] = first.kept
        assert kept.startswith(f"certificate {arn} ({region}): still in use by a custom domain")
        assert kept.endswith("run `workshop cleanup` again in a few minutes")
        assert cleanup.leftovers(config) == [f"certificate {arn}"]
    finally:
        apigw.delete_domain_name(domainName=learners)
        monkeypatch.setattr(cleanup, "CERTIFICATE_RELEASE_PATIENCE_S", patience)
        again = cleanup.cleanup(config)
    assert again.deleted == [f"certificate {arn}"]
    assert cleanup.leftovers(config) == []


def test_domain_deletion_gives_up_when_the_quota_never_frees_and_says_what_it_waited(
        sandbox, tmp_path, monkeypatch, new_participant):
    """API Gateway answers 429 to every DeleteDomainName: the clean-up waits the quota's
    window again and again, saying so each time, then stops with the throttle error
    instead of waiting for ever; the domain is still there for the next run."""
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    config = new_participant("cq")
    region = config.primary_region
    kit_domain_with_certificate(config, config.api_host())
    scale = net.time_scale()
    window = cleanup.DOMAIN_DELETION_WINDOW_S * scale
    monkeypatch.setattr(cleanup, "DOMAIN_DELETION_PATIENCE_S",
                        2.5 * cleanup.DOMAIN_DELETION_WINDOW_S)  # gives up after 3 waits
    SandboxAdmin(sandbox["endpoint_url"]).add_faults({
        "id": "domain-quota-forever", "service": "apigateway", "region": region,
        "method": "DELETE", "path": f"^/domainnames/[^/]*{re.escape(config.domain)}$",
        "action": "error", "status": 429, "code": "TooManyRequestsException",
        "message": "Too Many Requests"})
    said: list[str] = []
    try:
        with pytest.raises(ClientError) as gave_up:
            cleanup.cleanup(config, progress=said.append)
    finally:
        SandboxAdmin(sandbox["endpoint_url"]).clear_faults()
    assert gave_up.value.response["Error"]["Code"] == "TooManyRequestsException"
    waits = [line for line in said if line.startswith("waiting")]
    assert len(waits) == 3, said
    assert waits[0] == (f"waiting {net.duration(window, digits=0)} to delete custom domain "
                        f"{config.api_host()} "
                        f"({region}): API Gateway deletes one custom domain per 30 s in an "
                        "account, whatever the region, for everyone in the account")
    assert f"custom domain {config.api_host()} ({region})" in cleanup.leftovers(config)
    tear_down(config)  # the quota gone, the next run finishes


# ------------------------------------------- fast stand-ins: the shared deployment beside one


def test_leftovers_lists_every_kind_a_deployed_workshop_has(deployed_workshop):
    kinds = {item.split(" ")[0] for item in cleanup.leftovers(deployed_workshop)}
    assert kinds >= KIT_KINDS


@pytest.fixture()
def learners_zone_and_certificate(sandbox, tmp_path, monkeypatch, new_participant):
    """A participant with what clean-up must take and must leave: a kit custom domain and
    certificate and a kit queue, inside a hosted zone the learner made, which holds a
    record of the learner's own, and a certificate the learner requested."""
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    config = new_participant("cl")
    with learners_own(config) as (zone_id, record, cert):
        kit_domain_with_certificate(config, config.api_host())
        client("sqs", config.primary_region).create_queue(
            QueueName=f"{config.prefix}-replicator-dlq",
            tags={t["Key"]: t["Value"] for t in tags(config)})
        try:
            yield config, zone_id, record, cert
        finally:
            tear_down(config)


def test_cleanup_twice_takes_the_kits_and_leaves_the_learners_and_the_other_participant(
        learners_zone_and_certificate, deployed_workshop):
    config, zone_id, record, cert = learners_zone_and_certificate
    other = deployed_workshop
    other_before = sorted(cleanup.leftovers(other))

    first = cleanup_cli(config, "--verify")
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"deleted custom domain {config.api_host()} ({config.primary_region})" in first.stdout
    assert f"verified: nothing carrying the prefix {config.prefix!r} is left" in first.stdout
    assert f"kept: hosted zone {config.domain}" in first.stdout
    second = cleanup_cli(config, "--verify")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "nothing to delete" in second.stdout and "verified" in second.stdout
    assert cleanup.leftovers(config) == []

    # The learner's zone, record and certificate are still there.
    records = {(r["Name"], r["Type"]) for r in failover.records(zone_id)}
    assert records == {(f"{config.domain}.", "NS"), (f"{config.domain}.", "SOA"),
                       (record["Name"], "TXT")}
    assert client("acm", config.primary_region).describe_certificate(
        CertificateArn=cert)["Certificate"]
    # The other participant is exactly as it was, and still works end to end.
    assert sorted(cleanup.leftovers(other)) == other_before
    status, _, served = tickets.health(failover.api_url(other))
    assert (status, served) == (200, other.primary_region)
    assert replicates(other)


def test_cleanup_resumes_after_a_stack_deletion_is_denied_half_way(sandbox, tmp_path,
                                                                   monkeypatch, new_participant):
    """A participant with the secondary's API stack and a kit custom domain: the stack's
    deletion is denied, everything else goes; the next run finishes."""
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    config = new_participant("cr")
    deployment.deploy_api(config, config.secondary_region)
    kit_domain_with_certificate(config, config.api_host())
    half_way = cleanup_stopped_by_a_denied_stack_deletion(config, "api", sandbox["endpoint_url"])
    assert not [item for item in half_way if item.startswith("custom domain")]
    cleanup_resumes(config, "api")
