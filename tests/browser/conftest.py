"""Browser tests of web/: Debian's Chromium driven by Playwright, against local servers.

Two local servers stand in for AWS:

* ``FakeApi``: the ticket API's HTTP contract (docs/CONVENTIONS.md): CORS headers,
  ``X-Workshop-Region``, ``GET/POST /ticket`` with pages and ``next`` tokens,
  ``GET /health``, ``{"message"}`` errors, plus switches to break it on purpose.
* ``Website``: S3 static website hosting, serving the objects that
  ``helpers.aws.webui.publish`` uploaded (to moto's in-process S3) with their stored
  Content-Type and Cache-Control, ``error.html`` with 404 for missing keys.

They listen on different ports, so every API call from the page is cross-origin and
CORS is really exercised. test_web_ui_sandbox.py runs the page against the
sandbox instead: the deployed stacks, the website bucket's endpoint, the sandbox
DNS, through the sandbox's proxy (which answers https:// with its local CA)::

    with launch_browser(sandbox["http_proxy"], ca_cert=sandbox["ca_cert"]) as context:
        context.new_page().goto(bucket_url)
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
PAGE_REGION = "eu-west-1"
BUCKET = "wildrydes-ui-123456789012-eu-west-1"


# ---------------------------------------------------------------- the browser


def require_chromium() -> None:
    """Fail (not skip) when Chromium is missing, unless WORKSHOP_SKIP_BROWSER=1."""
    if os.environ.get("WORKSHOP_SKIP_BROWSER") == "1":
        pytest.skip("browser tests skipped: WORKSHOP_SKIP_BROWSER=1")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: run `make system-packages` to install Debian's chromium "
            "(or set WORKSHOP_SKIP_BROWSER=1 to skip the browser tests)",
            pytrace=False,
        )


def spki_sha256(ca_cert: str | Path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of a PEM certificate, as Chromium's
    ``--ignore-certificate-errors-spki-list`` takes it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(Path(ca_cert).read_bytes())
    der = cert.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@contextmanager
def launch_browser(proxy: str | None = None, user_data_dir: Path | None = None,
                   ca_cert: str | Path | None = None, playwright: Any = None):
    """Yield a Playwright BrowserContext of headless Debian Chromium with a fresh profile.

    ``proxy`` (e.g. the sandbox's ``http_proxy``) is an HTTP proxy for every
    request; the sandbox's proxy is how a browser reaches names only its DNS knows.
    ``ca_cert`` is a CA whose certificates the browser accepts (the sandbox's local
    CA, for the https:// URLs its proxy answers); any other certificate error still fails.
    ``playwright`` is a running Playwright to launch from: one thread can run only
    one, so tests share the session's (the ``playwright_driver`` fixture).
    """
    from playwright.sync_api import sync_playwright

    require_chromium()
    profile = Path(user_data_dir or tempfile.mkdtemp(prefix="workshop-chromium-"))
    args = list(CHROMIUM_ARGS)
    if ca_cert:
        args.append(f"--ignore-certificate-errors-spki-list={spki_sha256(ca_cert)}")
    options: dict[str, Any] = {
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": args,
        "viewport": VIEWPORT,
        "locale": "en-GB",
        "timezone_id": "UTC",
    }
    if proxy:
        options["proxy"] = {"server": proxy}
    try:
        with contextlib.ExitStack() as stack:
            if playwright is None:
                playwright = stack.enter_context(sync_playwright())
            context = playwright.chromium.launch_persistent_context(str(profile), **options)
            stack.callback(context.close)
            yield context
    finally:
        if user_data_dir is None:
            shutil.rmtree(profile, ignore_errors=True)


# ---------------------------------------------------------------- local HTTP servers


class _Server:
    """A ThreadingHTTPServer on a free 127.0.0.1 port, in a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


PRIORITIES = ("low", "medium", "high", "urgent")
STATUSES = ("open", "in-progress", "resolved", "closed")
# field -> (required, max length, allowed values, default), as lambda_src/post_ticket.py
FIELDS = {
    "description": (True, 1000, None, None),
    "assigned": (False, 100, None, ""),
    "createdBy": (False, 100, None, ""),
    "priority": (False, None, PRIORITIES, "medium"),
    "status": (False, None, STATUSES, "open"),
}


@dataclass
class FakeApi:
    """The ticket API's contract in memory, with switches to break it.

    ``down``: drop every connection unanswered; ``cors``: send CORS headers;
    ``outage``: answer every request with this ``(status, message)``;
    ``healthy``: what /health reports; ``region``: the X-Workshop-Region.
    """

    region: str = PAGE_REGION
    down: bool = False
    cors: bool = True
    healthy: bool = True
    outage: tuple[int, str] | None = None
    tickets: list[dict[str, str]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    _fail_next: dict[str, tuple[int, str]] = field(default_factory=dict)
    base_url: str = ""

    def reset(self) -> None:
        self.region, self.healthy, self.cors, self.down = PAGE_REGION, True, True, False
        self.outage = None
        self.tickets.clear()
        self.requests.clear()
        self._fail_next.clear()

    def fail_next(self, method: str, status: int, message: str) -> None:
        """Answer the next ``method`` request on /ticket with an error."""
        self._fail_next[method] = (status, message)

    def add(self, description: str, age: timedelta = timedelta(0), **fields: str) -> dict:
        when = datetime.now(UTC) - age
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        ticket = {"id": uuid.uuid4().hex, "description": description, "assigned": "",
                  "createdBy": "", "priority": "medium", "status": "open", **fields,
                  "createdOn": when.strftime("%Y-%m-%d %H:%M:%S"), "createdAt": stamp,
                  "updatedAt": stamp, "listKey": "ticket"}
        self.tickets.append(ticket)
        return ticket

    def posts(self) -> list[str]:
        return [path for method, path in self.requests if method == "POST"]

    # -------------------------------------------------------------- request handling

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "X-Workshop-Region": self.region}
        if self.cors:
            headers.update({
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
                "Access-Control-Expose-Headers": "X-Workshop-Region",
            })
        return headers

    def handle(self, method: str, path: str, query: dict[str, str], headers, body: bytes):
        """Return ``(status, json body)``, or None to drop the connection."""
        if self.down:
            return None
        self.requests.append((method, path))
        if method == "OPTIONS" and path in ("/prod/ticket", "/prod/health"):
            return 200, None  # API Gateway's mock integration for the CORS preflight
        if self.outage:
            return self.outage[0], {"message": self.outage[1]}
        if path == "/prod/ticket" and method in self._fail_next:
            status, message = self._fail_next.pop(method)
            return status, {"message": message}
        if (method, path) == ("GET", "/prod/health"):
            if self.healthy:
                return 200, {"region": self.region,
                             "message": "Successful response reading from DynamoDB table."}
            return 500, {"region": self.region, "message": "Could not read from DynamoDB table."}
        if (method, path) == ("GET", "/prod/ticket"):
            return self.list_page(query)
        if (method, path) == ("POST", "/prod/ticket"):
            return self.create(headers.get("Content-Type"), body)
        return 403, {"message": "Missing Authentication Token"}  # API Gateway's unknown route

    def list_page(self, query: dict[str, str]):
        limit = query.get("limit", "100")
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            return 400, {"message": f"'limit' must be a whole number from 1 to 100 (got {limit!r})"}
        try:
            start = int(base64.urlsafe_b64decode(query["next"] + "==")) if "next" in query else 0
        except ValueError:
            return 400, {"message": "'next' is not a valid page token."}
        ordered = sorted(self.tickets, key=lambda t: t["createdAt"], reverse=True)
        items = ordered[start:start + int(limit)]
        page: dict[str, Any] = {"Items": items, "Count": len(items), "ScannedCount": len(items)}
        if start + len(items) < len(ordered):
            page["next"] = base64.urlsafe_b64encode(str(start + len(items)).encode()).decode()
        return 200, page

    def create(self, content_type: str | None, body: bytes):
        if content_type and content_type.split(";")[0].strip().lower() != "application/json":
            message = f"Content-Type must be application/json (got {content_type!r})."
            return 400, {"message": message}
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return 400, {"message": "The request body is not valid JSON; send a JSON object."}
        if not isinstance(data, dict):
            return 400, {"message": "The request body must be a JSON object."}
        problems = [f"unknown field {name}" for name in sorted(set(data) - set(FIELDS))]
        ticket = {}
        for name, (required, max_length, allowed, default) in FIELDS.items():
            value = data.get(name, None if required else default)
            if not isinstance(value, str) or (required and not value.strip()):
                problems.append(f"'{name}' is required: a string of 1 to {max_length} characters")
            elif allowed and value not in allowed:
                problems.append(f"'{name}' must be one of {', '.join(allowed)} (got {value!r})")
            elif max_length and len(value) > max_length:
                problems.append(f"'{name}' is {len(value)} characters long; at most {max_length}"
                                " are allowed")
            else:
                ticket[name] = value
        if problems:
            return 400, {"message": "Invalid ticket: " + "; ".join(problems) + "."}
        return 200, self.add(**ticket)

    @contextmanager
    def serve(self):
        api = self

        class Handler(_QuietHandler):
            def do_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                answer = api.handle(self.command, url.path, query, self.headers, body)
                if answer is None:
                    self.close_connection = True  # the client sees an empty reply
                    return
                status, payload = answer
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send(status, data, api.headers())

            do_GET = do_POST = do_OPTIONS = do_PUT = do_DELETE = do_any

        with _Server(Handler) as server:
            self.base_url = f"{server.origin}/prod/"
            yield self


@dataclass
class Website:
    """S3 static website hosting over the objects ``publish`` uploaded."""

    objects: dict[str, dict[str, Any]]  # key -> {"Body", "ContentType", "CacheControl"}
    url: str = ""

    @contextmanager
    def serve(self):
        objects = self.objects

        class Handler(_QuietHandler):
            def do_GET(self):
                key = urlsplit(self.path).path.lstrip("/")
                if key == "" or key.endswith("/"):
                    key += "index.html"
                status = 200 if key in objects else 404
                obj = objects.get(key) or objects["error.html"]
                self.send(status, obj["Body"], {"Content-Type": obj["ContentType"],
                                                "Cache-Control": obj.get("CacheControl", "")})

            do_HEAD = do_GET

        with _Server(Handler) as server:
            self.url = f"{server.origin}/"
            yield self


def publish_to_moto(api_base_url: str, monkeypatch: pytest.MonkeyPatch,
                    times: int = 1) -> dict[str, dict]:
    """Run ``helpers.aws.webui.publish`` ``times`` times into one bucket of moto's S3.

    Returns what is in the bucket afterwards: key -> Body, ContentType, CacheControl.
    """
    import boto3
    from moto import mock_aws

    from helpers.aws import webui
    from helpers.connect import session

    with mock_aws():
        s3 = boto3.client("s3", region_name=PAGE_REGION, aws_access_key_id="testing",
                          aws_secret_access_key="testing")
        s3.create_bucket(Bucket=BUCKET,
                         CreateBucketConfiguration={"LocationConstraint": PAGE_REGION})
        monkeypatch.setattr(session, "client", lambda service, region: s3)
        for _ in range(times):
            keys = webui.publish(BUCKET, PAGE_REGION, api_base_url)
        objects = {}
        for key in keys:
            obj = s3.get_object(Bucket=BUCKET, Key=key)
            objects[key] = {"Body": obj["Body"].read(), "ContentType": obj["ContentType"],
                            "CacheControl": obj.get("CacheControl")}
        listed = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert sorted(listed) == sorted(keys)
    return objects


# ---------------------------------------------------------------- JupyterLab

# What the server's interpreter runs: JupyterLab, which stops itself (SIGTERM: it shuts its
# kernels down, and each kernel also stops when its server is gone) as soon as the test
# process that started it is gone, however that one ended.
_LAB_LAUNCHER = """
import os, signal, sys, threading, time
parent = int(sys.argv.pop(1))
def stop_when_orphaned():
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)
threading.Thread(target=stop_when_orphaned, daemon=True).start()
from jupyterlab.labapp import main
sys.exit(main())
"""

# A learner's JupyterLab, minus what would reach the internet: no news, no update check.
_LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}
LAB_START_TIMEOUT_S = 90


@dataclass
class JupyterLab:
    """A JupyterLab server started by :func:`jupyter_lab`, serving ``root`` with ``token``;
    ``url`` (``http://127.0.0.1:<port>/``) once :meth:`wait_until_answering` returned."""

    process: subprocess.Popen
    token: str
    root: Path
    runtime_dir: Path
    log_path: Path
    url: str = ""

    def wait_until_answering(self, timeout: float = LAB_START_TIMEOUT_S) -> JupyterLab:
        """Wait for the server to answer on the port it chose (its info file names it)."""
        from helpers.base.polling import wait_until

        def answering() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode} while "
                                   f"starting:\n{self.log()}")
            try:
                info = json.loads((self.runtime_dir / f"jpserver-{self.process.pid}.json")
                                  .read_text())
                self.url = f"http://127.0.0.1:{info['port']}/"
                self.api("GET", "api/status")
            except (ValueError, KeyError, OSError):
                return False  # not written yet, not whole yet, or not answering yet
            return True

        wait_until(answering, timeout=timeout, interval=0.2, what="JupyterLab to answer",
                   detail=self.log)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def notebook_url(self, name: str) -> str:
        """The notebook opened in a fresh workspace (``reset``: no tab of an earlier visit)."""
        assert self.url, "wait_until_answering() first"
        return f"{self.url}lab/tree/{name}?reset&token={self.token}"

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def kernel_connected(self, notebook: str) -> bool:
        """Has a page connected to a started, idle kernel of ``notebook``? (Before its kernel
        starts, the notebook's own indicator already says idle.)"""
        return any(s["path"] == notebook and s["kernel"]["execution_state"] == "idle"
                   and s["kernel"]["connections"] > 0 for s in self.api("GET", "api/sessions"))

    def shut_down_kernels(self) -> None:
        """Every kernel stopped, as the Running panel's "Shut Down All" does."""
        for kernel in self.api("GET", "api/kernels"):
            self.api("DELETE", f"api/kernels/{kernel['id']}")


