"""The daemon's side of `engine.cli.forward`: answer `nckh` commands sent over a Unix socket.

The daemon has imported SQLAlchemy, the workflows and the CLI's modules once; a command sent
here runs in this process through the same `nckh` entry point (`engine.cli.main.run`) in a
fresh context (its own App, built in about a millisecond once imported, closed after), so it
sees and changes the database exactly as a separate process would.

Who may send: the socket is the data directory's (0700) and itself 0600, and each connection's
peer must run as the daemon's own user (SO_PEERCRED): the same person who could open the
database file. The login the client sends is the operator recorded, as when it runs alone.

One command at a time, on one thread: a command's output is captured by swapping
`sys.stdout`/`sys.stderr`, which are process-wide. That is safe here because the daemon's own
output never goes through them at call time (its log handler holds the stderr it was given).
Stopping: `close()` stops taking commands, lets the one in hand finish and removes the socket.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import io
import json
import logging
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from engine import __version__
from engine.cli.forward import (
    FORWARDED,
    PROTOCOL,
    fingerprint,
    forwardable,
    peer_uid,
    read_all,
    socket_path,
    split_globals,
)
from engine.settings import Settings

log = logging.getLogger("nckh.commands")
ACCEPT_POLL_S = 0.2
MAX_REQUEST = 1024 * 1024  # a command line and its options


class CommandServer:
    request_timeout_s = 5.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.fingerprint = fingerprint(settings, __version__)
        self.path = socket_path(settings.data_dir)
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.served = 0  # commands run (not declined), for the tests and the log

    def __enter__(self) -> CommandServer:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> bool:
        """Listen, unless it cannot be done safely; the commands then simply run on their own."""
        if not hasattr(socket, "SO_PEERCRED"):
            return False  # cannot tell who connects: serve nobody
        try:
            listener = self._bind()
        except OSError as exc:
            log.warning("commands will not be served", extra={"fields": {
                "socket": str(self.path), "reason": str(exc)}})
            return False
        if listener is None:
            return False
        _warm_up()
        self._listener = listener
        self._thread = threading.Thread(target=self._serve, name="nckh-commands", daemon=True)
        self._thread.start()
        log.debug("serving commands", extra={"fields": {"socket": str(self.path)}})
        return True

    def close(self) -> None:
        """Stop taking commands: nobody new can connect (the socket's name goes first), the
        command in hand finishes, and those already waiting are declined, so their callers run
        them on their own instead of being told the daemon vanished."""
        if self._listener is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _bind(self) -> socket.socket | None:
        if self.path.exists():
            if _answers(self.path):
                log.warning("another daemon serves commands on this data directory",
                            extra={"fields": {"socket": str(self.path)}})
                return None
            self.path.unlink()  # left by a daemon that died
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # Created 0600 from the start (umask), not chmod-ed after: no window for others.
            old = os.umask(0o177)
            try:
                listener.bind(str(self.path))
            finally:
                os.umask(old)
            listener.listen(16)
            listener.settimeout(ACCEPT_POLL_S)
        except OSError:
            listener.close()
            raise
        return listener

    def _serve(self) -> None:
        assert self._listener is not None
        while True:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                if self._stop.is_set():
                    return  # and the backlog is empty
                continue
            except OSError:
                # Out of file descriptors, say: the thread must live on, or callers would
                # wait on a socket nobody accepts from.
                log.exception("accepting a command failed")
                if self._stop.wait(ACCEPT_POLL_S):
                    return
                continue
            with conn:
                try:
                    self._answer(conn)
                except Exception:
                    log.exception("command failed to be answered")

    def _answer(self, conn: socket.socket) -> None:
        # A caller that connects and sends nothing holds nobody up for long.
        conn.settimeout(self.request_timeout_s)
        try:
            data = read_all(conn, MAX_REQUEST)
        except (OSError, ValueError):
            return
        if not data:
            return  # a probe (`_answers`), or a caller that gave up before asking
        if peer_uid(conn) != os.getuid():
            reply: dict[str, Any] = {"declined": "another user"}
        elif self._stop.is_set():
            reply = {"declined": "stopping"}
        else:
            try:
                request = json.loads(data)
            except ValueError:
                request = None
            reply = self.execute(request)
        with contextlib.suppress(OSError):  # the caller gave up (Ctrl-C): the command stands
            conn.sendall(json.dumps(reply, ensure_ascii=False).encode())

    def execute(self, request: Any) -> dict[str, Any]:
        """Run one forwarded command and return its output and exit code, or decline it."""
        reason = self._refusal(request)
        if reason:
            return {"declined": reason}
        from engine.cli.context import Ctx

        now = dt.datetime.fromisoformat(request["now"]) if request["now"] else None
        ctx = Ctx(_settings=dataclasses.replace(self.settings, now=now), login=request["login"])
        # No command reads stdin; one that did would find it empty, not the daemon's.
        out, err = capture(), capture()
        saved_stdin, sys.stdin = sys.stdin, io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = _exit_code(list(request["args"]), ctx)
        finally:
            sys.stdin = saved_stdin
        self.served += 1
        log.info("command", extra={"fields": {
            "command": " ".join(request["args"][:3]), "login": request["login"], "exit": code}})
        return {"stdout": base64.b64encode(captured(out)).decode("ascii"),
                "stderr": captured(err).decode("utf-8", "replace"), "code": code}

    def _refusal(self, request: Any) -> str | None:
        if not isinstance(request, dict) or request.get("protocol") != PROTOCOL:
            return "another protocol"
        if request.get("settings") != self.fingerprint:
            return "other settings or version"
        args = request.get("args")
        if not (isinstance(args, list) and all(isinstance(a, str) for a in args)):
            return "malformed"
        if not isinstance(request.get("login"), str):
            return "malformed"
        now = request.get("now")
        if now is not None:
            try:
                dt.datetime.fromisoformat(now)
            except (TypeError, ValueError):
                return "malformed"
        # Only what a client would send: never `tick`, `daemon`, `web` or a file's path.
        if not forwardable(split_globals(args), args, {}):
            return "not a command the daemon answers"
        return None


def _exit_code(args: list[str], ctx: Any) -> int:
    from engine.cli.main import run

    try:
        result = run(args, ctx)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return 1
    except Exception as exc:
        # `run` re-raises when the daemon's own environment has NCKH_DEBUG: the caller still
        # gets its one line (and the daemon's log the traceback).
        log.exception("command raised")
        print(f"nckh: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0


def capture() -> io.TextIOWrapper:
    """A text stream with a `.buffer`, as a real stdout has (CSV listings write bytes there)."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")


def captured(stream: io.TextIOWrapper) -> bytes:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue()


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(ACCEPT_POLL_S * 5)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _warm_up() -> None:
    """Import the forwarded commands' modules now, so the first command is as quick as the rest."""
    import importlib

    from engine.cli.main import COMMANDS

    for group in FORWARDED:
        importlib.import_module(COMMANDS[group][0])
