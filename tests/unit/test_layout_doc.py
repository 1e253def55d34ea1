"""docs/layout.md names every module of helpers/ that exists, and no other."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HELPERS = REPO / "helpers"
FOLDERS = ("runs", "drill", "views", "checklist", "aws", "connect", "core", "sandbox", "base")
MODULE = re.compile(r"`((?:" + "|".join(FOLDERS) + r")/[\w/]+\.py"
                    r"|cli\.py|__main__\.py|__init__\.py)`")


def named_in(text: str) -> set[str]:
    return set(MODULE.findall(text))


def existing() -> set[str]:
    return {p.relative_to(HELPERS).as_posix() for p in HELPERS.rglob("*.py")
            if "__pycache__" not in p.parts}


def test_the_layout_names_every_module_and_no_other():
    named = named_in((REPO / "docs" / "layout.md").read_text())
    assert sorted(existing() - named) == [], "modules docs/layout.md does not name"
    assert sorted(named - existing()) == [], "docs/layout.md names modules that do not exist"


def test_a_missing_or_stale_name_is_caught():
    assert named_in("`aws/stacks.py` and `sandbox/route53/api.py`, not `tests/x.py`") == {
        "aws/stacks.py", "sandbox/route53/api.py"}
