"""The embedded sandbox: moto's control plane plus the kit's own data plane.

Start it with ``workshop sandbox up``; tests use :func:`running_sandbox`.
"""

from helpers.sandbox.context import SandboxSettings
from helpers.sandbox.errors import SandboxError
from helpers.sandbox.process import down, read_status, require_status, running_sandbox, up

__all__ = ["SandboxError", "SandboxSettings", "down", "read_status", "require_status",
           "running_sandbox", "up"]
