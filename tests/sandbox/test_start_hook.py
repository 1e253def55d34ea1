"""The `start` script as repo2docker (Binder) and JupyterHub run it: `./start <server command>`,
with a home of its own. The learner's sandbox is up and `workshop status` answers before the
command runs, the sandbox stops with the command (saving what was deployed for the next
start), and a sandbox that cannot start stops `start` with the reason before any server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

from helpers.base.paths import REPO_ROOT
from helpers.base.polling import wait_until

START = REPO_ROOT / "start"
# A stopping sandbox saves its state first; on a busy machine that takes seconds.
STOPPED_WITHIN_S = 30


def run_start(home: Path, *command: str, **variables: str) -> subprocess.CompletedProcess:
    """``./start *command`` as repo2docker runs it: HOME and the working directory the
    learner's, the kit's commands on PATH, nothing of the tests' own workshop home."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WORKSHOP_") and k != "JUPYTER_CONFIG_PATH"}
    env.update(HOME=str(home), TMPDIR=str(home), PYTHONPATH=str(REPO_ROOT),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}", **variables)
    return subprocess.run([str(START), *command], cwd=home, env=env, capture_output=True,
                          text=True, timeout=180)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.fixture()
def home(tmp_path):
    home = tmp_path / "learner"
    home.mkdir()
    yield home
    # Whatever the outcome, no sandbox of this home outlives the test.
    with_status = home / ".workshop" / "sandbox.json"
    if with_status.exists():
        pid = json.loads(with_status.read_text()).get("pid", 0)
        if pid and _alive(pid):
            os.kill(pid, 9)


# The "server" `start` execs: it records what it finds (the sandbox, the Jupyter config path,
# the kernel killer's scores), then becomes `workshop status --json` (exec keeps the pid
# the sandbox watches).
SERVER = """
import json, os, pathlib, subprocess
sandbox = json.loads(subprocess.run(["workshop", "sandbox", "status", "--json"],
                                    capture_output=True, text=True, check=True).stdout)
score = lambda pid: int(pathlib.Path(f"/proc/{pid}/oom_score_adj").read_text())
pathlib.Path.home().joinpath("seen.json").write_text(json.dumps({
    "sandbox": sandbox, "jupyter_config_path": os.environ["JUPYTER_CONFIG_PATH"],
    "oom_score_adj": {"server": score(os.getpid()), "sandbox": score(sandbox["pid"])}}))
os.execvp("workshop", ["workshop", "status", "--json"])
"""


def test_the_sandbox_is_up_before_the_server_and_stops_with_it(home):
    done = run_start(home, sys.executable, "-c", SERVER)
    assert done.returncode == 0, done.stderr

    seen = json.loads((home / "seen.json").read_text())
    sandbox = seen["sandbox"]
    assert sandbox["endpoint_url"].startswith("http://127.0.0.1:")
    # The learner's own workshop home (~/.workshop), with the sandbox's status and state.
    assert sandbox["state"]["file"].startswith(str(home / ".workshop"))
    status = json.loads(done.stdout[done.stdout.index("{"):])
    assert status["mode"] == "sandbox"
    assert status["next"]["notebook"] == "00-set-up.ipynb"
    # A home that is not the kit's checkout (JupyterHub on one machine) gets the notebooks.
    assert (home / "notebooks" / "index.ipynb").is_file()
    # Out of memory, the kernel killer takes the server's kernels before the sandbox.
    scores = seen["oom_score_adj"]
    assert scores["server"] > scores["sandbox"], scores

    wait_until(lambda: not _alive(sandbox["pid"]), STOPPED_WITHIN_S, interval=0.1,
               what="the sandbox to stop with the server it was started for")
    # Nothing of it left behind in the learner's temporary folder (its CA among others).
    assert not list(home.glob("workshop-*")), list(home.glob("workshop-*"))

    # The server's config culls idle kernels, even those of open notebooks.
    first = seen["jupyter_config_path"].split(os.pathsep)[0]
    culling = PyFileConfigLoader("jupyter_server_config.py", path=first).load_config()
    assert culling.MappingKernelManager.cull_idle_timeout == 600
    assert culling.MappingKernelManager.cull_connected is True
    assert culling.MappingKernelManager.cull_busy is False


def test_what_was_deployed_is_there_after_the_server_restarts(home):
    make_bucket = ("from helpers.connect.session import client; "
                   "client('s3', 'eu-west-1').create_bucket(Bucket='kept-across-restarts', "
                   "CreateBucketConfiguration={'LocationConstraint': 'eu-west-1'})")
    first = run_start(home, sys.executable, "-c", make_bucket)
    assert first.returncode == 0, first.stderr
    list_buckets = ("from helpers.connect.session import client; "
                    "print([b['Name'] for b in client('s3', 'eu-west-1').list_buckets()"
                    "['Buckets']])")
    second = run_start(home, sys.executable, "-c", list_buckets)
    assert second.returncode == 0, second.stderr
    assert "with the state saved at" in second.stdout
    assert "kept-across-restarts" in second.stdout.splitlines()[-1]


def test_a_sandbox_that_cannot_start_stops_start_before_the_server(home):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_start(home, "touch", str(home / "server-started"),
                         WORKSHOP_SANDBOX_OPTIONS=f"--endpoint-port {port}")
    assert done.returncode == 1
    assert f"port {port} for the sandbox control plane (AWS API endpoint) is already in use" \
        in done.stderr
    assert "the notebook server is not started either" in done.stderr
    assert not (home / "server-started").exists()
    seen = home / ".workshop" / "sandbox.json"
    assert not seen.exists() or not _alive(json.loads(seen.read_text()).get("pid", 0))


def test_start_without_a_command_says_how_it_is_run(home):
    done = run_start(home)
    assert done.returncode == 64
    assert "run it as `start <notebook server command>`" in done.stderr
    assert not (home / ".workshop").exists()
