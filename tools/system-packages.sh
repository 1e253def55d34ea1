#!/usr/bin/env bash
# The Debian packages the tests need, installed when missing (`make test` runs this first):
#
#   chromium, fonts-dejavu-core   tests/browser: Playwright drives /usr/bin/chromium
#                                 (a test tool's own browser download cannot work offline)
#   bind9-dnsutils (dig), curl    tests/sandbox/test_real_clients.py: real clients
#                                 against the sandbox (the AWS CLI comes from pip)
#
# Prints nothing when all are there. Otherwise installs them as root, or with `sudo -n`
# when that needs no password, saying so in one line (apt's own output goes to a log).
# Where it cannot, it prints one line naming the command to run and exits 1, so no
# test runs without its tools.
set -uo pipefail

CHROMIUM=${WORKSHOP_CHROMIUM:-/usr/bin/chromium}  # where tests/browser looks for it
LOG=${SYSTEM_PACKAGES_LOG:-${TMPDIR:-/tmp}/workshop-system-packages.log}

installed() {  # is the Debian package installed?
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing() {
    local found=()
    [[ -x "$CHROMIUM" ]] || found+=(chromium)
    if command -v dpkg-query >/dev/null 2>&1; then
        installed fonts-dejavu-core || found+=(fonts-dejavu-core)
    fi
    command -v dig >/dev/null 2>&1 || found+=(bind9-dnsutils)
    command -v curl >/dev/null 2>&1 || found+=(curl)
    echo "${found[*]}"
}

packages=$(missing)
[[ -z "$packages" ]] && exit 0

command_to_run="sudo apt-get update && sudo apt-get install -y --no-install-recommends $packages"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "system packages: the tests need $packages (no apt-get here: install them with your" \
         "package manager, Chromium at $CHROMIUM), then run make test again" >&2
    exit 1
fi
if [[ "$(id -u)" -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "system packages: the tests need $packages; run: $command_to_run" >&2
    exit 1
fi

echo "system packages: installing $packages (apt-get, log in $LOG)"
if ! { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update &&
       "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
           apt-get install -y --no-install-recommends $packages; } >"$LOG" 2>&1; then
    echo "system packages: apt-get failed (last line: $(tail -n 1 "$LOG")); see $LOG," \
         "or run: $command_to_run" >&2
    exit 1
fi
still=$(missing)
if [[ -n "$still" ]]; then
    echo "system packages: still missing after apt-get: $still; see $LOG" >&2
    exit 1
fi
