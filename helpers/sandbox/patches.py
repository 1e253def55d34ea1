"""Every change the sandbox makes to moto's (or botocore's) code, in one registry.

The sandbox corrects moto by replacing attributes of its classes and modules
(``CertBundle.check``, ``LambdaBackend.invoke``, ``parsing.ResourceMap.update``, ...).
The wrappers live beside the behaviour they implement, in the service modules;
this module is the only one that puts them in place and takes them out again
(``tests/unit/test_patch_registry.py`` reads every module under ``helpers/`` and
fails on any other assignment to a moto or botocore attribute).

**Declarations.** Each module of :data:`DECLARING_MODULES` exports ``PATCHES``, a
tuple of plain data, ``(target, wrap)`` or ``(target, wrap, order)``:

* ``target``: ``"module:Qualified.attribute"``, e.g.
  ``"moto.acm.models:CertBundle.check"`` (a class attribute) or
  ``"moto.cloudformation.parsing:parse_and_update_resource"`` (a module's);
* ``wrap``: a function that receives the current attribute (``getattr``: a
  classmethod arrives bound, a property as the property; None where moto has
  none) and returns its replacement. It runs at installation, never at import;
* ``order``: required when several declarations replace the same target, one
  distinct number each; the lower one is installed first, so it is the inner
  wrapper and the higher one sees the call first.

The owner of a declaration is the module that exports it. A module may also
export ``after_patches()``, run once its declarations are installed (cfn_gaps
forgets moto's cached CloudFormation model maps there). Plain tuples, not a
class of this module: the declaring modules import nothing from here, so the
registry can import them without a cycle.

**One order.** :func:`install` installs every declaration, in one fixed order:
sorted by ``order`` (absent counts as 0), then by the declaring module's place in
:data:`DECLARING_MODULES`, then by the place in its ``PATCHES``. Nothing else
installs anything, so a sandbox that restored a saved state has the same wrappers,
nested the same way, as a fresh one (``GET /_sandbox/patches`` lists them).
:func:`uninstall` puts back exactly what each attribute was before (the object
from the class's own ``__dict__``, or no attribute of its own at all), in reverse
order: a second sandbox in the same process starts from moto as it is shipped.

**When.** Installing imports moto's CloudFormation models (about 0.7 s on an idle
machine, as much as the rest of the start: installing at start made
``workshop sandbox up`` take 2.6 s instead of 1.3 s on a loaded two-core machine),
so everything is installed at once by the server's warm-up thread, right after the
sandbox starts (and before it imports anything else: two threads importing moto's
modules in different orders deadlock), or sooner when something needs it: the first
signed control-plane request waits for it (an intercept), and restoring a saved
state installs it before unpickling (:mod:`helpers.sandbox.persistence`).
Whichever comes first, it is the same call, so the order never depends on what
happened first. Until then no request has reached a patched service, so nothing
moto holds was made without the patches.

**The running component.** A wrapper never closes over a component: the patches
are class-level and outlive one sandbox. A wrapper that needs the component's
state (ACM's validator, Route 53's pending changes, the Lambda runtime, the time
scale) reads the module's ``_active`` reference, set by the component's
``start`` and cleared by its ``stop``, and does what moto does while there is
none.

Not here: :mod:`helpers.sandbox.awslambda.lambda_zygote` adjusts boto3 in the zygote, a
separate interpreter that never imports moto. Nor :mod:`helpers.sandbox.memory`, which replaces no
code: it empties two of moto's EC2 data catalogues the workshop never reads, in the
sandbox process only.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from helpers.sandbox import admin_paths
from helpers.sandbox.acm import validation as acm
from helpers.sandbox.apigateway import domains as apigateway_domains
from helpers.sandbox.apigateway import executor as apigateway
from helpers.sandbox.awslambda import runtime as lambda_runtime
from helpers.sandbox.cloudformation import gaps as cfn_gaps
from helpers.sandbox.context import SandboxContext, signing_service
from helpers.sandbox.dynamodb import global_tables, streams
from helpers.sandbox.iam import authorization as iam_authorization
from helpers.sandbox.route53 import changes as route53_changes

log = logging.getLogger("helpers.sandbox.patches")

# The modules that declare patches, in the order their declarations are installed.
DECLARING_MODULES: tuple[ModuleType, ...] = (
    streams, lambda_runtime, global_tables, apigateway, apigateway_domains, acm,
    route53_changes, cfn_gaps, iam_authorization,
)


@dataclass(frozen=True)
class Patch:
    """One declaration, as the registry reads it from a module's ``PATCHES``."""

    target: str  # "moto.acm.models:CertBundle.check"
    wrap: Callable[[Any], Any]  # the current attribute -> its replacement
    owner: str  # the declaring module, e.g. "helpers.sandbox.acm.validation"
    order: int | None = None  # among declarations of one target: lower is inner


class PatchConflict(Exception):
    """Two declarations replace one attribute and do not say which goes first."""


