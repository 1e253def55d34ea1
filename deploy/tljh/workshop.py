"""The workshop kit on The Littlest JupyterHub: each learner's server starts their sandbox.

TLJH reads every ``*.py`` in /opt/tljh/config/jupyterhub_config.d/ after its own config;
`deploy/tljh/install.sh` links this file there. TLJH runs no repo2docker `start`, so the
kit's `start` script becomes each learner's server command: it starts the learner's own
sandbox (free ports, state in ~/.workshop), copies the notebooks into their home once, turns
on idle-kernel culling, then execs the server, and the sandbox stops with it. The long
tier's JupyterHub test loads this same file (tests/hub/).
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 - JupyterHub's config loader provides it

# Where the kit is checked out (install.sh puts it in /opt/workshop-kit).
KIT = Path(os.environ.get("WORKSHOP_KIT", "/opt/workshop-kit"))

c.Spawner.cmd = [str(KIT / "start"), "jupyterhub-singleuser"]
c.Spawner.default_url = "/lab/tree/notebooks/index.ipynb"
# The first start of a server imports the kit and starts a sandbox: slower than a bare one.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180

# The instructor's live dashboard (docs/rooms.md): WORKSHOP_ROOM in the hub's own
# environment (e.g. `systemctl edit jupyterhub`: Environment=WORKSHOP_ROOM=...) reaches every
# learner's server, and their kits report their checklists there under their user names.
ROOM = os.environ.get("WORKSHOP_ROOM")
if ROOM:
    c.Spawner.environment.update({"WORKSHOP_ROOM": ROOM})
