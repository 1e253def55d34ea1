"""The public hosted zone for the participant's domain, and its name servers (module 3.3).

The kit never registers a domain; it creates a zone only when told to.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from helpers.aws import domain_owner
from helpers.aws.failover.common import FailoverSetupError, bare_zone_id, remember, route53
from helpers.aws.ownership import kit_tagged, tags
from helpers.connect import net
from helpers.core.config import WorkshopConfig

if TYPE_CHECKING:
    pass


def hosted_zone(config: WorkshopConfig, create: bool = False) -> dict[str, Any]:
    """The public hosted zone for ``config.domain`` (Route 53's HostedZone; ``Id`` without
    the ``/hostedzone/`` prefix, as record changes and alias targets take it).

    The kit never registers or buys a domain. Without a zone it stops and says
    how to get one, unless ``create=True`` (the sandbox's case, or a learner's
    choice on AWS for a domain they control - the registrar must then delegate
    to the new zone's name servers before ACM can validate anything).
    """
    domain_owner.refuse_if_taken(config)  # before anything is created for the domain
    zone_id = find_hosted_zone(config)
    if zone_id is None and not create:
        raise FailoverSetupError(
            f"there is no public hosted zone for {config.domain} in this account. Register "
            "the domain with Route 53 (console: Route 53 > Registered domains), or create a "
            "public hosted zone for a domain you own and point the registrar's NS records "
            "at it; or choose a domain that already has a zone here. Then run this cell "
            "again (pass create=True to let the kit create the zone for you)")
    r53 = route53()
    if zone_id is None:
        created = r53.create_hosted_zone(
            Name=config.domain, CallerReference=f"workshop:{config.prefix}:{uuid.uuid4().hex}",
            HostedZoneConfig={"Comment": f"workshop kit, participant {config.prefix}",
                              "PrivateZone": False})
        zone_id = bare_zone_id(created["HostedZone"]["Id"])
        r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id,
                                     AddTags=tags(config))
    remember(config, zone_id=zone_id)
    return {**r53.get_hosted_zone(Id=zone_id)["HostedZone"], "Id": zone_id}


def find_hosted_zone(config: WorkshopConfig) -> str | None:
    """The id of the public zone for the domain, or None (never creates anything).

    AWS allows several zones of one name; only the one the registrar delegates
    to answers on the internet, so more than one is an error unless exactly one
    of them is the kit's.
    """
    zones = [z for z in _zones_named(route53(), config.domain)
             if not z["Config"].get("PrivateZone")]
    if len(zones) > 1:
        mine = [z for z in zones if is_kit_zone(config, bare_zone_id(z["Id"]))]
        if len(mine) != 1:
            ids = ", ".join(bare_zone_id(z["Id"]) for z in zones)
            raise FailoverSetupError(
                f"{len(zones)} public hosted zones are named {config.domain} ({ids}); only the "
                "one your registrar delegates to (its NS records) answers on the internet. "
                "Delete the others, then run this cell again")
        zones = mine
    return bare_zone_id(zones[0]["Id"]) if zones else None


def _zones_named(r53: Any, name: str) -> list[dict[str, Any]]:
    answer = r53.list_hosted_zones_by_name(DNSName=name, MaxItems="100")
    return [z for z in answer["HostedZones"] if z["Name"] == f"{name}."]


def is_kit_zone(config: WorkshopConfig, zone_id: str) -> bool:
    """Did the kit create this zone for this participant (its tags say so)?"""
    found = route53().list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)
    return kit_tagged(config, found["ResourceTagSet"].get("Tags", []))



# A zone's name servers do not change while it exists: asked once per domain, not per probe
# (Route 53 allows five API calls a second per account).
_name_servers: dict[str, list[str]] = {}


def name_servers(config: WorkshopConfig) -> list[str]:
    """The hosted zone's name servers (its delegation set), as the registrar lists them."""
    if config.domain not in _name_servers:
        zone_id = find_hosted_zone(config)
        if zone_id is None:
            raise FailoverSetupError(f"no hosted zone for {config.domain}: run notebook 03.3 "
                                     "first")
        zone = route53().get_hosted_zone(Id=zone_id)
        _name_servers[config.domain] = zone["DelegationSet"]["NameServers"]
    return _name_servers[config.domain]


def change_records(zone_id: str, changes: list[dict[str, Any]],
                   comment: str) -> dict[str, Any]:
    """Apply a change batch and wait until Route 53 reports it INSYNC; returns the
    ``ChangeBatch`` as sent (empty when there was nothing to change)."""
    if not changes:
        return {}
    r53 = route53()
    batch = {"Comment": comment, "Changes": changes}
    change = r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch=batch)
    # Route 53 propagates a change within 60 s (PENDING, then INSYNC); GetChange every 2 s
    # (scaled in the sandbox) counts towards the account's ten requests a second.
    delay = 2 * net.time_scale()
    r53.get_waiter("resource_record_sets_changed").wait(
        Id=change["ChangeInfo"]["Id"],
        WaiterConfig={"Delay": delay, "MaxAttempts": math.ceil(300 / delay)})
    return batch


def records(zone_id: str) -> Iterator[dict[str, Any]]:
    """Every record set of the zone (paginated)."""
    for page in route53().get_paginator("list_resource_record_sets").paginate(
            HostedZoneId=zone_id):
        yield from page["ResourceRecordSets"]


def forget_name_servers(domain: str) -> None:
    """Look the zone's name servers up again next time (the zone may have been replaced)."""
    _name_servers.pop(domain, None)
