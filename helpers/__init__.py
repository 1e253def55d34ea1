"""The workshop kit's helpers: what the notebooks and the ``workshop`` command call.

The folders are the layers (``docs/layout.md``), top to bottom: ``cli`` and ``runs/``
(running notebooks), ``drill/``, ``views/`` (what a cell shows), ``checklist/``, ``aws/``
(what the notebooks perform on AWS), ``connect/`` (sessions, HTTP and DNS for the mode),
``core/`` (settings, state, the mode), ``sandbox/``, ``base/``. A module imports only from
its own layer or below.

Notebooks write ``from helpers import failover``: the names they use are found here in
their layer, imported when first asked for.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# The short names a notebook imports, and the module each one is.
NOTEBOOK_NAMES = {
    "architecture": "helpers.views.architecture",
    "charts": "helpers.views.charts",
    "cleanup": "helpers.aws.cleanup",
    "clocks": "helpers.views.clocks",
    "costs": "helpers.aws.costs",
    "deployment": "helpers.aws.deployment",
    "drill": "helpers.drill",
    "failover": "helpers.aws.failover",
    "global_tables": "helpers.aws.global_tables",
    "monitor": "helpers.views.monitor",
    "net": "helpers.connect.net",
    "preflight": "helpers.aws.preflight",
    "progress": "helpers.views.progress",
    "replication": "helpers.aws.replication",
    "replication_methods": "helpers.aws.replication_methods",
    "state": "helpers.core.state",
    "templates": "helpers.aws.templates",
    "tickets": "helpers.aws.tickets",
    "widgets": "helpers.views.widgets",
}


def __getattr__(name: str) -> ModuleType:
    if name in NOTEBOOK_NAMES:
        return importlib.import_module(NOTEBOOK_NAMES[name])
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
