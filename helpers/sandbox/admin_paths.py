"""Where the sandbox's own control endpoints live: every ``/_sandbox/*`` path, once.

The sandbox answers a few requests that AWS has no equivalent for on its
control-plane endpoint. The server modules dispatch on these constants and
:class:`helpers.connect.sandbox_admin.SandboxAdmin` calls them; nothing else spells a
path (``tests/unit/test_admin_paths.py`` fails on one spelled anywhere else).
Plain constants, no kit imports: the server and the client both import it.
"""

from __future__ import annotations

from typing import NamedTuple

PREFIX = "/_sandbox/"  # every admin path starts so; quotas and persistence let them through

REGIONS = PREFIX + "regions"  # GET: {region: available}; GET|PUT|POST /<region>
STREAMS = PREFIX + "streams"  # GET: counters per DynamoDB Streams event source mapping
GLOBAL_TABLES = PREFIX + "global-tables"  # GET: each global table's replicas
LAMBDA = PREFIX + "lambda"  # GET: execution environments, zygote, cold starts
STATE = PREFIX + "state"  # GET: where the state is saved, and how the saving goes
FAULTS = PREFIX + "faults"  # GET, POST, DELETE; DELETE /<id>
PATCHES = PREFIX + "patches"  # GET: the moto patches installed, in order (helpers.sandbox.patches)
HEALTH_CHECKS = PREFIX + "route53/healthcheck"  # GET /<id>: verdict, checkers, history


def region(name: str) -> str:
    """``/_sandbox/regions/<name>``: one region's switch."""
    return f"{REGIONS}/{name}"


def fault(rule_id: str) -> str:
    """``/_sandbox/faults/<id>``: one fault rule."""
    return f"{FAULTS}/{rule_id}"


def health_check(health_check_id: str) -> str:
    """``/_sandbox/route53/healthcheck/<id>``: one health check's timeline."""
    return f"{HEALTH_CHECKS}/{health_check_id}"


def is_admin(path: str) -> bool:
    """Whether a request path is one of the sandbox's own (never an AWS call)."""
    return path.startswith(PREFIX)


def under(path: str, base: str) -> str | None:
    """What follows ``base`` in ``path`` (``""`` for ``base`` itself, trailing ``/`` ignored),
    or None when ``path`` is not ``base`` or below it."""
    path = path.rstrip("/")
    if path == base:
        return ""
    if path.startswith(base + "/"):
        return path[len(base) + 1:]
    return None


class Route(NamedTuple):
    path: str
    methods: tuple[str, ...]
    served_by: str  # the module of helpers.sandbox that dispatches it
    client: str  # the SandboxAdmin method(s) that call it, comma-separated


ROUTES: tuple[Route, ...] = (
    Route(REGIONS, ("GET",), "http_front", "regions"),
    Route(region("<region>"), ("GET", "PUT", "POST"), "http_front",
          "region, set_region_available"),
    Route(STREAMS, ("GET",), "dynamodb.streams", "stream_mappings"),
    Route(GLOBAL_TABLES, ("GET",), "dynamodb.global_tables", "global_tables"),
    Route(LAMBDA, ("GET",), "awslambda.runtime", "lambda_environments"),
    Route(STATE, ("GET",), "persistence", "state"),
    Route(FAULTS, ("GET", "POST", "DELETE"), "faults", "faults, add_faults, clear_faults"),
    Route(fault("<id>"), ("DELETE",), "faults", "remove_fault"),
    Route(health_check("<id>"), ("GET",), "route53.api", "health_check_timeline"),
    Route(PATCHES, ("GET",), "patches", "patches"),
)
