"""The sandbox DNS server answers from the Route 53 zones like a resolver in front of Route 53."""

from __future__ import annotations

import botocore.exceptions
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from helpers.base.regions import sandbox_ip
from helpers.sandbox.context import SandboxContext, SandboxSettings
from helpers.sandbox.dns_server import DnsServer
from helpers.sandbox.errors import SandboxError


def scaled(ttl: int) -> int:
    """A TTL as the sandbox answers it: scaled, rounded to the second, at least 1 s."""
    from helpers.sandbox import read_status

    return max(1, int(ttl * read_status()["time_scale"] + 0.5))


def query(sandbox, name: str, rdtype: str = "A", tcp: bool = False) -> dns.message.Message:
    request = dns.message.make_query(name, rdtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(request, sandbox["dns"]["host"], port=sandbox["dns"]["port"], timeout=3)


def answers(response: dns.message.Message) -> list[tuple[str, str, int, str]]:
    """(owner, type, ttl, value) of every answer record, in order."""
    return [(rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype), rrset.ttl, rd.to_text())
            for rrset in response.answer for rd in rrset]


def addresses(response: dns.message.Message) -> list[str]:
    return [value for _, rtype, _, value in answers(response) if rtype == "A"]


def upsert(aws, zone_id: str, *record_sets: dict) -> None:
    aws("route53", "us-east-1").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": rrs}
                                 for rrs in record_sets]})


def simple(name: str, rtype: str, ttl: int, *values: str) -> dict:
    return {"Name": name, "Type": rtype, "TTL": ttl,
            "ResourceRecords": [{"Value": v} for v in values]}


def test_a_record_is_answered_authoritatively_with_its_ttl_scaled(sandbox, aws, zone):
    zone_id, domain = zone
    upsert(aws, zone_id, simple(f"www.{domain}", "A", 300, "127.0.0.5", "127.0.0.6"))

    response = query(sandbox, f"www.{domain}")

    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    assert answers(response) == [(f"www.{domain}.", "A", scaled(300), "127.0.0.5"),
                                 (f"www.{domain}.", "A", scaled(300), "127.0.0.6")]


def test_udp_and_tcp_give_the_same_answer(sandbox, aws, zone):
    zone_id, domain = zone
    upsert(aws, zone_id, simple(f"both.{domain}", "A", 60, "127.0.0.7"),
           simple(f"both.{domain}", "TXT", 60, '"hello world"'))

    for rdtype in ("A", "TXT"):
        assert answers(query(sandbox, f"both.{domain}", rdtype, tcp=True)) == \
            answers(query(sandbox, f"both.{domain}", rdtype))
    assert answers(query(sandbox, f"both.{domain}", "TXT", tcp=True))[0][3] == '"hello world"'


def test_cname_chain_is_followed_to_the_addresses(sandbox, aws, zone):
    zone_id, domain = zone
    upsert(aws, zone_id, simple(f"www.{domain}", "CNAME", 120, f"web.{domain}"),
           simple(f"web.{domain}", "A", 60, "127.0.0.8"))

    assert answers(query(sandbox, f"www.{domain}")) == [
        (f"www.{domain}.", "CNAME", scaled(120), f"web.{domain}."),
        (f"web.{domain}.", "A", scaled(60), "127.0.0.8"),
    ]
    # Asked for the CNAME itself, the chain is not followed.
    assert answers(query(sandbox, f"www.{domain}", "CNAME")) == [
        (f"www.{domain}.", "CNAME", scaled(120), f"web.{domain}.")]


def test_custom_domain_target_name_resolves_to_its_regions_address(sandbox, aws, zone):
    zone_id, domain = zone
    region = "eu-west-1"
    custom = aws("apigateway", region).create_domain_name(
        domainName=f"ireland.{domain}", endpointConfiguration={"types": ["REGIONAL"]},
        regionalCertificateArn=f"arn:aws:acm:{region}:123456789012:certificate/x")
    target = custom["regionalDomainName"]
    upsert(aws, zone_id, simple(f"ireland.{domain}", "CNAME", 60, target))

    response = query(sandbox, f"ireland.{domain}")

    assert answers(response) == [
        (f"ireland.{domain}.", "CNAME", scaled(60), f"{target}."),
        (f"{target}.", "A", scaled(60), sandbox_ip(region)),
    ]


@pytest.mark.parametrize("name, region", [
    ("a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", "eu-west-1"),
    ("d-0a1b2c3d4e.execute-api.ap-southeast-1.amazonaws.com", "ap-southeast-1"),
    ("my-site.s3-website-us-west-2.amazonaws.com", "us-west-2"),
    ("my-site.s3-website.eu-central-1.amazonaws.com", "eu-central-1"),
])
def test_aws_service_names_resolve_to_their_regions_address(sandbox, name, region):
    response = query(sandbox, name)

    assert response.rcode() == dns.rcode.NOERROR
    assert answers(response) == [(f"{name}.", "A", scaled(60), sandbox_ip(region))]


def test_unknown_names_are_nxdomain(sandbox, zone):
    _, domain = zone

    in_zone = query(sandbox, f"missing.{domain}")
    outside = query(sandbox, "www.not-a-sandbox-zone.example.org")

    assert in_zone.rcode() == dns.rcode.NXDOMAIN
    assert in_zone.flags & dns.flags.AA
    assert [rrset.rdtype for rrset in in_zone.authority] == [dns.rdatatype.SOA]
    assert outside.rcode() == dns.rcode.NXDOMAIN
    assert not answers(outside)


