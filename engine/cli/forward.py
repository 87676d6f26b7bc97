"""Hand a command to the running daemon, which answers it with everything already imported.

A fresh `nckh` process pays most of a second of imports (SQLAlchemy's alone is 2-3.6x the
whole of `nckh --help`) before its first query; the daemon has paid it once. So when a daemon
runs on the same database, the office's data-entry commands (`task`, `unit`, `person`,
`application`, `council`, `session`, `publication`, `outbox`, `calendar`, `status`) are sent
over a Unix socket in the data directory and run there, in-process, exactly as `nckh` would run
them here: same settings, same clock (`--now`/NCKH_NOW travel with the command), the same login
recorded as operator, the same output and exit code.

The command runs here instead, as before, whenever anything differs or is unsure: no daemon
(or a stale socket), another version of nckh, other settings (database, data directory,
config), NCKH_DEBUG set (tracebacks are shown here), `--help`, a command given a file (its path
means something in this shell's directory, not the daemon's; reports, which may write one or
print a workbook, always run here), or NCKH_LOCAL=1.
Only the protocol and the decision live here; this module must stay light (no SQLAlchemy),
or forwarding would cost what it saves. The daemon's side is `engine.cli.server`.

Protocol: one JSON request, the client shuts its side, one JSON reply, both close.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The rest is imported once a command is known to be forwardable: `--help` and the commands
# that always run here pay nothing for this module (about 12 ms for these five).
if TYPE_CHECKING:
    import socket

PROTOCOL = 1
SOCKET_NAME = "nckh.sock"
# group -> its sub-commands that always run here.
FORWARDED: dict[str, frozenset[str]] = {
    "task": frozenset(),
    "unit": frozenset({"import"}),  # reads a CSV file from the caller's directory
    "person": frozenset(),
    "application": frozenset(),
    "council": frozenset(),
    "session": frozenset(),
    "publication": frozenset(),
    "outbox": frozenset(),
    "calendar": frozenset(),
    "status": frozenset(),
}
# Options naming a file in the caller's directory: a command given one runs here.
FILE_OPTIONS = ("--file", "--minutes")


@dataclasses.dataclass(frozen=True)
class Invocation:
    """The global options of a command line, read as `nckh`'s root command reads them."""

    config: str | None
    env_file: str | None
    now_text: str | None
    command: list[str]  # the rest: group, sub-command, their options


def split_globals(args: Sequence[str]) -> Invocation:
    """`args` have had their global options hoisted to the front (`main.hoist_globals`)."""
    from engine.cli.main import GLOBAL_VALUE_OPTIONS  # loaded: it is what calls us

    values: dict[str, str | None] = dict.fromkeys(GLOBAL_VALUE_OPTIONS)
    i = 0
    while i < len(args) and args[i].startswith("--"):
        name, eq, value = args[i].partition("=")
        if name in GLOBAL_VALUE_OPTIONS:
            if not eq:
                i += 1
                value = args[i] if i < len(args) else ""
            values[name] = value
        elif name != "--json":
            break
        i += 1
    return Invocation(values["--config"], values["--env-file"], values["--now"], list(args[i:]))


def forwardable(inv: Invocation, args: Sequence[str], env: Mapping[str, str]) -> bool:
    if env.get("NCKH_LOCAL", "") not in ("", "0") or env.get("NCKH_DEBUG", "") not in ("", "0"):
        return False
    if any(a in ("-h", "--help", "--version") for a in args):
        return False
    if not inv.command or inv.command[0] not in FORWARDED:
        return False
    if any(a in FILE_OPTIONS or a.split("=", 1)[0] in FILE_OPTIONS for a in inv.command):
        return False
    group, *rest = inv.command
    if group == "status":  # a command, not a group
        return True
    if not rest:
        return False  # a group alone prints its help, at the width of this terminal
    return rest[0] not in FORWARDED[group]


def fingerprint(settings: Any, version: str) -> str:
    """Equal for two processes that would act on the same database with the same configuration
    (the clock aside, which travels with each command)."""
    fields = {f.name: _absolute(getattr(settings, f.name)) for f in dataclasses.fields(settings)
              if f.name != "now"}
    import hashlib
    import json

    text = json.dumps({"version": version, **fields}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _absolute(value: Any) -> Any:
    """A relative path (a file, or a SQLite URL's) means something else in another directory."""
    if isinstance(value, Path):
        return str(value.resolve())
    if isinstance(value, str) and value.startswith("sqlite:///") and value[10:11] != "/":
        file = value[10:]
        if file and not file.startswith(":memory:"):
            return "sqlite:///" + str(Path(file).resolve())
    return value


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


def forward(args: list[str], env: Mapping[str, str] | None = None) -> int | None:
    """Run `args` in the daemon and print its answer; None when the command must run here."""
    env = os.environ if env is None else env
    inv = split_globals(args)
    if not forwardable(inv, args, env):
        return None
    path, request = _request(inv, args, env)
    if path is None:
        return None
    reply = _exchange(path, request)
    if reply is None or "declined" in reply:
        return None
    import base64

    out = base64.b64decode(str(reply.get("stdout", "")))
    sys.stdout.flush()
    if hasattr(sys.stdout, "buffer"):
        sys.stdout.buffer.write(out)
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(out.decode("utf-8", "replace"))
    sys.stderr.write(str(reply.get("stderr", "")))
    sys.stderr.flush()
    code = reply.get("code", 1)
    return code if isinstance(code, int) else 1


def _request(inv: Invocation, args: list[str],
             env: Mapping[str, str]) -> tuple[Path | None, bytes]:
    import json

    from engine import __version__
    from engine.cli.context import os_login
    from engine.settings import load_settings

    try:
        settings = load_settings(env=env, config_file=inv.config, now_text=inv.now_text,
                                 env_file=inv.env_file)
    except Exception:  # run here, where the error is reported as it always is
        return None, b""
    request = {"protocol": PROTOCOL, "settings": fingerprint(settings, __version__),
               "now": settings.now.isoformat() if settings.now else None,
               "login": os_login(), "args": args}
    return socket_path(settings.data_dir), json.dumps(request, ensure_ascii=False).encode()


def _exchange(path: Path, request: bytes) -> dict[str, Any] | None:
    """Send, read the whole reply. A daemon that is not there is not an error (None: run here).
    One that vanishes after taking the command is: it may or may not have run it, and running
    it again here could do it twice."""
    import json
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.settimeout(2.0)
            # No socket, or a directory this user may not enter: no daemon to ask.
            sock.connect(str(path))
            if peer_uid(sock) != os.getuid():
                return None  # a socket someone else planted: tell it nothing
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(None)  # a command takes what it takes
        except OSError:
            return None
        try:
            data = read_all(sock, None)
        except OSError:
            data = b""
    if not data:
        from workflows.errors import NckhError

        raise NckhError("the daemon stopped before answering this command; it may or may not "
                        "have been carried out: look before running it again (e.g. `nckh task "
                        "show`)")
    reply = json.loads(data)
    return reply if isinstance(reply, dict) else None


def read_all(sock: socket.socket, limit: int | None) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := sock.recv(65536):
        chunks.append(chunk)
        size += len(chunk)
        if limit is not None and size > limit:
            raise ValueError("message too large")
    return b"".join(chunks)


def peer_uid(sock: socket.socket) -> int | None:
    """The user the other end of a Unix socket runs as (None where the system cannot tell).
    Each side talks only to its own user: the daemon checks the caller, the caller the daemon."""
    import socket
    import struct

    if not hasattr(socket, "SO_PEERCRED"):
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])