@dataclass
class _Applied:
    patch: Patch
    holder: Any  # the class or module whose attribute was replaced
    name: str
    saved: Any  # holder.__dict__[name] before, or _ABSENT


_ABSENT = object()
_lock = threading.RLock()
_applied: list[_Applied] = []
_complete = False  # every declaration is installed
_wanted = False  # a sandbox runs: lazy triggers may install


def read_declarations(modules: tuple[ModuleType, ...] = DECLARING_MODULES) -> list[Patch]:
    """Every declaration of ``modules``, checked, in installation order."""
    found: list[tuple[tuple[int, int, int], Patch]] = []
    for module_index, module in enumerate(modules):
        for index, entry in enumerate(getattr(module, "PATCHES", ())):
            target, wrap, *rest = entry
            if len(rest) > 1 or ":" not in target:
                raise ValueError(f"{module.__name__}: a declaration is (\"module:Qualified.name\", "
                                 f"wrap) or (target, wrap, order), not {entry!r}")
            patch = Patch(target, wrap, module.__name__, rest[0] if rest else None)
            found.append(((patch.order or 0, module_index, index), patch))
    patches = [patch for _, patch in sorted(found, key=lambda pair: pair[0])]
    check_orders(patches)
    return patches


def check_orders(patches: list[Patch]) -> None:
    """Raise :class:`PatchConflict` where declarations of one target lack distinct orders."""
    by_target: dict[str, list[Patch]] = {}
    for patch in patches:
        by_target.setdefault(patch.target, []).append(patch)
    for target, group in by_target.items():
        if len(group) < 2:
            continue
        orders = [patch.order for patch in group]
        if None in orders or len(set(orders)) != len(orders):
            owners = ", ".join(f"{p.owner} (order {p.order})" for p in group)
            raise PatchConflict(f"{target} is wrapped by {owners}: give each declaration "
                                "a distinct order (lower is installed first, the inner one)")


def resolve(target: str) -> tuple[Any, str]:
    """The object holding the target attribute, and the attribute's name."""
    module_name, _, path = target.partition(":")
    holder: Any = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for part in parents:
        holder = getattr(holder, part)
    return holder, name


def install() -> None:
    """Install every declaration (once), in the registry's one order."""
    global _complete
    with _lock:
        if _complete:
            return
        patches = read_declarations()
        seen: dict[tuple[int, str], str] = {}
        try:
            for patch in patches:
                holder, name = resolve(patch.target)
                spelled = seen.setdefault((id(holder), name), patch.target)
                if spelled != patch.target:  # one attribute, two spellings: orders unchecked
                    raise PatchConflict(f"{patch.target} and {spelled} are one attribute: "
                                        "declare both with the same target")
                saved = vars(holder).get(name, _ABSENT)
                replacement = patch.wrap(getattr(holder, name, None))
                setattr(holder, name, replacement)
                _applied.append(_Applied(patch, holder, name, saved))
            for module in DECLARING_MODULES:
                after = getattr(module, "after_patches", None)
                if after is not None:
                    after()
        except BaseException:
            _uninstall()
            raise
        _complete = True
        log.info("%d moto patches installed", len(_applied))


def uninstall() -> None:
    """Put back what every installed declaration replaced, in reverse order."""
    global _complete
    with _lock:
        _uninstall()
        _complete = False


def _uninstall() -> None:
    while _applied:
        applied = _applied.pop()
        if applied.saved is _ABSENT:
            delattr(applied.holder, applied.name)
        else:
            setattr(applied.holder, applied.name, applied.saved)


def installed() -> list[tuple[str, str]]:
    """``(target, owner)`` of each installed declaration, in installation order."""
    with _lock:
        return [(a.patch.target, a.patch.owner) for a in _applied]


def is_installed() -> bool:
    return _complete


def ensure() -> None:
    """Install now if a sandbox runs and it is not done yet (waits while it is under way)."""
    if _complete:
        return
    with _lock:
        if _wanted:
            install()


class MotoPatches:
    """The registry as a sandbox component: the first to start and the last to stop."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def start(self) -> None:
        global _wanted
        with _lock:
            _wanted = True
        self.ctx.add_intercept(self._intercept)
        # Installed by the server's warm-up thread (install_in_background), one import after
        # another: two threads importing moto's modules in different orders can deadlock.

    def stop(self) -> None:
        global _wanted
        with _lock:  # waits for an installation under way
            _wanted = False
            uninstall()

    @staticmethod
    def install_in_background() -> None:
        """What the server's warm-up thread does first (the first signed request waits)."""
        try:
            ensure()
        except Exception:  # the next request tries again, and says why
            log.exception("installing the moto patches failed")

    @staticmethod
    def _intercept(request: Any) -> Any:
        if request.path == admin_paths.PATCHES:
            from werkzeug.wrappers import Response

            return Response(json.dumps({"complete": is_installed(), "installed": installed()}),
                            mimetype="application/json")
        if not _complete and signing_service(request):
            ensure()
        return None
