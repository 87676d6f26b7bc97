"""Private files and directories: what nckh creates is 0600 (files) or 0700 (directories),
whatever the umask.

The data directory holds the database (names, e-mail addresses, the whole record) and the e-mails
themselves, so nothing nckh creates is readable by other local users. `open(…, mode)` and
`mkdir(mode)` are both masked by the umask, which can only take permissions away: the mode is
set again with `chmod` after creating. Only what nckh creates is touched: an existing directory or
file keeps the mode its administrator gave it (a group-readable database for a read-only account,
systemd's `StateDirectoryMode`).
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create `path` and its missing parents, each 0700; an existing directory is left as is."""
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made meanwhile by another process: theirs, leave it
            continue
        os.chmod(directory, DIR_MODE)
    return path


def create_private(path: Path) -> bool:
    """Create `path` as an empty 0600 file unless it exists; True when this call created it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return True


def open_private(path: Path) -> int:
    """Open `path` for writing (created or truncated), mode 0600: a file descriptor to wrap with
    `os.fdopen`. A file that was there is truncated and made 0600 too: callers write it afresh
    (a temporary file before its rename)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd
