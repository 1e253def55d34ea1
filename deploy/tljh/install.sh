#!/usr/bin/env bash
# The workshop kit on The Littlest JupyterHub (TLJH), on the hub's machine, as root, after
# TLJH itself is installed (docs/jupyterhub.md):
#   sudo git clone <the kit's repository> /opt/workshop-kit
#   sudo bash /opt/workshop-kit/deploy/tljh/install.sh
# It installs the kit into the learners' environment, makes the kit's `start` each
# learner's server command (deploy/tljh/workshop.py), sizes each learner and culls idle
# servers. Run it again after pulling a new version of the kit.
set -euo pipefail
kit="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
user_env=/opt/tljh/user
config_d=/opt/tljh/config/jupyterhub_config.d

if [ "$(id -u)" != 0 ]; then
  echo "error: run it as root (sudo bash $0): TLJH's environment and config are root's" >&2
  exit 1
fi
if [ ! -x "$user_env/bin/pip" ] || ! command -v tljh-config >/dev/null; then
  echo "error: no TLJH on this machine ($user_env): install TLJH first (docs/jupyterhub.md)" >&2
  exit 1
fi
if [ "$kit" != /opt/workshop-kit ]; then  # deploy/tljh/workshop.py looks there
  ln -sfn "$kit" /opt/workshop-kit
fi

echo "installing the kit into the learners' environment ($user_env)"
# Editable: helpers/ finds lambda_src/, templates/ and web/ beside it in the checkout.
"$user_env/bin/pip" install --quiet -e "$kit"
"$user_env/bin/python" -m ipykernel install --sys-prefix --name python3 \
  --display-name "Python 3 (workshop)"
chmod -R a+rX "$kit"  # every learner reads the kit; each writes only in their home

echo "making the kit's start each learner's server command ($config_d/workshop.py)"
mkdir -p "$config_d"
ln -sf "$kit/deploy/tljh/workshop.py" "$config_d/workshop.py"

echo "sizing each learner and culling idle servers"
# Measured per learner after the whole workshop, idle kernels culled, 956 MiB with the
# server; room for four kernels: docs/jupyterhub.md.
tljh-config set limits.memory 1.5G
tljh-config set limits.cpu 1
# A server idle for an hour stops, and its sandbox with it (state saved, restored at the
# next start); TLJH's default of 10 minutes would restart sandboxes all through a room.
tljh-config set services.cull.timeout 3600
tljh-config reload
echo "done: learners who log in now get JupyterLab on the index with a sandbox of their own"
