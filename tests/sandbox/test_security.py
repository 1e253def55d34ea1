"""Security of what runs and what gets deployed: the sandbox listens on loopback only,
and the website bucket is public for reading objects and nothing else (checked on the
bucket as deployed, not only in the template)."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from helpers.aws import cleanup, deployment
from helpers.connect.session import client

TCP_LISTEN = "0A"


def process_tree(root: int) -> set[int]:
    """``root`` and every process descended from it (the Lambda workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("PPid:"):
                    parents[int(entry.name)] = int(line.split()[1])
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


def socket_inodes(pids: set[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[len("socket:["):-1])
    return inodes


def decode(address: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """An address of /proc/net/{tcp,udp}[6]: little-endian hex words, then the port."""
    host, port = address.split(":")
    raw = bytes.fromhex(host)
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(raw), int(port, 16)


def listening(inodes: set[str]) -> list[tuple[str, str, int]]:
    """(protocol, local address, port) of every listening TCP / bound UDP socket."""
    found = []
    for protocol in ("tcp", "tcp6", "udp", "udp6"):
        with contextlib.suppress(FileNotFoundError):
            lines = Path(f"/proc/net/{protocol}").read_text().splitlines()[1:]
            for line in lines:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if inode not in inodes or (protocol.startswith("tcp") and state != TCP_LISTEN):
                    continue
                address, port = decode(local)
                found.append((protocol, str(address), port))
    return found


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip in ipaddress.ip_network("127.0.0.0/8") or ip == ipaddress.ip_address("::1")


def test_the_sandbox_and_its_workers_listen_on_loopback_only(sandbox):
    pids = process_tree(sandbox["pid"])
    sockets = listening(socket_inodes(pids))
    ports = {port for _, _, port in sockets}
    # Not vacuous: the control plane, DNS over UDP and TCP, and the HTTP listeners.
    assert {int(sandbox["endpoint_url"].rsplit(":", 1)[1]), sandbox["dns"]["port"],
            sandbox["http_port"]} <= ports
    assert {p for p, _, port in sockets if port == sandbox["dns"]["port"]} >= {"tcp", "udp"}
    assert [s for s in sockets if not is_loopback(s[1])] == []


def test_the_proc_net_decoder_reads_what_the_kernel_writes():
    assert decode("0100007F:1F90") == (ipaddress.ip_address("127.0.0.1"), 8080)
    assert decode("00000000:0035")[0] == ipaddress.ip_address("0.0.0.0")
    assert not is_loopback("0.0.0.0") and not is_loopback("::")
    assert is_loopback("127.0.0.11") and is_loopback("::ffff:127.0.0.1")


@pytest.fixture(scope="module")
def website(deployed_workshop):
    """The worker's shared deployment (read only): the API, the UI and the replicator, every
    role the kit's templates create. Yields (config, the primary's website bucket, the
    primary's API stack outputs)."""
    config = deployed_workshop
    ui = deployment.stack_outputs(config, "ui", config.primary_region)
    return config, ui["BucketName"], deployment.stack_outputs(config, "api",
                                                              config.primary_region)


def test_the_deployed_website_bucket_lets_anyone_read_objects_and_nothing_else(website):
    config, bucket, _ = website
    s3 = client("s3", config.primary_region)
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"] == [{
        "Sid": "PublicReadForWebsite", "Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True,
        "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    controls = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert controls["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_the_artifacts_bucket_is_private(website):
    config, _, _ = website
    s3 = client("s3", config.primary_region)
    bucket = cleanup._artifacts_bucket(config, config.primary_region)
    with pytest.raises(ClientError) as none:
        s3.get_bucket_policy(Bucket=bucket)
    assert none.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    assert set(s3.get_public_access_block(Bucket=bucket)[
        "PublicAccessBlockConfiguration"].values()) == {True}


def test_every_deployed_role_has_only_its_own_inline_grants_on_named_resources(website):
    """Every role the stacks created (three API functions, the replicator): no managed
    policy attached, no wildcard action, and no "*" resource (the templates justify none;
    tests/unit/test_templates.py explains the convention for one that would be)."""
    config, _, _ = website
    iam = client("iam", config.primary_region)
    stems = (f"{config.stack_name('api')}-", f"{config.stack_name('replication')}-")
    roles = [r["RoleName"] for page in iam.get_paginator("list_roles").paginate()
             for r in page["Roles"] if r["RoleName"].startswith(stems)]
    # Both regions' API stacks and the replication stack (IAM is global).
    assert len(roles) == 3 * 2 + 1, roles
    for role in roles:
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == [], role
        names = iam.list_role_policies(RoleName=role)["PolicyNames"]
        assert names, f"{role} has no inline policy"
        for name in names:
            document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            for statement in document["Statement"]:
                actions = statement["Action"]
                for action in [actions] if isinstance(actions, str) else actions:
                    assert "*" not in action, (role, action)
                resources = statement["Resource"]
                assert "*" not in ([resources] if isinstance(resources, str) else resources), (
                    role, statement)
