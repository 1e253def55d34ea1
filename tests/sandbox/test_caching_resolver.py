"""Clients resolve through a caching resolver, as every learner's machine does.

On a sandbox of its own at time scale 0.01, where a Route 53 zone's negative TTL
(900 s) is 9 s: long enough to see a cached NXDOMAIN outlive the record's
creation, short enough to see it end.
"""

from __future__ import annotations

import time
import uuid

import boto3
import dns.message
import dns.query
import dns.rcode
import pytest

from helpers.connect.net import wait_until
from helpers.sandbox import SandboxSettings, running_sandbox

SCALE = 0.01
NEGATIVE_TTL_S = 900 * SCALE  # SOA TTL 900 (minimum 86400) on a Route 53 public zone


@pytest.fixture(scope="module")
def box(sandbox):
    with running_sandbox(SandboxSettings(time_scale=SCALE, persist=False)) as info:
        yield info


def ask(server: dict, name: str, rdtype: str = "A") -> dns.message.Message:
    return dns.query.udp(dns.message.make_query(name, rdtype), server["host"],
                         port=server["port"], timeout=2)


def zone_with(box: dict) -> tuple[boto3.client, str, str]:
    route53 = boto3.client("route53", region_name="us-east-1", endpoint_url=box["endpoint_url"],
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    domain = f"res-{uuid.uuid4().hex[:8]}.example.com"
    zone_id = route53.create_hosted_zone(Name=domain, CallerReference=domain)["HostedZone"]["Id"]
    return route53, zone_id, domain


def upsert(route53, zone_id: str, name: str, value: str, ttl: int = 60) -> None:
    """Change the record and wait until the change is INSYNC, as a client must before it
    changes the same record again (Route 53 refuses that while the first is PENDING)."""
    change = route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": name, "Type": "A", "TTL": ttl, "ResourceRecords": [{"Value": value}]}}]})
    route53.get_waiter("resource_record_sets_changed").wait(
        Id=change["ChangeInfo"]["Id"], WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})


def test_status_names_the_resolver_beside_the_authoritative_server(box):
    assert box["resolver"]["host"] == "127.0.0.1"
    assert box["resolver"]["port"] not in (0, box["dns"]["port"])


def test_a_name_asked_before_its_record_exists_stays_nxdomain_for_the_negative_ttl(box):
    route53, zone_id, domain = zone_with(box)
    name = f"ireland.{domain}"
    first = ask(box["resolver"], name)
    asked = time.monotonic()
    assert first.rcode() == dns.rcode.NXDOMAIN
    soa = first.authority[0]
    assert soa.ttl == round(NEGATIVE_TTL_S)  # min(SOA TTL, MINIMUM), scaled

    upsert(route53, zone_id, name, "192.0.2.1")
    # The zone's own server answers at once (dig @ the authoritative server) ...
    assert ask(box["dns"], name).rcode() == dns.rcode.NOERROR
    # ... while the resolver keeps its cached NXDOMAIN, counting its TTL down ...
    again = ask(box["resolver"], name)
    assert again.rcode() == dns.rcode.NXDOMAIN
    assert again.authority[0].ttl <= soa.ttl
    # ... until the negative TTL has run out, and not before.
    answer = wait_until(lambda: ask(box["resolver"], name).rcode() == dns.rcode.NOERROR,
                        timeout=NEGATIVE_TTL_S + 5, interval=0.2, what=f"{name} to resolve")
    assert answer
    assert time.monotonic() - asked >= NEGATIVE_TTL_S - 1  # whole seconds of TTL


def test_a_positive_answer_is_cached_for_its_ttl_with_the_ttl_counting_down(box):
    route53, zone_id, domain = zone_with(box)
    name = f"api.{domain}"
    upsert(route53, zone_id, name, "192.0.2.1", ttl=300)  # 3 s scaled
    first = ask(box["resolver"], name)
    assert [r.to_text() for r in first.answer[0]] == ["192.0.2.1"]
    upsert(route53, zone_id, name, "192.0.2.2", ttl=300)
    assert [r.to_text() for r in ask(box["dns"], name).answer[0]] == ["192.0.2.2"]
    cached = ask(box["resolver"], name)
    assert [r.to_text() for r in cached.answer[0]] == ["192.0.2.1"]
    assert cached.answer[0].ttl <= first.answer[0].ttl
    wait_until(lambda: [r.to_text() for r in ask(box["resolver"], name).answer[0]]
               == ["192.0.2.2"], timeout=300 * SCALE + 5, interval=0.2,
               what="the resolver to see the new address")
