"""Content-addressed evidence storage: a file's name on disk is its SHA-256.

Blobs are written before the filing transaction and never rewritten, so a failed transaction
leaves at most an unreferenced blob, and a stored blob can always be checked against its hash.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def blob_path(root: Path, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return root / sha256[:2] / sha256


def store_blob(root: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(root, digest)
    if path.exists():
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write to a temporary file and rename, so a reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def read_blob(root: Path, sha256: str) -> bytes:
    return blob_path(root, sha256).read_bytes()


def blobs_older_than(root: Path, cutoff: float) -> dict[str, Path]:
    """Stored blobs last written before `cutoff` (a POSIX timestamp), by their hash."""
    if not root.exists():
        return {}
    return {
        path.name: path
        for path in root.glob("??/*")
        if len(path.name) == 64 and not path.name.startswith(".") and path.stat().st_mtime < cutoff
    }
