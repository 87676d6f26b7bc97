"""Uploaded files on disk: `<data dir>/files/<sha256[:2]>/<sha256>`, 0600, written atomically.

A file is named by its content's SHA-256, never by the name it was uploaded with, so a name
cannot reach the file system (`../`, a device name, a shell character) and the same document
sent twice is stored once. A file is written before the transaction that records it: if that
transaction fails the file stays unreferenced, which is harmless; the reverse could not be.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from storage.files import open_private, private_dir


def path_of(root: Path, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256: {sha256!r}")
    return root / sha256[:2] / sha256


def put(root: Path, content: bytes) -> str:
    sha = hashlib.sha256(content).hexdigest()
    target = path_of(root, sha)
    if target.exists():
        return sha
    private_dir(target.parent)
    tmp = target.with_name(f".{sha}.{os.getpid()}.tmp")
    with os.fdopen(open_private(tmp), "wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return sha


def read(root: Path, sha256: str) -> bytes:
    return path_of(root, sha256).read_bytes()
