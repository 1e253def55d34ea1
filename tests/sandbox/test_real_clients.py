"""Modules 3.3 and 4 driven by real clients against the sandbox: the AWS CLI, dig and curl.

The helpers have deployed the workshop up to module 3.3 (the worker's shared deployment,
``deployed_workshop``: both regions' stacks, the hosted zone, certificates, custom domains,
the health check and the failover records); from there on everything goes through the
programs a person would type, as in docs/real-clients.md:

* ``aws --endpoint-url <endpoint>``: ``cloudformation describe-stacks``,
  ``route53 get-health-check-status`` and ``test-dns-answer``, and the module-4
  break itself (``apigateway put-integration`` + ``create-deployment``);
* ``dig @127.0.0.1 -p <dns port>`` over UDP and TCP;
* ``curl`` through the sandbox's proxy (``-x``, ``http://`` and ``https://``
  with the sandbox CA), straight to the address DNS gave (``--resolve``), and with
  no proxy at the name under ``.localhost`` (what a learner's browser opens).

dig and curl are Debian packages (``make system-packages``), the AWS CLI
a pip dependency of the dev extra. A missing one fails the test, naming how to
install it, unless ``WORKSHOP_SKIP_SYSTEM_TOOLS=1``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers.aws import deployment, failover, tickets
from helpers.base.regions import sandbox_ip
from helpers.core.config import WorkshopConfig

INSTALL_COMMAND = "make system-packages"

# Steps of one story over one deployed participant: run in file order (tests/conftest.py).
pytestmark = pytest.mark.story
TIMINGS: dict[str, float] = {}
CLI_TIMEOUT_S = 60


@contextlib.contextmanager
def timed(step: str):
    started = time.monotonic()
    yield
    TIMINGS[step] = round(time.monotonic() - started, 2)


def require_tool(name: str) -> str:
    """The path of a client program; fail (not skip) when it is missing."""
    if os.environ.get("WORKSHOP_SKIP_SYSTEM_TOOLS") == "1":
        pytest.skip("real-client tests skipped: WORKSHOP_SKIP_SYSTEM_TOOLS=1")
    if name == "aws":  # the pinned CLI of .venv first, then whatever is on PATH
        venv_aws = Path(sys.executable).parent / "aws"
        found = str(venv_aws) if os.access(venv_aws, os.X_OK) else shutil.which("aws")
        how = "`make test` installs it into .venv (pip install -e '.[dev]', awscli)"
    else:
        found = shutil.which(name)
        how = f"run `{INSTALL_COMMAND}` (Debian's bind9-dnsutils and curl)"
    if not found:
        pytest.fail(f"{name} is missing: {how}, or set WORKSHOP_SKIP_SYSTEM_TOOLS=1 to skip "
                    "the real-client tests", pytrace=False)
    return found


def client_env() -> dict[str, str]:
    """The environment for the clients: sandbox credentials, no profile, no proxy.

    A developer's own AWS settings (profile, config file, keys) or proxy
    variables must not leak into what the test runs.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k.lower() not in
           ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true"})
    return env


