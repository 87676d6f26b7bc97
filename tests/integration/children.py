"""Child processes that die with the test that started them.

A daemon left behind by a failed or interrupted test would keep ticking: connecting to ports a
later test's SMTP server may get, and loading the machine a later run is timed on. The kernel
kills the child when its parent dies (Linux `PR_SET_PDEATHSIG`); teardown kills it otherwise.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from typing import Any

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def popen(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    if sys.platform == "linux":
        kwargs["preexec_fn"] = _die_with_parent
    return subprocess.Popen(args, **kwargs)


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=30)
