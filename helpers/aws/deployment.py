"""Modules 1-3: deploy the API, the UI and the replication stacks, and remember their outputs.

Outputs are saved in the workshop state under ``stacks.<kind>.<region>`` so a
later notebook (or a restarted kernel) finds the URLs, table names and stream
ARN without redeploying; :func:`stack_outputs` falls back to CloudFormation
when the state file does not know a stack (for example on another machine).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from helpers.aws import stacks
from helpers.base.say import Say
from helpers.base.tables import whole
from helpers.core import state
from helpers.core.config import WorkshopConfig

KINDS = ("api", "ui", "replication")  # the order they are deployed in


def deploy_api(config: WorkshopConfig, region: str, progress: Say | None = None) -> dict[str, str]:
    """Module 1 (and 3.1 in the secondary): table, functions and REST API in ``region``."""
    parameters = {"Prefix": config.prefix, **stacks.upload_code(config, region),
                  "TableSource": _table_source(config, region)}
    outputs = stacks.deploy(config, region, "api", parameters, progress)
    return remember(config, "api", region, outputs)


def _table_source(config: WorkshopConfig, region: str) -> str:
    """The API template's TableSource: once the table is global (module 4.1), the
    secondary's table is a replica that its stack must not create again."""
    converted = state.load(config.prefix).get("global_table")
    return ("global-table-replica" if converted and region != config.primary_region
            else "stack")


def deploy_ui(config: WorkshopConfig, region: str, api_base_url: str,
              progress: Say | None = None) -> dict[str, str]:
    """Module 2: the website bucket, then the UI published into it, talking to ``api_base_url``.

    Module 3 calls this again with ``https://api.<domain>/``; the stack is then
    unchanged and only the UI's configuration is published anew.
    """
    from helpers.aws import webui  # the UI publisher pulls in web/; only needed here

    outputs = stacks.deploy(config, region, "ui", {"Prefix": config.prefix}, progress)
    webui.publish(outputs["BucketName"], region, api_base_url)
    return remember(config, "ui", region, outputs)


def deploy_replication(config: WorkshopConfig, progress: Say | None = None) -> dict[str, str]:
    """Module 3.2: stream the primary table's changes into the secondary's table.

    The stack lives in the primary region only; it reads the stream of the
    primary API stack and writes to the secondary API stack's table, so both
    API stacks must exist first.
    """
    primary, secondary = config.regions
    source = stack_outputs(config, "api", primary)
    target = stack_outputs(config, "api", secondary)
    parameters = {
        "Prefix": config.prefix,
        **stacks.upload_code(config, primary),
        "SourceStreamArn": source["StreamArn"],
        "SourceTableName": source["TableName"],
        "TargetRegion": secondary,
        "TargetTableName": target["TableName"],
    }
    outputs = stacks.deploy(config, primary, "replication", parameters, progress)
    return remember(config, "replication", primary, outputs)


def remember(config: WorkshopConfig, kind: str, region: str,
             outputs: dict[str, str]) -> dict[str, str]:
    """Save one stack's outputs under ``stacks.<kind>.<region>`` (other entries kept)."""
    data = state.load(config.prefix)
    data.setdefault("stacks", {}).setdefault(kind, {})[region] = outputs
    state.save(config.prefix, data)
    return outputs


def forget(config: WorkshopConfig, kind: str, region: str) -> None:
    """Drop a deleted stack from the state."""
    data = state.load(config.prefix)
    regions = data.get("stacks", {}).get(kind, {})
    if regions.pop(region, None) is not None:
        state.save(config.prefix, data)


def stack_outputs(config: WorkshopConfig, kind: str, region: str) -> dict[str, str]:
    """A deployed stack's outputs: from the state, else from CloudFormation (then saved)."""
    saved = state.load(config.prefix).get("stacks", {}).get(kind, {}).get(region)
    if saved:
        return saved
    name = config.stack_name(kind)
    if stacks.stack_status(region, name) in (None, "DELETE_COMPLETE"):
        raise stacks.StackError(
            f"stack {name} does not exist in {region}: run the cell that deploys the "
            f"{kind} stack there first")
    return remember(config, kind, region, stacks.outputs(region, name))


def api_url(config: WorkshopConfig, region: str) -> str:
    """The region's API stage URL (the api stack's ``ApiUrl`` output)."""
    return stack_outputs(config, "api", region)["ApiUrl"]


def website_url(config: WorkshopConfig, region: str) -> str:
    """The link a learner opens in their own browser for the region's web UI, whole.

    On AWS it is the website endpoint itself (the ui stack's ``BucketURL`` output,
    ``http://<bucket>.s3-website-<region>.amazonaws.com``); in the sandbox the same name
    under ``.localhost`` on the sandbox's HTTP port, which a browser opens with no proxy
    (:meth:`helpers.core.target.Target.browser_url`). :func:`helpers.connect.net.request`
    fetches either.
    """
    return config.target.browser_url(stack_outputs(config, "ui", region)["BucketURL"])


def deployed(config: WorkshopConfig, kind: str) -> bool:
    """Has the kit deployed a ``kind`` stack (``api``, ``ui``, ``replication``) in any region?"""
    return bool(state.load(config.prefix).get("stacks", {}).get(kind))


def stack_outputs_table(config: WorkshopConfig,
                        kinds: list[str] | None = None) -> pd.DataFrame:
    """Saved outputs (of ``kinds``, default all) as rows of (stack, region, output, value)."""
    saved = state.load(config.prefix).get("stacks", {})
    kinds = [k for k in (kinds or KINDS) if k in saved]
    primary_first = {region: i for i, region in enumerate(config.regions)}
    rows: list[dict[str, Any]] = [
        {"stack": config.stack_name(kind), "region": region, "output": key, "value": value}
        for kind in kinds
        for region in sorted(saved[kind], key=lambda r: (primary_first.get(r, 2), r))
        for key, value in sorted(saved[kind][region].items())
    ]
    return whole(pd.DataFrame(rows, columns=["stack", "region", "output", "value"]))
