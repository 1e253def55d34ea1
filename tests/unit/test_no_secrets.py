"""Nothing personal or secret is committed: no credentials anywhere, and no real account
ids, personal domains or e-mail addresses in what learners read (the notebooks with
their stored outputs, docs/ and the README).

The kit's own values are the documentation ones: account 123456789012 (the
sandbox's), domains under example.com/.org/.net (RFC 2606), and AWS's own names.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SANDBOX_ACCOUNT = "123456789012"

CREDENTIALS = {
    "AWS access key id": re.compile(
        r"(?<![A-Z0-9])(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}(?![A-Z0-9])"),
    "AWS secret access key": re.compile(
        r"(?i)aws_?secret_?access_?key\W{1,5}(?!testing\b)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"),
    "session token": re.compile(r"(?i)aws_?session_?token\W{1,5}[A-Za-z0-9/+=]{100,}"),
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
}
ACCOUNT_ID = re.compile(r"(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])")
DOMAIN = re.compile(r"(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
                    r"(?:com|net|org|io|dev|app|co|uk|de|fr|nl|info|me|xyz|cloud|ai|eu|us|biz))"
                    r"(?![\w-])", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@((?:[\w-]+\.)+[a-z]{2,})", re.IGNORECASE)
ALLOWED_DOMAINS = re.compile(r"(?:^|\.)(?:example\.(?:com|org|net)|amazonaws\.com|amazon\.com|"
                             r"awsdns-\d+\.(?:com|net|org|co\.uk)|w3\.org|python\.org|"
                             r"jupyter\.org|github\.com|"
                             # Binder's public service: the README's "Launch on Binder" link
                             r"mybinder\.org|"
                             # sources the docs cite: jupytext's manual, RFCs, latency tables
                             r"readthedocs\.io|rfc-editor\.org|ietf\.org|cloudping\.co)$",
                             re.IGNORECASE)


@cache
def tracked(*paths: str) -> tuple[Path, ...]:
    names = subprocess.run(["git", "ls-files", "-z", "--", *paths], cwd=REPO, check=True,
                           capture_output=True).stdout.decode().split("\0")
    return tuple(REPO / name for name in names if name and (REPO / name).is_file())


def text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None  # binary (a PNG): nothing to read


def read_by_learners() -> tuple[Path, ...]:
    return tracked("notebooks", "docs", "README.md")


def test_the_scan_sees_the_notebooks_docs_and_readme():
    names = {p.relative_to(REPO).as_posix() for p in read_by_learners()}
    assert "README.md" in names and "docs/CONVENTIONS.md" in names
    assert any(name.startswith("notebooks/") and name.endswith(".ipynb") for name in names)


@pytest.mark.parametrize("kind", CREDENTIALS)
def test_no_credentials_in_any_committed_file(kind):
    found = [f"{p.relative_to(REPO)}: {m.group(0)[:12]}..."
             for p in tracked() if (body := text(p)) is not None
             for m in CREDENTIALS[kind].finditer(body)]
    assert found == []


def test_no_real_account_ids_where_learners_read():
    found = {(p.relative_to(REPO).as_posix(), m.group(0))
             for p in read_by_learners() if (body := text(p)) is not None
             for m in ACCOUNT_ID.finditer(body) if m.group(0) != SANDBOX_ACCOUNT}
    assert found == set()


def test_no_personal_domains_or_addresses_where_learners_read():
    found = set()
    for path in read_by_learners():
        body = text(path)
        if body is None:
            continue
        names = [m.group(1) for m in DOMAIN.finditer(body)]
        names += [m.group(1) for m in EMAIL.finditer(body)]
        found |= {(path.relative_to(REPO).as_posix(), name) for name in names
                  if not ALLOWED_DOMAINS.search(name)}
    assert found == set()


@pytest.mark.parametrize(("sample", "caught"), [
    # Assembled here, so this file itself holds no credential-shaped string.
    ("aws_access_key_id = " + "AKIA" + "IOSFODNN7EXAMPL3", True),
    ("aws_secret_access_key = " + "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY", True),
    ("aws_secret_access_key=testing", False),
    ("arn:aws:iam::210987654321:role/admin", True),
    ("arn:aws:iam::123456789012:role/admin", False),
    ("https://tickets.my-company.io/", True),
    ("https://api.example.com/ticket", False),
    ("https://abc.execute-api.eu-west-1.amazonaws.com/prod/", False),
    ("mail jane.doe@gmail.com", True),
])
def test_the_patterns_catch_what_they_should(sample, caught):
    hits = [name for name, pattern in CREDENTIALS.items() if pattern.search(sample)]
    hits += [m.group(0) for m in ACCOUNT_ID.finditer(sample) if m.group(0) != SANDBOX_ACCOUNT]
    hits += [m.group(1) for m in [*DOMAIN.finditer(sample), *EMAIL.finditer(sample)]
             if not ALLOWED_DOMAINS.search(m.group(1))]
    assert bool(hits) is caught
