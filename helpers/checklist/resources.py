"""Looking at one participant's resources: each stack list, output, scan and answer once per check.

:class:`Account` holds what every participant of one check shares (stack lists,
health checks); :class:`Look` what one participant's items ask for, each
fetched once and its failure remembered for every item that needs it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from helpers.aws import failover
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig

STAGE = "prod"
LIVE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}
KINDS = ("api", "ui", "replication")

class Account:
    """Look-ups shared by every participant of one check: stack lists, health checks."""

    def __init__(self) -> None:
        self._stacks: dict[str, list[dict[str, Any]]] = {}
        self._health_checks: list[dict[str, Any]] | None = None

    def stacks(self, region: str) -> list[dict[str, Any]]:
        """Every stack summary of the region, deleted ones included (newest first)."""
        if region not in self._stacks:
            pages = client("cloudformation", region).get_paginator("list_stacks").paginate()
            found = [s for page in pages for s in page["StackSummaries"]]
            found.sort(key=lambda s: s["CreationTime"], reverse=True)
            self._stacks[region] = found
        return self._stacks[region]

    def health_checks(self) -> list[dict[str, Any]]:
        if self._health_checks is None:
            pages = client("route53", failover.ROUTE53_REGION).get_paginator(
                "list_health_checks").paginate()
            self._health_checks = [c for page in pages for c in page["HealthChecks"]]
        return self._health_checks


class Look:
    """One participant's resources, each looked up once per check."""

    def __init__(self, config: WorkshopConfig, account: Account) -> None:
        self.config = config
        self.account = account
        self._memo: dict[str, tuple[Any, BaseException | None]] = {}

    def memo(self, key: str, fetch: Callable[[], Any]) -> Any:
        if key not in self._memo:
            try:
                self._memo[key] = (fetch(), None)
            except Exception as exc:  # remembered, raised again for each item that needs it
                self._memo[key] = (None, exc)
        value, error = self._memo[key]
        if error is not None:
            raise error
        return value

    # -- stacks

    def stack_status(self, kind: str, region: str) -> str | None:
        """The live stack's status, or None (never deployed, or deleted)."""
        name = self.config.stack_name(kind)
        for summary in self.account.stacks(region):
            if summary["StackName"] == name and summary["StackStatus"] != "DELETE_COMPLETE":
                return summary["StackStatus"]
        return None

    def deleted(self, kind: str, region: str) -> bool:
        name = self.config.stack_name(kind)
        return any(s["StackName"] == name and s["StackStatus"] == "DELETE_COMPLETE"
                   for s in self.account.stacks(region))

    def live_stacks(self) -> list[str]:
        return [f"{self.config.stack_name(kind)} ({region})" for kind in KINDS
                for region in self.config.regions if self.stack_status(kind, region)]

    def outputs(self, kind: str, region: str) -> dict[str, str]:
        def fetch() -> dict[str, str]:
            status = self.stack_status(kind, region)
            if status not in LIVE:
                raise Missing(f"needs the {kind} stack in {region} first")
            stack = client("cloudformation", region).describe_stacks(
                StackName=self.config.stack_name(kind))["Stacks"][0]
            return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return self.memo(f"outputs:{kind}:{region}", fetch)

    # -- data

    def versions(self, region: str) -> dict[str, str]:
        """``{id: updatedAt}`` of every item of the region's table (a consistent scan)."""
        def fetch() -> dict[str, str]:
            table = self.outputs("api", region)["TableName"]
            pages = client("dynamodb", region).get_paginator("scan").paginate(
                TableName=table, ConsistentRead=True, ProjectionExpression="id, updatedAt")
            return {item["id"]["S"]: item.get("updatedAt", {}).get("S", "")
                    for page in pages for item in page["Items"]}
        return self.memo(f"versions:{region}", fetch)

    # -- Route 53

    def zone_id(self) -> str | None:
        return self.memo("zone", lambda: failover.find_hosted_zone(self.config))

    def zone_records(self) -> list[dict[str, Any]]:
        """The hosted zone's record sets (empty without a zone)."""
        def fetch() -> list[dict[str, Any]]:
            zone_id = self.zone_id()
            return list(failover.records(zone_id)) if zone_id else []
        return self.memo("zone-records", fetch)

    def has_record(self, host: str) -> bool:
        """Does the zone hold a record of ``host``? Asked before resolving it: a name resolved
        before its record exists stays "no such name" in resolvers' caches (900 s on AWS)."""
        return any(r["Name"] == f"{host}." for r in self.zone_records())

    def health_check(self) -> dict[str, Any] | None:
        mark = f"workshop:{self.config.prefix}:"
        host = self.config.regional_host(self.config.primary_region)
        return next((c for c in self.account.health_checks()
                     if c["CallerReference"].startswith(mark)
                     and c["HealthCheckConfig"].get("FullyQualifiedDomainName") == host), None)

    def deployments(self) -> tuple[list[dict[str, Any]], str]:
        """The primary API's deployments (oldest first) and the prod stage's current one."""
        def fetch() -> tuple[list[dict[str, Any]], str]:
            apigw = client("apigateway", self.config.primary_region)
            api_id = self.outputs("api", self.config.primary_region)["ApiId"]
            found = [d for page in apigw.get_paginator("get_deployments").paginate(
                restApiId=api_id) for d in page.get("items", [])]
            found.sort(key=lambda d: d.get("createdDate") or dt.datetime.min)
            current = apigw.get_stage(restApiId=api_id, stageName=STAGE)["deploymentId"]
            return found, current
        return self.memo("deployments", fetch)

    # -- DynamoDB global tables (module 4.1)

    def tickets_table(self, region: str) -> dict[str, Any] | None:
        """The region's tickets table as DescribeTable shows it (None: no such table)."""
        from helpers.aws import global_tables

        return self.memo(f"table:{region}",
                         lambda: global_tables.describe(self.config, region))

    def global_table(self) -> bool:
        """The primary's table is global with an ACTIVE replica in the secondary."""
        table = self.tickets_table(self.config.primary_region) or {}
        return any(r["RegionName"] == self.config.secondary_region
                   and r["ReplicaStatus"] == "ACTIVE" for r in table.get("Replicas", []))


class Missing(RuntimeError):
    """Something an item needs is not there; the message says what."""