@dataclass(frozen=True)
class DnsRecord:
    name: str
    ttl: int
    type: str
    value: str


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class Clients:
    """The three programs, pointed at one sandbox."""

    def __init__(self, sandbox: dict[str, Any]) -> None:
        self.box = sandbox
        self.aws_path = require_tool("aws")
        self.dig_path = require_tool("dig")
        self.curl_path = require_tool("curl")
        self.env = client_env()

    def _run(self, argv: list[str]) -> str:
        done = subprocess.run(argv, capture_output=True, text=True, env=self.env,
                              timeout=CLI_TIMEOUT_S, check=False)
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited with {done.returncode}:\n"
                                 f"{done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def aws(self, region: str, *args: str) -> Any:
        out = self._run([self.aws_path, "--endpoint-url", self.box["endpoint_url"],
                         "--region", region, "--output", "json", *args])
        return json.loads(out) if out.strip() else None

    def dig(self, name: str, rdtype: str = "A", tcp: bool = False) -> list[DnsRecord]:
        dns = self.box["dns"]
        argv = [self.dig_path, f"@{dns['host']}", "-p", str(dns["port"]), "+noall", "+answer",
                "+time=2", "+tries=1", name, rdtype]
        if tcp:
            argv.insert(1, "+tcp")
        records = []
        for line in self._run(argv).splitlines():
            if line.strip() and not line.startswith(";"):
                owner, ttl, _cls, rtype, value = line.split(None, 4)
                records.append(DnsRecord(owner, int(ttl), rtype, value.strip()))
        return records

    def addresses(self, name: str, tcp: bool = False) -> list[str]:
        return [r.value for r in self.dig(name, tcp=tcp) if r.type == "A"]

    def curl(self, url: str, *args: str) -> HttpAnswer:
        raw = self._run([self.curl_path, "--silent", "--show-error", "--max-time", "20",
                         "--include", *args, url])
        head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
        lines = head.split("\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return HttpAnswer(status, headers, body)

    def via_proxy(self, url: str) -> HttpAnswer:
        """``curl -x <sandbox proxy>``: the proxy resolves the name with the sandbox DNS."""
        args = ["--proxy", self.box["http_proxy"]]
        if url.startswith("https://"):  # the proxy's own CONNECT answer is not shown
            args += ["--cacert", self.box["ca_cert"], "--suppress-connect-headers"]
        return self.curl(url, *args)

    def direct(self, host: str, address: str, path: str) -> HttpAnswer:
        """``curl --resolve``: connect to the address DNS gave, Host header unchanged."""
        port = self.box["http_port"]
        return self.curl(f"http://{host}:{port}{path}", "--resolve", f"{host}:{port}:{address}")


def wait_for(predicate, timeout: float, what: str, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def clients(sandbox) -> Clients:
    return Clients(sandbox)


@pytest.fixture(scope="module")
def config(deployed_workshop) -> WorkshopConfig:
    return deployed_workshop


@pytest.fixture(scope="module")
def world(config, clients):
    """What the helpers deployed through module 3.3 (the notebooks' part before)."""
    yield {"zone_id": failover.find_hosted_zone(config),
           "check_id": failover.health_check_id(config)}
    print("\nreal-client step timings (s):", TIMINGS)


# ---------------------------------------------------------------- what the clients see


def stack(clients: Clients, config: WorkshopConfig, region: str) -> dict[str, Any]:
    found = clients.aws(region, "cloudformation", "describe-stacks",
                        "--stack-name", config.stack_name("api"))
    return found["Stacks"][0]


def outputs(stack_description: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack_description.get("Outputs", [])}


def checker_verdicts(clients: Clients, check_id: str) -> list[bool]:
    answer = clients.aws(failover.ROUTE53_REGION, "route53", "get-health-check-status",
                         "--health-check-id", check_id)
    return [o["StatusReport"]["Status"].startswith("Success")
            for o in answer["HealthCheckObservations"]]


def healthy(verdicts: list[bool]) -> bool:
    """Route 53's rule: healthy while more than 18 % of the checkers say so."""
    return bool(verdicts) and sum(verdicts) / len(verdicts) > failover.HEALTHY_FRACTION


def dns_test_answer(clients: Clients, zone_id: str, name: str) -> dict[str, Any]:
    return clients.aws(failover.ROUTE53_REGION, "route53", "test-dns-answer",
                       "--hosted-zone-id", zone_id, "--record-name", name,
                       "--record-type", "CNAME")


def regional_target(region: str) -> str:
    return f".execute-api.{region}.amazonaws.com."


# ---------------------------------------------------------------- tests, in file order


def test_real_clients_are_installed():
    """Without aws, dig or curl this fails naming how to install it (the rest error)."""
    for name in ("aws", "dig", "curl"):
        require_tool(name)


def test_cli_describes_the_stacks_the_helpers_deployed(clients, config, world):
    for region in config.regions:
        with timed(f"aws cloudformation describe-stacks ({region})"):
            found = stack(clients, config, region)
        assert found["StackStatus"] == "CREATE_COMPLETE"
        assert outputs(found) == deployment.stack_outputs(config, "api", region)
        assert outputs(found)["ApiUrl"].startswith("https://")


def test_cli_reports_every_checker_healthy(clients, world):
    verdicts = checker_verdicts(clients, world["check_id"])
    assert len(verdicts) >= 3 and all(verdicts)


def test_dig_and_test_dns_answer_name_the_primary(clients, config, world):
    primary = config.primary_region
    api_host = config.api_host()
    for tcp in (False, True):
        records = clients.dig(api_host, tcp=tcp)
        assert [r.type for r in records] == ["CNAME", "A"], records
        assert records[0].value.endswith(regional_target(primary))
        assert records[1].value == sandbox_ip(primary)
        assert 0 < records[0].ttl <= 60  # the regional record's TTL, on the sandbox clock
    answer = dns_test_answer(clients, world["zone_id"], api_host)
    assert answer["ResponseCode"] == "NOERROR"
    assert answer["RecordData"] == [clients.dig(api_host)[0].value]


def test_curl_reaches_the_primary_through_the_proxy_and_at_the_dns_address(
        clients, config, world):
    primary = config.primary_region
    api_host = config.api_host()
    for url in (f"http://{api_host}/health", f"https://{api_host}/health"):
        answer = clients.via_proxy(url)
        assert answer.status == 200, (url, answer)
        assert answer.headers["x-workshop-region"] == primary
        assert answer.json()["region"] == primary
    address = clients.addresses(api_host)[0]
    answer = clients.direct(api_host, address, "/health")
    assert (answer.status, answer.headers["x-workshop-region"]) == (200, primary)
    # With no proxy: the name under .localhost (curl, like a browser, resolves it to
    # loopback itself; the sandbox's front resolves the rest with its DNS).
    answer = clients.curl(f"http://{api_host}.localhost:{clients.box['http_port']}/health")
    assert (answer.status, answer.headers["x-workshop-region"]) == (200, primary)
    listed = clients.via_proxy(f"http://{api_host}/ticket")
    assert listed.status == 200
    assert listed.json()["Count"] == len(tickets.all_tickets(failover.api_url(config)))


@pytest.fixture()
def restored_afterwards(config):
    """The deployment is shared: whatever the test's outcome, the primary serves again and
    module 4 is forgotten (the checklist of the tests after this one says 04 comes next)."""
    from workshop_steps import module_4_undone

    yield
    module_4_undone(config)


def test_module_4_break_with_the_cli_fails_over_and_restore_fails_back(clients, config, world,
                                                                       restored_afterwards):
    primary, secondary = config.regions
    api_host = config.api_host()
    api = outputs(stack(clients, config, primary))
    health = clients.aws(primary, "apigateway", "get-resources", "--rest-api-id", api["ApiId"])
    resource_id = next(r["id"] for r in health["items"] if r["path"] == "/health")

    def point_health_at(function_name: str, description: str) -> None:
        arn = clients.aws(primary, "lambda", "get-function-configuration",
                          "--function-name", function_name)["FunctionArn"]
        uri = (f"arn:aws:apigateway:{primary}:lambda:path/2015-03-31/functions/{arn}"
               "/invocations")
        clients.aws(primary, "apigateway", "put-integration", "--rest-api-id", api["ApiId"],
                    "--resource-id", resource_id, "--http-method", "GET",
                    "--type", "AWS_PROXY", "--integration-http-method", "POST", "--uri", uri)
        clients.aws(primary, "apigateway", "create-deployment", "--rest-api-id", api["ApiId"],
                    "--stage-name", failover.STAGE, "--description", description)

    with timed("break with the CLI (put-integration + create-deployment)"):
        point_health_at(api["PostFunctionName"], "module 4 with the AWS CLI: a bad deploy")
    primary_address = sandbox_ip(primary)
    broken = clients.direct(api_host, primary_address, "/health")
    assert broken.status == 400 and broken.headers["x-workshop-region"] == primary

    with timed("break -> checkers unhealthy (aws route53 get-health-check-status)"):
        wait_for(lambda: not healthy(checker_verdicts(clients, world["check_id"])), 30,
                 "the checkers to report the primary unhealthy")
    with timed("unhealthy -> dig answers the secondary"):
        wait_for(lambda: clients.addresses(api_host) == [sandbox_ip(secondary)], 15,
                 "dig to answer the secondary's address")
    assert clients.addresses(api_host, tcp=True) == [sandbox_ip(secondary)]
    assert dns_test_answer(clients, world["zone_id"], api_host)["RecordData"][0].endswith(
        regional_target(secondary))
    for url in (f"http://{api_host}/health", f"https://{api_host}/health"):
        answer = clients.via_proxy(url)
        assert (answer.status, answer.headers["x-workshop-region"]) == (200, secondary), url
    address = clients.addresses(api_host)[0]
    answer = clients.direct(api_host, address, "/health")
    assert (answer.status, answer.headers["x-workshop-region"]) == (200, secondary)

    with timed("restore with the CLI -> checkers healthy"):
        point_health_at(api["HealthFunctionName"], "module 4 with the AWS CLI: restored")
        wait_for(lambda: healthy(checker_verdicts(clients, world["check_id"])), 30,
                 "the checkers to report the primary healthy")
    with timed("healthy -> dig answers the primary"):
        wait_for(lambda: clients.addresses(api_host) == [primary_address], 15,
                 "dig to answer the primary's address again")
    answer = clients.via_proxy(f"http://{api_host}/health")
    assert (answer.status, answer.headers["x-workshop-region"]) == (200, primary)
