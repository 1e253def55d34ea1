"""`workshop sandbox up | status | down` as a learner types them, in a status file of its own
so the session's sandbox is not touched."""

from __future__ import annotations

import json
import os

import requests

from workshop_cli import workshop


def test_up_status_down_print_what_real_clients_need(tmp_path):
    env = {"WORKSHOP_SANDBOX_FILE": str(tmp_path / "sandbox.json"),
           "WORKSHOP_HOME": str(tmp_path)}
    started = workshop("sandbox", "up", env=env)
    try:
        assert started.returncode == 0, started.stderr
        assert started.stdout.startswith("sandbox started in ")
        info = json.loads(workshop("sandbox", "status", "--json", env=env).stdout)
        assert info["endpoint_url"].startswith("http://127.0.0.1:")
        assert info["dns"]["host"] == "127.0.0.1"

        text = workshop("sandbox", "status", env=env)
        assert text.returncode == 0
        assert f"aws --endpoint-url {info['endpoint_url']}" in text.stdout
        assert f"dig @127.0.0.1 -p {info['dns']['port']}" in text.stdout
        assert f"curl --cacert {info['ca_cert']}" in text.stdout
        assert os.path.isfile(info["ca_cert"])
        # The endpoint printed is the one that answers.
        assert requests.get(info["endpoint_url"], timeout=10).status_code < 500

        again = workshop("sandbox", "up", env=env)
        assert again.returncode == 0
        assert "a sandbox is already running" in again.stdout
    finally:
        stopped = workshop("sandbox", "down", env=env)
    assert stopped.stdout.strip() == "sandbox stopped"
    gone = workshop("sandbox", "status", env=env)
    assert gone.returncode == 1
    assert gone.stdout.strip() == "no sandbox is running: start one with `workshop sandbox up`"
    assert workshop("sandbox", "down", env=env).stdout.strip() == "no sandbox was running"
