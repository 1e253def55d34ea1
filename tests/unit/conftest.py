"""Fixtures for the Lambda handler tests: moto's in-process AWS and the tickets table."""

import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

# The functions ship as a flat zip of lambda_src/ and import each other as
# top-level modules (`import common`), so the tests import them the same way.
LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
if str(LAMBDA_SRC) not in sys.path:
    sys.path.insert(0, str(LAMBDA_SRC))

import common  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: takes tens of seconds (deselect with -m 'not slow')"
    )


PRIMARY = "eu-west-1"
SECONDARY = "ap-southeast-1"
TABLE = "wildrydes-tickets"


def create_tickets_table(region, name=TABLE):
    """The table as templates/api.yaml declares it (see docs/CONVENTIONS.md)."""
    client = boto3.client("dynamodb", region_name=region)
    client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "listKey", "AttributeType": "S"},
            {"AttributeName": "createdAt", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "byCreatedAt",
            "KeySchema": [
                {"AttributeName": "listKey", "KeyType": "HASH"},
                {"AttributeName": "createdAt", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        BillingMode="PAY_PER_REQUEST",
    )
    return boto3.resource("dynamodb", region_name=region).Table(name)


@pytest.fixture()
def aws_env(monkeypatch, tmp_path):
    """Fake credentials and the environment Lambda gives the functions; no real AWS.

    Not autouse: the other unit tests in this folder keep their own environment.
    """
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE",
                 "AWS_SESSION_TOKEN", "TARGET_TABLE_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", PRIMARY)
    monkeypatch.setenv("AWS_REGION", PRIMARY)
    monkeypatch.setenv("TABLE_NAME", TABLE)
    monkeypatch.setenv("TARGET_REGION", SECONDARY)


_session = None


@pytest.fixture()
def aws(aws_env):
    """moto's in-process AWS; cached clients are dropped so none outlives its mock."""
    global _session
    common.reset_clients()
    with mock_aws():
        # moto clears boto3's default session on every start, and building a new
        # one costs ~0.15 s; one shared session keeps the suite fast. Clients
        # (the functions' own included) are still new in every test.
        _session = _session or boto3.session.Session()
        boto3.DEFAULT_SESSION = _session  # moto puts its own value back on exit
        yield
    common.reset_clients()


@pytest.fixture()
def make_table(aws):
    """`make_table(region, name)`: another tickets table, inside the mock."""
    return create_tickets_table


@pytest.fixture()
def table(aws):
    """The tickets table in the primary region (a boto3 Table resource)."""
    return create_tickets_table(PRIMARY)


@pytest.fixture()
def target_table(aws):
    """The replica's tickets table in the secondary region."""
    return create_tickets_table(SECONDARY)