@contextmanager
def jupyter_lab(root: Path, env: dict[str, str]) -> Iterator[JupyterLab]:
    """JupyterLab starting to serve ``root`` on a free port of 127.0.0.1, behind a token of
    its own, no browser opened; its kernels get ``env``. It starts in the background: call
    ``wait_until_answering()`` before use (and do something useful meanwhile). Jupyter's
    config, data, runtime, settings and workspace folders are a temporary directory of its
    own (no user's configuration or kernels apply), removed with the server stopped."""
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="workshop-jupyterlab-") as tmp:
        folders = {name: Path(tmp) / name
                   for name in ("config", "data", "runtime", "settings", "workspaces")}
        for relative, values in _LAB_SETTINGS.items():
            path = folders["settings"] / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = {**env, "JUPYTER_CONFIG_DIR": str(folders["config"]),
               "JUPYTER_DATA_DIR": str(folders["data"]),
               "JUPYTER_RUNTIME_DIR": str(folders["runtime"]),
               "JUPYTERLAB_SETTINGS_DIR": str(folders["settings"]),
               "JUPYTERLAB_WORKSPACES_DIR": str(folders["workspaces"])}
        command = [sys.executable, "-c", _LAB_LAUNCHER, str(os.getpid()), "--no-browser",
                   "--ip=127.0.0.1", "--port=0", f"--IdentityProvider.token={token}",
                   f"--ServerApp.root_dir={root}"]
        if os.geteuid() == 0:
            command.append("--allow-root")  # Jupyter refuses root (containers) without it
        log_path = Path(tmp) / "jupyterlab.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env, cwd=root)
        try:
            yield JupyterLab(process, token, root, folders["runtime"], log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def fake_api():
    with FakeApi().serve() as api:
        yield api


@pytest.fixture()
def api(fake_api):
    """The fake API, emptied and repaired before each test."""
    fake_api.reset()
    yield fake_api
    fake_api.reset()


@pytest.fixture(scope="session")
def site(fake_api):
    """The published web UI, served like an S3 website, configured for the fake API."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        objects = publish_to_moto(fake_api.base_url, monkeypatch)
    with Website(objects).serve() as website:
        yield website


@pytest.fixture(scope="session")
def browser(playwright_driver):
    with launch_browser(playwright=playwright_driver) as context:
        yield context


@contextmanager
def open_tab(context, expect_ms: int = 7000, action_ms: int = 10000):
    """A fresh tab of ``context`` that records the page's uncaught JavaScript errors
    (``tab.js_errors``), closed afterwards; ``expect_ms`` for ``expect``, ``action_ms`` for
    the page's own waits."""
    from playwright.sync_api import expect

    expect.set_options(timeout=expect_ms)
    tab = context.new_page()
    tab.set_default_timeout(action_ms)
    tab.js_errors = []
    tab.on("pageerror", lambda error: tab.js_errors.append(str(error)))
    try:
        yield tab
    finally:
        tab.close()


@pytest.fixture()
def page(browser, site):
    """A fresh tab at 1280x800 that records the page's uncaught JavaScript errors."""
    with open_tab(browser) as tab:
        yield tab


@pytest.fixture(name="require_chromium")
def require_chromium_fixture():
    """``require_chromium()`` for a test body, where it fails rather than errors."""
    return require_chromium


@pytest.fixture(scope="session")
def playwright_driver():
    """The session's one Playwright (a second one in the same thread is refused)."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session", name="open_tab")
def open_tab_fixture():
    """``open_tab(context, expect_ms=..., action_ms=...)`` for the test files' tab fixtures."""
    return open_tab


@pytest.fixture(scope="session", name="launch_browser")
def launch_browser_fixture(playwright_driver):
    """``launch_browser(proxy, ca_cert=...)`` on the session's Playwright, for tests
    (conftest is not importable)."""
    return functools.partial(launch_browser, playwright=playwright_driver)


@pytest.fixture(scope="session", name="jupyter_lab")
def jupyter_lab_fixture():
    """``jupyter_lab(root, env)``, a context manager, for tests (conftest is not importable):
    ``with jupyter_lab(root, env) as lab: ...; lab.wait_until_answering()``."""
    return jupyter_lab


@pytest.fixture(name="publish_to_moto")
def publish_to_moto_fixture():
    """``publish_to_moto(api_base_url, monkeypatch)`` for tests (conftest is not importable)."""
    return publish_to_moto


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
