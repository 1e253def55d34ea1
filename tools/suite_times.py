"""The test suite's time, from the JUnit XML reports `make test` and `make test-long` write.

    python tools/suite_times.py out/junit-test.xml out/junit-long.xml [--readme README.md]

Prints, per tier (one report each), the wall time and, per test folder, the number of tests
and the sum of their own durations (set-up and teardown included: pytest's ``total``), then
the slowest tests. With ``--readme`` the table also replaces what stands between the
README's ``<!-- suite-times -->`` and ``<!-- /suite-times -->`` lines, so the figures the
README gives are the ones a run measured, and writes ``tests/durations.json`` (seconds per
test module), from which a clone without reports of its own hands out the longest test
files first (``conftest.py``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

START, END = "<!-- suite-times -->", "<!-- /suite-times -->"
DURATIONS = Path(__file__).resolve().parent.parent / "tests" / "durations.json"
SLOWEST = 10


@dataclass
class Tier:
    name: str
    wall_s: float
    started: str
    tests: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    outcome: dict[str, int] = field(default_factory=dict)


def folder_of(case: ET.Element) -> str:
    """`tests/sandbox`, `tests/unit`, ..., or `notebooks` for nbval's cells."""
    path = case.get("file") or case.get("classname", "").replace(".", "/")
    if path.startswith("notebooks") or ".ipynb" in path:
        return "notebooks (nbval)"
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) > 1 else parts[0]


def test_name(case: ET.Element) -> str:
    """``test_drill::test_...``, or ``04-test-failover.ipynb::Cell 7`` for nbval's cells."""
    classname = case.get("classname", "")
    if classname.endswith(".ipynb"):
        module = classname.removeprefix("notebooks.")
    else:
        module = classname.rsplit(".", 1)[-1]
    return f"{module}::{case.get('name')}"


def read(path: Path) -> Tier:
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        raise SystemExit(f"error: {path} is not a JUnit XML report (no <testsuite>)")
    tier = Tier(name=path.stem.removeprefix("junit-"), wall_s=float(suite.get("time", 0)),
                started=suite.get("timestamp", "")[:16].replace("T", " "))
    by_folder: dict[str, list[tuple[str, float]]] = defaultdict(list)
    outcome: dict[str, int] = defaultdict(int)
    for case in suite.iter("testcase"):
        by_folder[folder_of(case)].append((test_name(case), float(case.get("time", 0))))
        kind = next((child.tag for child in case
                     if child.tag in ("failure", "error", "skipped")), "passed")
        outcome[kind] += 1
    tier.tests, tier.outcome = dict(sorted(by_folder.items())), dict(outcome)
    return tier


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {round(seconds % 60):02d} s"


def table(tiers: list[Tier]) -> str:
    lines = ["| tier | folder | tests | sum of their durations |", "|---|---|---|---|"]
    for tier in tiers:
        for folder, tests in tier.tests.items():
            total = sum(seconds for _, seconds in tests)
            lines.append(f"| `{tier.name}` | `{folder}` | {len(tests)} | {total:.0f} s |")
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(tier.outcome.items()))
        lines.append(f"| `{tier.name}` | **wall time** | {counts} | "
                     f"**{minutes(tier.wall_s)}** (started {tier.started} UTC) |")
    return "\n".join(lines)


def slowest(tiers: list[Tier]) -> str:
    rows = sorted(((seconds, tier.name, name) for tier in tiers
                   for tests in tier.tests.values() for name, seconds in tests), reverse=True)
    lines = [f"The {SLOWEST} slowest tests:", "", "| tier | test | seconds |", "|---|---|---|"]
    lines += [f"| `{tier}` | `{name}` | {seconds:.1f} |" for seconds, tier, name in
              rows[:SLOWEST]]
    return "\n".join(lines)


def update_readme(readme: Path, text: str) -> None:
    content = readme.read_text()
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(content):
        raise SystemExit(f"error: {readme} has no {START} ... {END} section to replace")
    readme.write_text(pattern.sub(lambda _: f"{START}\n{text}\n{END}", content))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="JUnit XML reports, one per tier")
    parser.add_argument("--readme", type=Path, help="replace the README's suite-times table")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.reports if not p.exists()]
    if missing:
        print(f"error: no report at {', '.join(missing)}: run `make test` "
              f"(and `make test-long`) first", file=sys.stderr)
        return 1
    tiers = [read(path) for path in args.reports]
    text = table(tiers) + "\n\n" + slowest(tiers)
    print(text)
    if args.readme:
        update_readme(args.readme, text)
        write_durations(args.reports)
    return 0


def write_durations(reports: list[Path], path: Path = DURATIONS) -> None:
    """Seconds per test (``<JUnit class name>::<name>``, its parameters together: their ids
    are test data) in the reports: what conftest.py orders a run by when it has no reports
    of its own."""
    seconds: dict[str, float] = defaultdict(float)
    for report in reports:
        for case in ET.parse(report).getroot().iter("testcase"):
            name = case.get("name", "").split("[", 1)[0]
            seconds[f"{case.get('classname')}::{name}"] += float(case.get("time") or 0)
    path.write_text(json.dumps({name: round(value, 1) for name, value in sorted(
        seconds.items())}, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
