#!/usr/bin/env bash
# JupyterHub's proxy (configurable-http-proxy, from npm) under .hub-proxy/ in the checkout
# (gitignored), for the long tier's real JupyterHub (tests/hub/). Prints the binary's path.
# Needs node and npm: installed from Debian's packages when missing (as root, or with a
# sudo that asks no password), else one line saying what to run.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=5.3.0
PREFIX=.hub-proxy
BIN="$PWD/$PREFIX/node_modules/.bin/configurable-http-proxy"

if [ -x "$BIN" ] && [ "$("$BIN" --version 2>/dev/null)" = "$VERSION" ]; then
  echo "$BIN"
  exit 0
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; else
    echo "error: node and npm are needed for JupyterHub's proxy: run \`sudo apt-get install nodejs npm\`" >&2
    exit 1
  fi
  echo "installing node and npm (Debian packages) for JupyterHub's proxy" >&2
  $sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq nodejs npm >&2
fi
echo "installing configurable-http-proxy $VERSION into $PREFIX/ (npm)" >&2
npm install --silent --no-audit --no-fund --prefix "$PREFIX" "configurable-http-proxy@$VERSION" >&2
echo "$BIN"
