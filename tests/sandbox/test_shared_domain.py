"""Two participants, one sandbox, one domain (issue 12, item 5), as learners type it.

carol then dave, both with one domain, both ``workshop run --until 03.3``: dave used to
succeed and silently take carol's custom domains and failover records over. Now dave is
refused before anything is created, with a subdomain of his own to use instead, and
carol's checklist stays complete.
"""

from __future__ import annotations

import json
import secrets

import pytest

from helpers.aws import cleanup
from helpers.core.config import WorkshopConfig
from workshop_cli import workshop

# Two notebook runs to 03.3: the long tier. make test's stand-in refuses a domain the shared
# deployment uses (tests/sandbox/test_checklist_on_a_deployed_workshop.py).
pytestmark = [pytest.mark.story, pytest.mark.long]

TOKEN = secrets.token_hex(2)
DOMAIN = f"shared-{TOKEN}.acme-tickets.test"
CAROL = WorkshopConfig(mode="sandbox", prefix=f"carol-{TOKEN}", domain=DOMAIN)
DAVE = WorkshopConfig(mode="sandbox", prefix=f"dave-{TOKEN}", domain=DOMAIN)


@pytest.fixture(scope="module")
def home(sandbox, tmp_path_factory):
    path = tmp_path_factory.mktemp("shared-domain-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_HOME", str(path))
        try:
            yield path
        finally:
            for participant in (DAVE, CAROL):
                cleanup.cleanup(participant)
            assert cleanup.leftovers(CAROL) == [] and cleanup.leftovers(DAVE) == []


def run_until_03_3(home, participant: WorkshopConfig, out):
    return workshop("run", "--until", "03.3", "--prefix", participant.prefix, "--domain",
                    participant.domain, "--out", str(out), env={"WORKSHOP_HOME": str(home)},
                    timeout=600)


def checklist_done(home, participant: WorkshopConfig) -> list[str]:
    status = workshop("status", "--json", "--prefix", participant.prefix,
                      env={"WORKSHOP_HOME": str(home)})
    assert status.returncode == 0, status.stderr
    return json.loads(status.stdout)["done"]


def test_carol_runs_until_03_3(home, tmp_path):
    carol = run_until_03_3(home, CAROL, tmp_path)
    assert carol.returncode == 0, carol.stdout + carol.stderr
    assert checklist_done(home, CAROL) == ["1", "2", "3.1", "3.2", "3.3"]


def test_dave_with_carols_domain_is_refused_before_anything_is_created(home, tmp_path):
    dave = run_until_03_3(home, DAVE, tmp_path)

    assert dave.returncode != 0
    said = dave.stdout + dave.stderr
    assert f"the domain {DOMAIN} is already used by another participant ({CAROL.prefix}:" in said
    assert f"--domain {DAVE.prefix}.{DOMAIN}" in said
    assert cleanup.leftovers(DAVE) == []  # not a stack, record, check or certificate


def test_carols_checklist_stays_complete(home):
    assert checklist_done(home, CAROL) == ["1", "2", "3.1", "3.2", "3.3"]
