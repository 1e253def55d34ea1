"""Module 4's fault: a "bad deploy" of the primary's ``/health``, and its undoing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.aws.deployment import stack_outputs
from helpers.aws.failover.common import STAGE, FailoverSetupError
from helpers.connect.session import client
from helpers.core.config import WorkshopConfig

if TYPE_CHECKING:
    pass


BROKEN = "module 4: /health GET runs the post-ticket function (a simulated bad deploy)"
RESTORED = "module 4: /health GET runs the health-check function again"

def break_primary(config: WorkshopConfig) -> bool:
    """Deploy a "bad release" to the primary: ``/health`` runs the post-ticket function.

    That function rejects a request without a ticket, so ``/health`` answers
    400, the health check fails and DNS fails over. Returns False when the
    primary was already broken this way (nothing changed).
    """
    return _point_health_at(config, "PostFunctionName", BROKEN)


def restore_primary(config: WorkshopConfig) -> bool:
    """Undo :func:`break_primary`; returns False when there was nothing to undo."""
    return _point_health_at(config, "HealthFunctionName", RESTORED)


def _point_health_at(config: WorkshopConfig, function_output: str, description: str) -> bool:
    region = config.primary_region
    api = stack_outputs(config, "api", region)
    apigw = client("apigateway", region)
    api_id = api["ApiId"]
    resource_id = _resource_id(apigw, api_id, "/health")
    arn = client("lambda", region).get_function_configuration(
        FunctionName=api[function_output])["FunctionArn"]
    uri = (f"arn:{arn.split(':')[1]}:apigateway:{region}:lambda:path/2015-03-31/functions/"
           f"{arn}/invocations")
    current = apigw.get_integration(restApiId=api_id, resourceId=resource_id, httpMethod="GET")
    stage = apigw.get_stage(restApiId=api_id, stageName=STAGE)
    live = apigw.get_deployment(restApiId=api_id, deploymentId=stage["deploymentId"])
    # The stage serves what was deployed, not what is configured: both must agree.
    if current.get("uri") == uri and (live.get("description") == BROKEN) == (description == BROKEN):
        return False
    if current.get("uri") != uri:
        apigw.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod="GET",
                              type="AWS_PROXY", integrationHttpMethod="POST", uri=uri)
    apigw.create_deployment(restApiId=api_id, stageName=STAGE, description=description)
    return True


def _resource_id(apigw: Any, api_id: str, path: str) -> str:
    for page in apigw.get_paginator("get_resources").paginate(restApiId=api_id):
        for resource in page["items"]:
            if resource["path"] == path:
                return resource["id"]
    raise FailoverSetupError(f"the API {api_id} has no {path} resource: redeploy the API stack")
