"""The Lambda bundle is deterministic: same sources, same bytes, same S3 key."""

from __future__ import annotations

import io
import os
import shutil
import zipfile

import pytest

from helpers.aws.packaging import build_zip, code_key, source_files
from helpers.base.paths import LAMBDA_SRC


@pytest.fixture()
def sources(tmp_path):
    """A private copy of lambda_src/ to touch and change."""
    root = tmp_path / "lambda_src"
    shutil.copytree(LAMBDA_SRC, root, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


def names(bundle: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(bundle)).namelist()


def test_two_builds_of_the_same_sources_are_byte_identical():
    assert build_zip() == build_zip()


def test_touching_files_and_modes_changes_nothing(sources):
    before = build_zip(sources)
    for path in source_files(sources):
        os.utime(path, (1_900_000_000, 1_900_000_000))
        path.chmod(0o755)
    assert build_zip(sources) == before


def test_different_content_gives_a_different_key(sources):
    before = code_key(build_zip(sources))
    with (sources / "common.py").open("a") as handle:
        handle.write("\n# changed\n")
    after = code_key(build_zip(sources))
    assert after != before
    assert after.startswith("lambda/") and after.endswith(".zip")
    assert len(after) == len("lambda/") + 16 + len(".zip")


def test_bytecode_caches_are_left_out(sources):
    before = build_zip(sources)
    cache = sources / "__pycache__"
    cache.mkdir()
    (cache / "common.cpython-312.pyc").write_bytes(b"\x00bytecode")
    (sources / "stray.pyc").write_bytes(b"\x00bytecode")
    bundle = build_zip(sources)
    assert bundle == before
    assert not [n for n in names(bundle) if "__pycache__" in n or n.endswith(".pyc")]


def test_every_handler_module_is_at_the_top_of_the_zip():
    contents = names(build_zip())
    for module in ("common.py", "get_tickets.py", "post_ticket.py", "health_check.py",
                   "replicator.py"):
        assert module in contents
    assert contents == sorted(contents)
