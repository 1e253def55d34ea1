"""`make test` installs the Debian packages its tests need, or says in one line how.

tools/system-packages.sh runs here against a PATH of stand-ins: `id`, `sudo`,
`apt-get` and `dpkg-query` are small scripts, so every branch (nothing missing,
root, password-less sudo, no way to install, apt failing) runs for real
without touching this machine's packages.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "system-packages.sh"


def _tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture()
def machine(tmp_path):
    """A PATH with only the stand-ins and the basic utilities the script calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("bash", "grep", "tail", "env", "cat", "sh", "touch", "chmod", "mkdir"):
        real = subprocess.run(["sh", "-c", f"command -v {name}"], capture_output=True,
                              text=True).stdout.strip()
        (bin_dir / name).symlink_to(real)
    # dpkg-query: every package counts as installed (fonts-dejavu-core is then present).
    _tool(bin_dir, "dpkg-query", "echo 'install ok installed'")
    chromium = tmp_path / "chromium"

    def run(*, uid: int = 1000, sudo: str | None = None, apt: str | None = None,
            have: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        _tool(bin_dir, "id", f"echo {uid}")
        for name in ("dig", "curl"):
            (bin_dir / name).unlink(missing_ok=True)
            if name in have:
                _tool(bin_dir, name, "true")
        if "chromium" in have:
            _tool(tmp_path, "chromium", "true")
        else:
            chromium.unlink(missing_ok=True)
        for name, body in (("sudo", sudo), ("apt-get", apt)):
            (bin_dir / name).unlink(missing_ok=True)
            if body is not None:
                _tool(bin_dir, name, body)
        env = {"PATH": str(bin_dir), "WORKSHOP_CHROMIUM": str(chromium),
               "SYSTEM_PACKAGES_LOG": str(tmp_path / "apt.log"), "HOME": str(tmp_path)}
        return subprocess.run([str(bin_dir / "bash"), str(SCRIPT)], env=env,
                              capture_output=True, text=True, timeout=30)

    run.bin = bin_dir  # type: ignore[attr-defined]
    run.chromium = chromium  # type: ignore[attr-defined]
    return run


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_nothing_missing_prints_nothing_and_installs_nothing(machine):
    done = machine(have=("chromium", "dig", "curl"), apt="echo apt-get ran >&2; exit 1")
    assert done.returncode == 0
    assert done.stdout == done.stderr == ""


def test_without_root_or_passwordless_sudo_one_line_names_the_command_to_run(machine):
    done = machine(have=("curl",), sudo="exit 1", apt="exit 0")  # sudo -n wants a password
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = _lines(done.stderr)
    assert "run: sudo apt-get update && sudo apt-get install -y" in line
    assert "chromium" in line and "bind9-dnsutils" in line and "curl" not in line.split(": ")[1]


def test_as_root_it_installs_what_is_missing_saying_so_in_one_line(machine):
    # apt-get "installs" by putting the stand-ins where the script looks.
    apt = (f'case "$*" in *install*) printf "#!/bin/sh\\ntrue\\n" > {machine.bin}/dig; '
           f'chmod +x {machine.bin}/dig; printf "#!/bin/sh\\ntrue\\n" > {machine.chromium}; '
           f'chmod +x {machine.chromium};; esac; echo "lots of apt output"')
    done = machine(uid=0, have=("curl",), apt=apt)
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout) == [
        f"system packages: installing chromium bind9-dnsutils (apt-get, log in "
        f"{Path(machine.bin).parent / 'apt.log'})"]
    assert done.stderr == ""  # apt's own output went to the log


def test_passwordless_sudo_is_used_when_not_root(machine):
    calls = Path(machine.bin).parent / "sudo-calls"
    sudo = f'[ "$1" = -n ] && shift; echo "$*" >> {calls}; "$@"'  # runs the command as is
    done = machine(uid=1000, have=("chromium", "dig"), sudo=sudo,
                   apt=f'case "$*" in *install*) printf "#!/bin/sh\\ntrue\\n" > '
                       f'{machine.bin}/curl; chmod +x {machine.bin}/curl;; esac')
    assert done.returncode == 0, done.stderr
    assert "apt-get install -y --no-install-recommends curl" in calls.read_text()


def test_a_failing_apt_get_stops_with_one_line_and_the_log(machine):
    done = machine(uid=0, have=("chromium", "curl"),
                   apt='echo "E: Unable to locate package bind9-dnsutils"; exit 100')
    assert done.returncode == 1
    [line] = _lines(done.stderr)
    assert "apt-get failed (last line: E: Unable to locate package bind9-dnsutils)" in line
    assert "sudo apt-get install -y --no-install-recommends bind9-dnsutils" in line


@pytest.mark.skipif(os.name != "posix", reason="a POSIX shell script")
def test_make_test_runs_the_check_before_any_test():
    makefile = (ROOT / "Makefile").read_text()
    test_rule = next(line for line in makefile.splitlines() if line.startswith("test:"))
    prerequisites = test_rule.split(":", 1)[1].split()
    assert prerequisites[0] == "system-packages"
    assert "bash tools/system-packages.sh" in makefile