def test_zone_apex_answers_soa_and_ns(sandbox, zone):
    _, domain = zone

    soa = answers(query(sandbox, domain, "SOA"))
    ns = answers(query(sandbox, domain, "NS"))

    assert len(soa) == 1 and soa[0][1] == "SOA"
    mname, _, _, _, _, _, minimum = soa[0][3].split()
    assert mname.endswith("awsdns-64.com.")
    assert int(minimum) == scaled(86400)  # negative caching scales too
    assert len(ns) == 4 and all(value.endswith(".") for *_, value in ns)
    assert ns[0][2] == scaled(172800)


def test_wildcard_and_mx_records(sandbox, aws, zone):
    zone_id, domain = zone
    upsert(aws, zone_id, simple(f"*.{domain}", "TXT", 60, '"wild"'),
           simple(domain, "MX", 300, f"10 mail.{domain}"))

    assert answers(query(sandbox, f"anything.{domain}", "TXT")) == [
        (f"anything.{domain}.", "TXT", scaled(60), '"wild"')]
    assert answers(query(sandbox, domain, "MX")) == [
        (f"{domain}.", "MX", scaled(300), f"10 mail.{domain}.")]


def test_alias_to_a_record_of_the_zone_answers_its_values_and_ttl(sandbox, aws, zone):
    zone_id, domain = zone
    upsert(aws, zone_id, simple(f"origin.{domain}", "A", 600, "127.0.0.9"),
           {"Name": f"alias.{domain}", "Type": "A",
            "AliasTarget": {"HostedZoneId": zone_id, "DNSName": f"origin.{domain}",
                            "EvaluateTargetHealth": False}})

    assert answers(query(sandbox, f"alias.{domain}")) == [
        (f"alias.{domain}.", "A", scaled(600), "127.0.0.9")]


def test_alias_to_an_api_gateway_regional_name_answers_its_address(sandbox, aws, zone):
    zone_id, domain = zone
    target = "d-abcdef1234.execute-api.ap-southeast-1.amazonaws.com"
    upsert(aws, zone_id, {"Name": f"api.{domain}", "Type": "A",
                          "AliasTarget": {"HostedZoneId": "Z2FDTNDATAQYW2", "DNSName": target,
                                          "EvaluateTargetHealth": False}})

    assert addresses(query(sandbox, f"api.{domain}")) == [sandbox_ip("ap-southeast-1")]


def test_failover_records_without_health_checks_answer_the_primary(sandbox, aws, zone):
    zone_id, domain = zone
    upsert(aws, zone_id, simple(f"ireland.{domain}", "A", 60, sandbox_ip("eu-west-1")),
           simple(f"singapore.{domain}", "A", 60, sandbox_ip("ap-southeast-1")),
           *[{"Name": f"api.{domain}", "Type": "A", "SetIdentifier": role.lower(),
              "Failover": role, "AliasTarget": {"HostedZoneId": zone_id,
                                                "DNSName": f"{city}.{domain}",
                                                "EvaluateTargetHealth": True}}
             for role, city in (("PRIMARY", "ireland"), ("SECONDARY", "singapore"))])

    assert addresses(query(sandbox, f"api.{domain}")) == [sandbox_ip("eu-west-1")]


def test_test_dns_answer_reports_what_the_zone_answers(sandbox, aws, zone):
    zone_id, domain = zone
    route53 = aws("route53", "us-east-1")
    upsert(aws, zone_id, simple(f"ireland.{domain}", "CNAME", 60,
                                "d-0123456789.execute-api.eu-west-1.amazonaws.com"),
           simple(f"txt.{domain}", "TXT", 60, '"a"', '"b"'))

    cname = route53.test_dns_answer(HostedZoneId=zone_id, RecordName=f"ireland.{domain}",
                                    RecordType="CNAME")
    txt = route53.test_dns_answer(HostedZoneId=zone_id, RecordName=f"txt.{domain}",
                                  RecordType="TXT")
    missing = route53.test_dns_answer(HostedZoneId=zone_id, RecordName=f"nope.{domain}",
                                      RecordType="A")

    assert cname["RecordData"] == ["d-0123456789.execute-api.eu-west-1.amazonaws.com."]
    assert (cname["ResponseCode"], cname["Protocol"], cname["RecordType"]) == \
        ("NOERROR", "UDP", "CNAME")
    assert cname["RecordName"] == f"ireland.{domain}"
    assert cname["Nameserver"].startswith("ns-")
    assert txt["RecordData"] == ['"a"', '"b"']
    assert missing["ResponseCode"] == "NXDOMAIN" and missing["RecordData"] == []


def test_test_dns_answer_for_an_unknown_zone_is_no_such_hosted_zone(sandbox, aws):
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        aws("route53", "us-east-1").test_dns_answer(
            HostedZoneId="ZNOSUCHZONE00000000000", RecordName="a.example.com", RecordType="A")
    assert caught.value.response["Error"]["Code"] == "NoSuchHostedZone"


def test_a_dns_port_in_use_is_explained(sandbox):
    busy = sandbox["dns"]["port"]
    server = DnsServer(SandboxContext(SandboxSettings(dns_port=busy)))

    with pytest.raises(SandboxError, match=f"port {busy} for the sandbox DNS server is already "
                                           "in use.*--dns-port 0"):
        server.start()


def test_weighted_records_follow_their_weights(sandbox, aws, zone):
    zone_id, domain = zone
    upsert(aws, zone_id, *[{"Name": f"w.{domain}", "Type": "A", "SetIdentifier": ident,
                            "Weight": weight, "TTL": 60, "ResourceRecords": [{"Value": ip}]}
                           for ident, weight, ip in (("off", 0, "127.0.0.2"),
                                                     ("on", 100, "127.0.0.3"))])

    assert {addresses(query(sandbox, f"w.{domain}"))[0] for _ in range(10)} == {"127.0.0.3"}
