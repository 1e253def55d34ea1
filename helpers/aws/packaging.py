"""Deterministic packaging of ``lambda_src/``: same sources, same bytes.

Fixed timestamps, permissions and file order mean an unchanged source tree
gives the same zip and the same content-addressed S3 key, so CloudFormation
sees no change and a redeploy is a no-op.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from helpers.base.paths import LAMBDA_SRC

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
_SKIP_DIRS = {"__pycache__", ".pytest_cache"}


def source_files(root: Path = LAMBDA_SRC) -> list[Path]:
    files = [
        p for p in root.rglob("*")
        if p.is_file() and not _SKIP_DIRS.intersection(p.relative_to(root).parts)
        and p.suffix not in {".pyc", ".pyo"}
    ]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def build_zip(root: Path = LAMBDA_SRC) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in source_files(root):
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=_EPOCH)
            info.external_attr = 0o644 << 16  # rw-r--r--, whatever the checkout says
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the attributes above are honoured
            zf.writestr(info, path.read_bytes())
    return buffer.getvalue()


def code_key(zip_bytes: bytes) -> str:
    """The S3 key for a code bundle, named by its content."""
    return f"lambda/{hashlib.sha256(zip_bytes).hexdigest()[:16]}.zip"
