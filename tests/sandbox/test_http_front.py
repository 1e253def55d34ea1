"""The per-region HTTP listeners, the forward proxy and the regional outage switch."""

from __future__ import annotations

import socket
import tempfile
import time
import uuid

import pytest
import requests

from helpers.base.regions import CITY_LABELS, sandbox_ip
from helpers.connect.sandbox_admin import SandboxAdmin
from helpers.sandbox import SandboxSettings, admin_paths

OUTAGE_REGION = "sa-east-1"


def mock_api(aws, region: str) -> str:
    """A REST API whose GET /ping answers 200 from a MOCK integration; returns its host."""
    client = aws("apigateway", region)
    api_id = client.create_rest_api(name=f"front-{uuid.uuid4().hex[:8]}")["id"]
    root = client.get_resources(restApiId=api_id)["items"][0]["id"]
    ping = client.create_resource(restApiId=api_id, parentId=root, pathPart="ping")["id"]
    kwargs = {"restApiId": api_id, "resourceId": ping, "httpMethod": "GET"}
    client.put_method(authorizationType="NONE", **kwargs)
    client.put_integration(type="MOCK",
                           requestTemplates={"application/json": '{"statusCode": 200}'}, **kwargs)
    client.put_integration_response(statusCode="200", selectionPattern="",
                                    responseTemplates={"application/json": '{"pong": true}'},
                                    responseParameters={"method.response.header.X-Region":
                                                        f"'{region}'"}, **kwargs)
    client.create_deployment(restApiId=api_id, stageName="prod")
    return f"{api_id}.execute-api.{region}.amazonaws.com"


def direct(sandbox, region: str, host: str, path: str, session=None) -> requests.Response:
    url = f"http://{sandbox_ip(region)}:{sandbox['http_port']}{path}"
    return (session or requests).get(url, headers={"Host": host}, timeout=10)


def set_available(sandbox, region: str, available: bool) -> dict:
    return SandboxAdmin(sandbox["endpoint_url"]).set_region_available(region, available)


