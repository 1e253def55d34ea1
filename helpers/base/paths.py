"""Where the kit keeps its local files (state, sandbox status, logs)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # helpers/
REPO_ROOT = PACKAGE_DIR.parent
LAMBDA_SRC = REPO_ROOT / "lambda_src"
TEMPLATES = REPO_ROOT / "templates"
WEB = REPO_ROOT / "web"
NOTEBOOKS = REPO_ROOT / "notebooks"


def workshop_home() -> Path:
    """``$WORKSHOP_HOME``, else ``.workshop/`` in the checkout (gitignored)."""
    home = os.environ.get("WORKSHOP_HOME")
    path = Path(home) if home else REPO_ROOT / ".workshop"
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_file(prefix: str) -> Path:
    """A participant's saved settings and deployment state (:mod:`helpers.core.state`)."""
    return workshop_home() / f"state-{prefix}.json"


def current_prefix_file() -> Path:
    """Names the participant whose settings notebook 00 saved last in this workshop home."""
    return workshop_home() / "current-prefix"


def call_log(prefix: str) -> Path:
    """Every AWS call the kit made for a participant, a JSON line each (`connect.calllog`)."""
    return workshop_home() / f"calls-{prefix}.jsonl"


def sandbox_status_file() -> Path:
    override = os.environ.get("WORKSHOP_SANDBOX_FILE")
    return Path(override) if override else workshop_home() / "sandbox.json"


def credentials_file(prefix: str) -> Path:
    """A participant's IAM access key in the sandbox (:mod:`helpers.aws.iam_users`)."""
    return workshop_home() / f"credentials-{prefix}.json"
