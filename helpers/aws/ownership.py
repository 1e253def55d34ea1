"""Which AWS resources are the kit's, and whose: the tags everything it creates carries.

Stacks pass them on to what they create; the failover steps tag their zone and
certificates; clean-up, the checklist and the domain-owner check read them back to tell
the kit's resources (and this participant's) from a learner's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helpers.core.config import WorkshopConfig

KIT_TAG = ("workshop:kit", "multi-region-resilience")
PARTICIPANT_TAG = "workshop:participant"


def tags(config: WorkshopConfig) -> list[dict[str, str]]:
    """The kit's tags for this participant, in AWS's list form."""
    return [{"Key": KIT_TAG[0], "Value": KIT_TAG[1]},
            {"Key": PARTICIPANT_TAG, "Value": config.prefix}]


def kit_tagged(config: WorkshopConfig, found: list[dict[str, str]] | dict[str, str]) -> bool:
    """Do ``found`` tags (AWS's list form or API Gateway's dict) mark this participant's kit?"""
    if isinstance(found, list):
        found = {t["Key"]: t.get("Value", "") for t in found}
    return all(found.get(t["Key"]) == t["Value"] for t in tags(config))