def poll(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def refused(sandbox, region: str, host: str) -> bool:
    try:
        direct(sandbox, region, host, "/prod/ping")
    except requests.ConnectionError:
        return True
    return False


def test_every_region_listens_on_its_own_address(sandbox):
    assert sandbox["http_port"] > 0
    for region in CITY_LABELS:
        response = direct(sandbox, region, "unknown.example.com", "/")
        assert response.status_code == 403, region
        assert response.json() == {"message": "Forbidden"}


def test_proxy_forwards_absolute_form_requests(sandbox, aws):
    host = mock_api(aws, "eu-central-1")
    proxies = {"http": sandbox["http_proxy"]}
    response = requests.get(f"http://{host}/prod/ping", proxies=proxies, timeout=10)
    assert response.status_code == 200
    assert response.json() == {"pong": True}
    assert response.headers["X-Region"] == "eu-central-1"
    head = requests.head(f"http://{host}/prod/ping", proxies=proxies, timeout=10)
    assert head.status_code == 403  # HEAD is a method of its own on API Gateway
    # The proxy treats an https-style port the same: the sandbox plays HTTPS with HTTP.
    response = requests.get(f"http://{host}:443/prod/ping", proxies=proxies, timeout=10)
    assert response.status_code == 200


def test_proxy_rejects_what_it_cannot_serve(sandbox):
    plain = requests.get(f"{sandbox['http_proxy']}/", timeout=10)
    assert plain.status_code == 400
    assert "proxy" in plain.text
    assert connect(sandbox, "nowhere.example.com:443").startswith(b"HTTP/1.1 502 ")
    assert connect(sandbox, "example.com:22").startswith(b"HTTP/1.1 403 ")
    outside = requests.get("http://93.184.216.34/", proxies={"http": sandbox["http_proxy"]},
                           timeout=10)
    assert outside.status_code == 502


def test_public_names_under_localhost_reach_their_region_with_no_proxy(sandbox, aws):
    """A browser opens ``http://<name>.localhost:<http port>/`` with no proxy set: it
    resolves the name to loopback itself; the front resolves ``<name>`` with the sandbox
    DNS and relays the request to that region under the AWS name."""
    host = mock_api(aws, "eu-west-3")
    port = sandbox["http_port"]
    url = f"http://127.0.0.1:{port}/prod/ping?x=1"
    response = requests.get(url, headers={"Host": f"{host}.localhost:{port}",
                                          "Origin": f"http://page.localhost:{port}"},
                            timeout=10)
    assert response.status_code == 200, response.text
    assert response.json() == {"pong": True}
    assert response.headers["X-Region"] == "eu-west-3"
    # curl -x sends a .localhost name in absolute form: the same mapping.
    proxied = requests.get(f"http://{host}.localhost:{port}/prod/ping",
                           proxies={"http": sandbox["http_proxy"]}, timeout=10)
    assert proxied.json() == {"pong": True}
    unknown = requests.get(url, headers={"Host": f"nowhere.example.com.localhost:{port}"},
                           timeout=10)
    assert unknown.status_code == 502
    assert "cannot resolve nowhere.example.com" in unknown.text


def test_a_region_that_is_down_fails_under_localhost_too(sandbox, aws):
    host = mock_api(aws, OUTAGE_REGION)
    port = sandbox["http_port"]

    def ping() -> requests.Response:
        return requests.get(f"http://127.0.0.1:{port}/prod/ping",
                            headers={"Host": f"{host}.localhost:{port}"}, timeout=10)

    set_available(sandbox, OUTAGE_REGION, False)
    try:
        down = ping()
        assert down.status_code == 502
        assert "connection refused" in down.text
    finally:
        set_available(sandbox, OUTAGE_REGION, True)
    assert poll(lambda: ping().status_code == 200)


def connect(sandbox, target: str) -> bytes:
    """The proxy's answer to ``CONNECT target`` (what a client sends for an https:// URL)."""
    with socket.create_connection(("127.0.0.1", sandbox["http_port"]), timeout=10) as sock:
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        return sock.recv(4096)


def test_proxy_serves_https_urls_with_certificates_of_its_local_ca(sandbox, aws):
    host = mock_api(aws, "eu-north-1")
    session = requests.Session()
    session.proxies = {"https": sandbox["http_proxy"]}
    # verify= per request: a REQUESTS_CA_BUNDLE in the environment beats session.verify.
    for _ in range(2):  # one tunnel each: every answer closes its connection
        response = session.get(f"https://{host}/prod/ping", verify=sandbox["ca_cert"],
                               timeout=10)
        assert response.status_code == 200
        assert response.json() == {"pong": True}
        assert response.headers["X-Region"] == "eu-north-1"
    assert "Via" not in response.headers  # the tunnel's answers come from the region itself
    with pytest.raises(requests.exceptions.SSLError):  # the CA is the sandbox's own
        requests.get(f"https://{host}/prod/ping", proxies=session.proxies,
                     verify=certifi_bundle(), timeout=10)


def certifi_bundle() -> str:
    import certifi

    return certifi.where()


def test_region_outage_refuses_connections_until_restored(sandbox, aws):
    host = mock_api(aws, OUTAGE_REGION)
    proxies = {"http": sandbox["http_proxy"]}
    session = requests.Session()  # a keep-alive connection must not outlive the outage
    assert direct(sandbox, OUTAGE_REGION, host, "/prod/ping", session).status_code == 200
    tunnel = requests.Session()  # nor an https:// tunnel through the proxy
    tunnel.proxies = {"https": sandbox["http_proxy"]}
    https_url = f"https://{host}/prod/ping"
    assert tunnel.get(https_url, verify=sandbox["ca_cert"], timeout=10).status_code == 200
    try:
        state = set_available(sandbox, OUTAGE_REGION, False)
        assert state["available"] is False
        assert refused(sandbox, OUTAGE_REGION, host)
        with pytest.raises(requests.ConnectionError):
            direct(sandbox, OUTAGE_REGION, host, "/prod/ping", session)
        through_proxy = requests.get(f"http://{host}/prod/ping", proxies=proxies, timeout=10)
        assert through_proxy.status_code == 502
        assert "refused" in through_proxy.text
        assert connect(sandbox, f"{host}:443").startswith(b"HTTP/1.1 502 ")
        with pytest.raises(requests.ConnectionError):  # cut, not answered by the proxy
            tunnel.get(https_url, verify=sandbox["ca_cert"], timeout=10)
        # Other regions are not affected.
        assert direct(sandbox, "eu-west-1", "unknown.example.com", "/").status_code == 403
        listing = SandboxAdmin(sandbox["endpoint_url"]).regions()
        assert listing[OUTAGE_REGION] is False
        assert listing["eu-west-1"] is True
    finally:
        set_available(sandbox, OUTAGE_REGION, True)
    assert poll(lambda: not refused(sandbox, OUTAGE_REGION, host))
    assert direct(sandbox, OUTAGE_REGION, host, "/prod/ping").status_code == 200
    response = requests.get(f"http://{host}/prod/ping", proxies=proxies, timeout=10)
    assert response.status_code == 200


def test_outage_switch_validates_its_input(sandbox):
    admin = SandboxAdmin(sandbox["endpoint_url"])
    assert admin.send("PUT", admin_paths.region("xx-nowhere-1"),
                      json={"available": False}).status_code == 404
    assert admin.send("PUT", admin_paths.region(OUTAGE_REGION),
                      json={"available": "no"}).status_code == 400
    assert admin.region(OUTAGE_REGION)["available"] is True


def test_port_in_use_is_explained(monkeypatch, tmp_path):
    from helpers.sandbox.context import SandboxContext
    from helpers.sandbox.errors import SandboxError
    from helpers.sandbox.http_front import HttpFront

    region = "eu-west-1"
    with socket.socket() as taken:
        taken.bind((sandbox_ip(region), 0))
        taken.listen()
        port = taken.getsockname()[1]
        ctx = SandboxContext(SandboxSettings(http_port=port, regions=(region,)))
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        with pytest.raises(SandboxError, match=f"port {port}"):
            HttpFront(ctx, []).start()
    # Nothing half-created: no CA directory left behind by the failed start.
    assert list(tmp_path.iterdir()) == []


def test_free_port_is_found_on_every_address():
    from helpers.sandbox.context import SandboxContext
    from helpers.sandbox.http_front import HttpFront

    ctx = SandboxContext(SandboxSettings())  # every region the kit knows
    regions = ("eu-west-1", "ap-southeast-1")
    front = HttpFront(ctx, [])
    started = time.monotonic()
    front.start()
    try:
        # ~30 listening sockets must not slow the sandbox start down: binding takes
        # milliseconds, a retry with a pause per address (0.1 s x 30) would take 3 s; the
        # rest of the bound is a busy machine's margin.
        assert time.monotonic() - started < 1.0
        assert len(ctx.settings.regions) == len(CITY_LABELS)
        assert ctx.http_port == front.port > 0
        for region in regions:
            response = requests.get(f"http://{sandbox_ip(region)}:{ctx.http_port}/",
                                    headers={"Host": "x.example.com"}, timeout=5)
            assert response.status_code == 403
        front.set_region_available("eu-west-1", False)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://{sandbox_ip('eu-west-1')}:{ctx.http_port}/", timeout=5)
        front.set_region_available("eu-west-1", True)
        assert requests.get(f"http://{sandbox_ip('eu-west-1')}:{ctx.http_port}/",
                            timeout=5).status_code == 403
    finally:
        front.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://{sandbox_ip('ap-southeast-1')}:{ctx.http_port}/", timeout=5)
