"""S3 static website hosting in the sandbox, reached as a browser would."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from helpers.base.regions import sandbox_ip

REGION = "ap-southeast-1"

INDEX = b"<html><body>Wild Rydes tickets</body></html>"
ERROR = b"<html><body>Nothing here</body></html>"


def public_read(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicReadForWebsite", "Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})


def make_bucket(aws, region: str = REGION, website: bool = True, policy: bool = True,
                error_document: bool = True) -> str:
    s3 = aws("s3", region)
    name = f"site-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if website:
        config = {"IndexDocument": {"Suffix": "index.html"}}
        if error_document:
            config["ErrorDocument"] = {"Key": "error.html"}
        s3.put_bucket_website(Bucket=name, WebsiteConfiguration=config)
    if policy:
        s3.put_bucket_policy(Bucket=name, Policy=public_read(name))
    s3.put_object(Bucket=name, Key="index.html", Body=INDEX, ContentType="text/html")
    s3.put_object(Bucket=name, Key="error.html", Body=ERROR, ContentType="text/html")
    s3.put_object(Bucket=name, Key="app.js", Body=b"console.log(1)",
                  ContentType="application/javascript", CacheControl="max-age=60")
    s3.put_object(Bucket=name, Key="docs/index.html", Body=b"docs", ContentType="text/html")
    return name


def endpoint(bucket: str, region: str = REGION, dot: bool = False) -> str:
    return f"{bucket}.s3-website{'.' if dot else '-'}{region}.amazonaws.com"


def get(sandbox, host: str, path: str, region: str = REGION, method: str = "GET"):
    url = f"http://{sandbox_ip(region)}:{sandbox['http_port']}{path}"
    return requests.request(method, url, headers={"Host": host}, timeout=10,
                            allow_redirects=False)


@pytest.fixture(scope="module")
def site(sandbox):
    from helpers.connect.session import client as aws

    return make_bucket(aws)


@pytest.mark.parametrize("dot", [False, True])
def test_index_document_for_root_and_folders(sandbox, site, dot):
    host = endpoint(site, dot=dot)
    root = get(sandbox, host, "/")
    assert root.status_code == 200
    assert root.content == INDEX
    assert root.headers["Content-Type"] == "text/html"
    assert root.headers["ETag"].startswith('"')
    assert root.headers["Server"] == "AmazonS3"
    folder = get(sandbox, host, "/docs/")
    assert folder.status_code == 200
    assert folder.content == b"docs"
    no_slash = get(sandbox, host, "/docs")
    assert no_slash.status_code == 302
    assert no_slash.headers["Location"] == "/docs/"


def test_objects_keep_their_content_type(sandbox, site):
    response = get(sandbox, endpoint(site), "/app.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/javascript"
    assert response.headers["Cache-Control"] == "max-age=60"
    assert response.text == "console.log(1)"
    head = get(sandbox, endpoint(site), "/app.js", method="HEAD")
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len("console.log(1)"))
    assert head.content == b""


def test_missing_key_serves_the_error_document_with_404(sandbox, site):
    response = get(sandbox, endpoint(site), "/no/such/page.html")
    assert response.status_code == 404
    assert response.content == ERROR
    assert response.headers["Content-Type"] == "text/html"


def test_missing_key_without_error_document(sandbox, aws):
    bucket = make_bucket(aws, error_document=False)
    response = get(sandbox, endpoint(bucket), "/missing")
    assert response.status_code == 404
    assert "NoSuchKey" in response.text
    assert response.headers["Content-Type"].startswith("text/html")


def test_private_bucket_is_403(sandbox, aws):
    bucket = make_bucket(aws, policy=False, error_document=False)
    response = get(sandbox, endpoint(bucket), "/")
    assert response.status_code == 403
    assert "AccessDenied" in response.text
    # Restricting public buckets switches the public policy off, as on AWS.
    public = make_bucket(aws)
    aws("s3", REGION).put_public_access_block(Bucket=public, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True})
    assert get(sandbox, endpoint(public), "/").status_code == 403


def test_bucket_without_website_configuration(sandbox, aws):
    bucket = make_bucket(aws, website=False)
    response = get(sandbox, endpoint(bucket), "/")
    assert response.status_code == 404
    assert "NoSuchWebsiteConfiguration" in response.text
    missing = get(sandbox, endpoint(f"nobucket-{uuid.uuid4().hex[:8]}"), "/")
    assert missing.status_code == 404
    assert "NoSuchBucket" in missing.text


def test_served_only_from_the_buckets_region(sandbox, site):
    # Another region's address does not serve this endpoint name (DNS never sends it there).
    response = get(sandbox, endpoint(site), "/", region="eu-west-1")
    assert response.status_code == 403
    assert response.content != INDEX
    # The endpoint name of another region answers with S3's redirect to the right one.
    wrong = get(sandbox, endpoint(site, region="eu-west-1"), "/", region="eu-west-1")
    assert wrong.status_code == 301
    assert endpoint(site) in wrong.headers["Location"]


def test_non_get_methods_are_rejected(sandbox, site):
    response = requests.post(f"http://{sandbox_ip(REGION)}:{sandbox['http_port']}/",
                             headers={"Host": endpoint(site)}, data=b"x", timeout=10)
    assert response.status_code == 405


def test_website_through_the_proxy(sandbox, site):
    proxies = {"http": sandbox["http_proxy"]}
    response = requests.get(f"http://{endpoint(site)}/", proxies=proxies, timeout=10)
    assert response.status_code == 200, response.text
    assert response.content == INDEX
    missing = requests.get(f"http://{endpoint(site)}/nope", proxies=proxies, timeout=10)
    assert missing.status_code == 404
    assert missing.content == ERROR


def test_large_object_streams_through_the_proxy(sandbox, aws, site):
    body = bytes(range(256)) * 8192  # 2 MiB
    aws("s3", REGION).put_object(Bucket=site, Key="big.bin", Body=body,
                                 ContentType="application/octet-stream")
    response = requests.get(f"http://{endpoint(site)}/big.bin",
                            proxies={"http": sandbox["http_proxy"]}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.content == body


def localhost(sandbox, name: str, path: str, **kwargs) -> requests.Response:
    """What a browser with no proxy sends for ``http://<name>.localhost:<http port><path>``:
    it resolves the name to loopback itself and connects to 127.0.0.1."""
    port = sandbox["http_port"]
    return requests.get(f"http://127.0.0.1:{port}{path}", timeout=10, allow_redirects=False,
                        headers={"Host": f"{name}.localhost:{port}"}, **kwargs)


def test_website_under_localhost_with_no_proxy(sandbox, site):
    root = localhost(sandbox, endpoint(site), "/")
    assert root.status_code == 200, root.text
    assert root.content == INDEX
    assert root.headers["Server"] == "AmazonS3"  # the region's own answer, relayed
    assert localhost(sandbox, endpoint(site, dot=True), "/app.js").content == b"console.log(1)"
    assert localhost(sandbox, endpoint(site), "/nope").content == ERROR
    assert localhost(sandbox, endpoint(site), "/docs").headers["Location"] == "/docs/"


def test_a_redirect_under_localhost_stays_under_localhost(sandbox, site):
    # The endpoint name of another region resolves to that region, whose S3 redirects to
    # the bucket's own endpoint: the browser must be sent to that name under .localhost.
    wrong = localhost(sandbox, endpoint(site, region="eu-west-1"), "/")
    assert wrong.status_code == 301
    assert wrong.headers["Location"] == (
        f"http://{endpoint(site)}.localhost:{sandbox['http_port']}/")


def test_the_kit_fetches_the_link_it_prints(sandbox, site):
    """``deployment.website_url`` hands out the .localhost link in the sandbox; the kit's
    own checks (``net.request``, notebook 03.3) fetch that link as a browser would."""
    from helpers.connect import net
    from helpers.core.target import for_mode

    link = for_mode("sandbox").browser_url(f"http://{endpoint(site)}")
    assert link == f"http://{endpoint(site)}.localhost:{sandbox['http_port']}"
    page = net.request("GET", link + "/")
    assert page.status_code == 200
    assert page.content == INDEX
    assert net.request("GET", link + "/app.js").content == b"console.log(1)"
