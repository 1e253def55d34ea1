"""Notebook 00's preflight when something is wrong: each failing check says what and why,
and assert_ready stops the notebook with all of them in one sentence."""

from __future__ import annotations

import pytest

from helpers.aws import preflight
from helpers.connect.sandbox_admin import SandboxAdmin


@pytest.fixture()
def config(sandbox, tmp_path, monkeypatch, new_participant):
    monkeypatch.setenv("WORKSHOP_HOME", str(tmp_path))
    yield new_participant("pf", create_zone=False)
    SandboxAdmin(sandbox["endpoint_url"]).clear_faults()


def test_a_ready_sandbox_passes_every_check_but_a_zone_it_may_not_create(config):
    checks = {c.name: c for c in preflight.run(config)}
    assert [name for name, c in checks.items() if not c.ok] == [
        f"hosted zone for {config.domain}"]
    assert "creating one is not allowed" in checks[f"hosted zone for {config.domain}"].detail


def test_denied_credentials_and_cloudformation_fail_their_checks_with_the_reason(
        config, sandbox):
    primary, secondary = config.regions
    SandboxAdmin(sandbox["endpoint_url"]).add_faults({
        "id": "sts-expired", "service": "sts", "region": primary,
        "operation": "GetCallerIdentity", "action": "error", "status": 403,
        "code": "ExpiredToken", "message": "The security token included in the request is expired"})
    SandboxAdmin(sandbox["endpoint_url"]).add_faults({
        "id": "cfn-denied", "service": "cloudformation", "region": secondary,
        "operation": "DescribeStacks", "action": "error", "status": 403,
        "code": "AccessDenied", "message": "not authorized to perform DescribeStacks"})
    checks = {c.name: c for c in preflight.run(config)}
    failed = {name: c.detail for name, c in checks.items() if not c.ok}
    assert set(failed) == {f"credentials in {primary}", f"CloudFormation in {secondary}",
                           f"hosted zone for {config.domain}"}
    assert "AWS rejected the credentials (ExpiredToken)" in failed[f"credentials in {primary}"]
    assert f"CloudFormation in {primary}" not in checks  # nothing to ask without credentials
    assert failed[f"CloudFormation in {secondary}"].startswith("AWS denied DescribeStacks")
    assert checks[f"credentials in {secondary}"].ok

    with pytest.raises(preflight.NotReady) as stopped:
        preflight.assert_ready(list(checks.values()))
    for name, detail in failed.items():
        assert f"{name}: {detail}" in str(stopped.value)


def test_no_control_plane_is_one_failed_check_that_says_why(config, monkeypatch):
    def unreachable():
        raise RuntimeError("the sandbox is not running: start it with `workshop sandbox up`")

    monkeypatch.setattr(preflight, "endpoint_url", unreachable)
    checks = preflight.run(config)
    assert [(c.name, c.ok) for c in checks] == [("control plane", False)]
    assert "workshop sandbox up" in checks[0].detail


def test_account_block_public_access_on_public_policies_fails_with_what_to_change(config):
    from helpers.connect.session import account_id, client

    account = account_id(config.primary_region)
    s3control = client("s3control", config.primary_region)
    name = "S3 Block Public Access (account)"
    assert {c.name: c for c in preflight.run(config)}[name].ok  # none set, as on a new account
    s3control.put_public_access_block(AccountId=account, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": False})
    try:
        check = {c.name: c for c in preflight.run(config)}[name]
    finally:
        s3control.delete_public_access_block(AccountId=account)

    assert not check.ok
    assert check.detail.startswith("BlockPublicPolicy on for the whole account")
    assert "BlockPublicPolicy=false,RestrictPublicBuckets=false" in check.detail
