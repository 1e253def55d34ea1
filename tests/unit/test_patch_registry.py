"""moto and botocore are patched in one place, :mod:`helpers.sandbox.patches`.

Read from the source (``ast``): no module under ``helpers/`` but the registry assigns to
an attribute of something imported from ``moto`` or ``botocore`` (``X.attr = ...``,
``X.a.b = ...``, ``setattr(X, ...)``, ``delattr(X, ...)``, also inside functions). And the
declarations themselves: two that wrap one attribute say which goes first, and
uninstalling puts back exactly what was there.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parents[2] / "helpers"
REGISTRY = HELPERS / "sandbox" / "patches.py"
PATCHED_PACKAGES = ("moto", "botocore")


def _from_patched(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in PATCHED_PACKAGES


def _imported_names(tree: ast.AST) -> set[str]:
    """Names bound anywhere in the module to moto/botocore modules or their objects."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _from_patched(alias.name):
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _from_patched(node.module):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _root(node: ast.AST) -> str | None:
    """``a`` of ``a.b.c`` (None for anything else: a call, a subscript, ...)."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def violations(source: str, filename: str = "<source>") -> list[str]:
    """Where ``source`` assigns to an attribute of a moto or botocore object."""
    tree = ast.parse(source, filename)
    names = _imported_names(tree)
    found = []

    def flag(node: ast.AST, target: ast.AST) -> None:
        if _root(target) in names:
            found.append(f"{filename}:{node.lineno}: {ast.unparse(node).splitlines()[0]}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for target in targets:
                for part in ast.walk(target):  # a, X.b = ... and (X.a, X.b) = ...
                    if isinstance(part, ast.Attribute) and isinstance(part.ctx,
                                                                      ast.Store | ast.Del):
                        flag(node, part)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("setattr", "delattr") and node.args):
            flag(node, node.args[0])
    return found


def test_only_the_registry_assigns_to_moto_or_botocore_attributes():
    found = []
    for path in sorted(HELPERS.rglob("*.py")):
        if path != REGISTRY:
            found += violations(path.read_text(), str(path.relative_to(HELPERS.parent)))
    assert not found, ("declare these in the module's PATCHES for helpers.sandbox.patches "
                       "to install:\n" + "\n".join(found))


@pytest.mark.parametrize("source", [
    "from moto.acm.models import CertBundle\nCertBundle.check = lambda self: None\n",
    "def f():\n    from moto.cloudformation import parsing\n"
    "    parsing.ResourceMap.update = None\n",
    "import moto.s3.models as m\nm.FakeBucket.delete = None\n",
    "import botocore.session\nbotocore.session.Session.create_client = None\n",
    "from moto.awslambda.models import LambdaBackend\nsetattr(LambdaBackend, 'invoke', 1)\n",
    "from botocore import client\ndelattr(client.BaseClient, '_make_api_call')\n",
    "from moto.acm.models import CertBundle as C\nC.x, y = 1, 2\n",
])
def test_the_check_catches_each_kind_of_assignment(source):
    assert violations(source)


@pytest.mark.parametrize("source", [
    "from moto.acm.models import CertBundle\ncert = CertBundle()\nvalue = CertBundle.check\n",
    "from moto.acm.models import acm_backends\nsetattr(cert, 'sandbox_method', 'DNS')\n",
    "import boto3\nboto3.session.Session._setup_loader = None\n",  # not moto nor botocore
])
def test_the_check_lets_reads_and_other_objects_be(source):
    assert not violations(source)


def _fake_module(name: str, patches: tuple) -> object:
    import types

    module = types.ModuleType(name)
    module.PATCHES = patches  # type: ignore[attr-defined]
    return module


def test_two_declarations_of_one_attribute_need_distinct_orders():
    from helpers.sandbox import patches

    target = "moto.apigateway.models:APIGatewayBackend.create_domain_name"
    keep = lambda original: original  # noqa: E731
    for first, second in (((target, keep), (target, keep)),
                          ((target, keep, 1), (target, keep)),
                          ((target, keep, 1), (target, keep, 1))):
        with pytest.raises(patches.PatchConflict, match="create_domain_name"):
            patches.read_declarations((_fake_module("a", (first,)),
                                       _fake_module("b", (second,))))
    ordered = patches.read_declarations((_fake_module("a", ((target, keep, 2),)),
                                         _fake_module("b", ((target, keep, 1),))))
    assert [p.owner for p in ordered] == ["b", "a"]  # the lower order is installed first


def test_the_kits_declarations_are_ordered_where_they_share_an_attribute():
    from helpers.sandbox import patches

    declared = patches.read_declarations()  # raises PatchConflict otherwise
    targets = [p.target for p in declared]
    shared = {t for t in targets if targets.count(t) > 1}
    assert "moto.apigateway.models:APIGatewayBackend.create_domain_name" in shared
    for target in shared:
        owners = [p.owner for p in declared if p.target == target]
        # the uniqueness check (apigateway_domains) is outermost: installed last
        assert owners == ["helpers.sandbox.apigateway.executor",
                          "helpers.sandbox.apigateway.domains"]


def test_uninstall_puts_back_exactly_what_was_there():
    from helpers.sandbox import patches

    assert not patches.installed()
    declared = patches.read_declarations()
    absent = object()

    def current() -> dict[str, object]:
        out = {}
        for patch in declared:
            holder, name = patches.resolve(patch.target)
            out[patch.target] = vars(holder).get(name, absent)
        return out

    before = current()
    patches.install()
    try:
        assert patches.installed() == [(p.target, p.owner) for p in declared]
        during = current()
        assert all(during[target] is not before[target] for target in before)
    finally:
        patches.uninstall()
    after = current()
    assert not patches.installed()
    assert all(after[target] is before[target] for target in before), [
        target for target in before if after[target] is not before[target]]
