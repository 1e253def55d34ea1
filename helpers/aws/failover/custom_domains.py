"""API Gateway Regional custom domains, mapped to each region's API (module 3.3)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from helpers.aws import domain_owner, pacing
from helpers.aws.deployment import stack_outputs
from helpers.aws.failover.certificates import certificate
from helpers.aws.failover.common import STAGE, FailoverSetupError, remember
from helpers.aws.ownership import tags
from helpers.base.say import Say, or_quiet
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig
from helpers.sandbox.clock import aws_seconds

if TYPE_CHECKING:
    pass


def custom_domain_names(config: WorkshopConfig, region: str) -> tuple[str, str]:
    """``api.<domain>`` and this region's ``<city>.<domain>``."""
    return config.api_host(), config.regional_host(region)


# API Gateway creates at most one custom domain name per 30 s in an account
# (fixed quota, shared by the whole room): creation waits it out and says so, as clean-up
# does for deletion (helpers.aws.pacing).
DOMAIN_CREATION_WINDOW_S = aws_seconds("apigateway_quota_window")  # AWS seconds
DOMAIN_CREATION_PATIENCE_S = 45 * 60


def create_custom_domains(config: WorkshopConfig, progress: Say | None = print
                          ) -> dict[str, dict[str, dict[str, str]]]:
    """Regional custom domains with the base path ``(none)`` mapped to each API's prod stage.

    Returns ``{region: {host: {"regionalDomainName": ..., "regionalHostedZoneId": ...}}}``:
    the targets the DNS records point at. A wait for API Gateway's creation quota is
    reported to ``progress``.
    """
    say = or_quiet(progress)
    targets: dict[str, dict[str, dict[str, str]]] = {}
    for region in config.regions:
        apigw = client("apigateway", region)
        once = client("apigateway", region, retries=False)
        api_id = stack_outputs(config, "api", region)["ApiId"]
        cert = certificate(config, region)
        targets[region] = {}
        for host in custom_domain_names(config, region):
            domain = custom_domain(apigw, host)
            if domain is None:
                try:
                    domain = pacing.within_quota(
                        functools.partial(
                            once.create_domain_name, domainName=host,
                            regionalCertificateArn=cert,
                            endpointConfiguration={"types": ["REGIONAL"]},
                            securityPolicy="TLS_1_2",
                            tags={t["Key"]: t["Value"] for t in tags(config)}),
                        window_s=DOMAIN_CREATION_WINDOW_S,
                        patience_s=DOMAIN_CREATION_PATIENCE_S,
                        waiting_for=f"to create custom domain {host} ({region})",
                        quota=f"API Gateway creates one custom domain per "
                              f"{DOMAIN_CREATION_WINDOW_S:g} s in an account, whatever "
                              "the region, for everyone in the account", say=say)
                except ClientError as exc:
                    if exc.response["Error"]["Code"] == "ConflictException":
                        # Created by someone else since the domain was checked.
                        domain_owner.refuse_if_taken(config)
                    if exc.response["Error"]["Code"] == "BadRequestException":
                        raise FailoverSetupError(
                            f"API Gateway refused {host} in {region}: "
                            f"{exc.response['Error']['Message']}. Wait until the certificate "
                            "is ISSUED (wait_for_certificates) and run this cell again") from None
                    raise
            _map_root(apigw, host, api_id)
            targets[region][host] = {k: domain[k] for k in
                                     ("regionalDomainName", "regionalHostedZoneId")}
    remember(config, custom_domains=targets)
    return targets


def custom_domain(apigw: Any, host: str) -> dict[str, Any] | None:
    """API Gateway's custom domain ``host`` (GetDomainName, tags included), or None."""
    try:
        return apigw.get_domain_name(domainName=host)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NotFoundException":
            return None
        raise


def _map_root(apigw: Any, host: str, api_id: str) -> None:
    """Map the base path ``(none)`` (the root, ``/``) to ``api_id``'s prod stage."""
    mappings = [m for page in apigw.get_paginator("get_base_path_mappings").paginate(
        domainName=host) for m in page.get("items", [])]
    root = next((m for m in mappings if m["basePath"] == "(none)"), None)
    if root is None:
        apigw.create_base_path_mapping(domainName=host, restApiId=api_id, stage=STAGE)
    elif root["restApiId"] != api_id or root.get("stage") != STAGE:
        apigw.update_base_path_mapping(domainName=host, basePath="(none)", patchOperations=[
            {"op": "replace", "path": "/restapiId", "value": api_id},
            {"op": "replace", "path": "/stage", "value": STAGE}])
