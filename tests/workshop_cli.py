"""The `workshop` command as a learner runs it: a process of its own, output captured."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from helpers.base.paths import REPO_ROOT


def workshop(*args: str, env: dict[str, str] | None = None, drop: tuple[str, ...] = (),
             timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``workshop *args`` with this process's environment, minus ``drop``, plus ``env``."""
    environment = {k: v for k, v in os.environ.items() if k not in drop}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "helpers", *args], cwd=REPO_ROOT,
                          env=environment, capture_output=True, text=True, timeout=timeout)


def rehearse(home, *args: str) -> dict:
    """``workshop rehearse *args --json`` with ``home`` as the workshop home: its JSON."""
    done = workshop("rehearse", *args, "--json", env={"WORKSHOP_HOME": str(home)},
                    timeout=1200)
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout)
