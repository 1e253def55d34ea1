"""Checks before the workshop starts (what it costs on AWS: :mod:`helpers.aws.costs`)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from helpers.aws.costs import HOSTED_ZONE_USD_MONTH
from helpers.base.errors import WorkshopError, explain
from helpers.base.tables import whole
from helpers.connect.session import client, endpoint_url
from helpers.core.config import WorkshopConfig
from helpers.core.target import CAPABILITY_PROBES


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    blocks: bool = True  # False: a failure stops only the modules that need it, not set-up


def run(config: WorkshopConfig) -> list[Check]:
    """Can we reach the control plane with working credentials in both regions?"""
    checks: list[Check] = []
    account = None
    try:
        url = endpoint_url()
        where = "real AWS" if url is None else f"endpoint {_hide_port(url)}"
        checks.append(Check("control plane", True, f"{config.mode} mode: {where}"))
    except Exception as exc:  # the sandbox is not running, AWS_ENDPOINT_URL missing, ...
        return [Check("control plane", False, str(exc))]
    for region in config.regions:
        try:
            identity = client("sts", region).get_caller_identity()
            account = identity["Account"]
            checks.append(Check(f"credentials in {region}", True,
                                f"account {account[:4]}…{account[-2:]}"))
        except (ClientError, BotoCoreError) as exc:
            checks.append(Check(f"credentials in {region}", False, _explain(exc)))
            continue
        try:
            client("cloudformation", region).describe_stacks(StackName=f"{config.prefix}-api")
            checks.append(Check(f"CloudFormation in {region}", True, "API stack already exists"))
        except ClientError as exc:
            denied = exc.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException")
            checks.append(Check(f"CloudFormation in {region}", not denied,
                                _explain(exc) if denied else "reachable, no stacks yet"))
    if account is not None:
        checks.append(_public_access_check(config, account))
    if config.target.supports(CAPABILITY_PROBES):  # what the endpoint can run
        checks += _capability_checks(config)
    checks.append(_zone_check(config))
    checks.append(_domain_check(config))
    return checks


# The UI stack's website bucket is public through its bucket policy (templates/ui.yaml); the
# account-level Block Public Access settings override the bucket's own, and either of these
# makes S3 refuse that policy, so the UI stack rolls back.
_BLOCKS_A_PUBLIC_POLICY = ("BlockPublicPolicy", "RestrictPublicBuckets")


def _public_access_check(config: WorkshopConfig, account: str) -> Check:
    name = "S3 Block Public Access (account)"
    try:
        block = client("s3control", config.primary_region).get_public_access_block(
            AccountId=account)["PublicAccessBlockConfiguration"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchPublicAccessBlockConfiguration":
            return Check(name, True, "not set for the account: the website buckets may be "
                                     "public")
        return Check(name, True, f"could not read it ({_explain(exc)}); if the account blocks "
                                 "public bucket policies, the UI stack (notebook 02) rolls back")
    except BotoCoreError as exc:
        return Check(name, True, f"could not read it ({_explain(exc)})")
    on = [setting for setting in _BLOCKS_A_PUBLIC_POLICY if block.get(setting)]
    if not on:
        return Check(name, True, "public bucket policies allowed: the website buckets may be "
                                 "public")
    return Check(name, False, (
        f"{' and '.join(on)} on for the whole account: S3 refuses the website bucket's "
        "public-read policy and the UI stack (notebook 02) rolls back. Turn "
        f"{' and '.join(on)} off for the account (S3 console > Block Public Access settings "
        f"for this account, or `aws s3control put-public-access-block --account-id {account} "
        "--public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,"
        "BlockPublicPolicy=false,RestrictPublicBuckets=false`), or use an account where "
        "public websites are allowed"))


def _domain_check(config: WorkshopConfig) -> Check:
    from helpers.aws.domain_owner import DomainTakenError, refuse_if_taken

    name = f"domain {config.domain} for {config.prefix}"
    try:
        refuse_if_taken(config)
    except DomainTakenError as exc:
        return Check(name, False, str(exc))
    except (ClientError, BotoCoreError) as exc:
        return Check(name, False, _explain(exc))
    return Check(name, True, "no other participant uses it")


def _zone_check(config: WorkshopConfig) -> Check:
    from helpers.aws.failover import FailoverSetupError, find_hosted_zone

    name = f"hosted zone for {config.domain}"
    try:
        zone_id = find_hosted_zone(config)
    except FailoverSetupError as exc:
        return Check(name, False, str(exc))
    except (ClientError, BotoCoreError) as exc:
        return Check(name, False, _explain(exc))
    if zone_id:
        return Check(name, True, "found: notebook 03.3 uses it")
    if config.create_zone:
        return Check(name, True, f"none yet: notebook 03.3 creates one (AWS: "
                                 f"{HOSTED_ZONE_USD_MONTH:.2f} USD a month, nothing if deleted "
                                 "within 12 hours; delegate the domain to its name servers)")
    return Check(name, False, "none, and creating one is not allowed: create a public hosted "
                              "zone for the domain, or tick 'Create a hosted zone' above")


def _capability_checks(config: WorkshopConfig) -> list[Check]:
    """What the endpoint can do, probed afresh; a missing capability stops only the modules
    that need it, at their first cell."""
    from helpers.connect import endpoint_probes
    from helpers.core import capabilities, curriculum

    checks = []
    for name, verdict in endpoint_probes.probe(config).items():
        stopped = [m.id for m in curriculum.CURRICULUM if name in m.needs]
        detail = verdict.detail if verdict.ok else (
            f"{verdict.detail}: module {', '.join(stopped)} will stop at its first cell; run "
            "it in the sandbox or on AWS")
        checks.append(Check(f"endpoint can {capabilities.CAPABILITIES[name]}", verdict.ok,
                            detail, blocks=False))
    return checks


def as_table(checks: list[Check]) -> pd.DataFrame:
    return whole(pd.DataFrame([{"check": c.name, "ok": "yes" if c.ok else "NO" if c.blocks
                                else "no", "detail": c.detail}
                               for c in checks]).set_index("check"))


class NotReady(WorkshopError):
    """A preflight check failed; the sentence lists each failed check and its detail."""


def assert_ready(checks: list[Check]) -> None:
    failed = [c for c in checks if not c.ok and c.blocks]
    if failed:
        raise NotReady("; ".join(f"{c.name}: {c.detail}" for c in failed))


def _explain(exc: Exception) -> str:
    return explain(exc) or str(exc)


def _hide_port(url: str) -> str:
    """Ports change per run; keep notebook outputs stable."""
    return url.rsplit(":", 1)[0] if url.count(":") == 2 else url
