"""Commands answered by the daemon (`engine.cli.forward`, `engine.cli.server`): the same output,
exit code and database as when they run alone; anything unsure runs alone; a daemon that vanishes
mid-command is one line, never a second run.

The server runs in this process on a real socket and a real SQLite file; the commands go through
`engine.cli.main.main`, as the console script calls it. The daemon as a real process is in
`test_daemon.py`.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.app import build
from engine.cli.forward import forward, socket_path
from engine.cli.server import CommandServer
from engine.directory import UnitInput
from engine.settings import load_settings
from tests.acceptance.cli import Ran, cli_env, copy_db, dump
from tests.acceptance.cli import nckh_in_process as nckh
from tests.conftest import local

OFFICE = "nghiepvuy@syt.example.vn"
HEAD = "giamdoc@bvdk.example.vn"
PI = "binh.lv@bvdk.example.vn"
NOW = "2025-06-02T09:00"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Unit BVDK, the office, task 1 proposed and task 2 in progress."""
    data = tmp_path_factory.mktemp("template")
    app = build(load_settings(env={"NCKH_DATA_DIR": str(data),
                                   "NCKH_DATABASE_URL": f"sqlite:///{data / 'nckh.db'}"}))
    e, t0 = app.engine, local(2025, 2, 3)
    e.add_unit(UnitInput("BVDK", "Bệnh viện Đa khoa tỉnh", "TS.BS Nguyễn Thị Hằng", HEAD), now=t0)
    e.add_person(email=OFFICE, name="Phòng Nghiệp vụ Y", role="office", now=t0)
    for title in ("Đề tài đề xuất", "Đề tài đang làm"):
        e.create_task(unit_code="BVDK", level="unit", title=title, pi_email=PI,
                      pi_name="ThS.BS Lê Văn Bình", year=2025, now=t0)
    e.fire(2, "approve_outline", actor_email=OFFICE, now=local(2025, 3, 1))
    e.fire(2, "start", actor_email=HEAD, now=local(2025, 3, 2))
    app.close()
    return data / "nckh.db"


@pytest.fixture
def data(template: Path, tmp_path: Path) -> Path:
    # A short directory: a Unix socket's path has at most 107 bytes.
    return copy_db(template, tmp_path / "d").parent


def env_for(data: Path, **extra: str) -> dict[str, str]:
    return cli_env(data, NOW, LOGNAME="thu.nt", USER="thu.nt", **extra)


@pytest.fixture
def server(data: Path) -> Iterator[CommandServer]:
    settings = load_settings(env=env_for(data))
    with CommandServer(settings) as served:
        assert served.path.exists()
        yield served
    assert not socket_path(data).exists()  # removed on close


def both(data: Path, server: CommandServer, *args: str) -> tuple[Ran, Ran]:
    """The command answered by the server, then the same command run alone on a copy of the
    database as it was before."""
    before = dump(data / "nckh.db")
    served_before = server.served
    forwarded = nckh(env_for(data), *args)
    assert server.served == served_before + 1, "the command was not sent to the server"
    after_forwarded = dump(data / "nckh.db")
    # Put the database back and run it here.
    _restore(data / "nckh.db", before)
    alone = nckh(env_for(data, NCKH_LOCAL="1"), *args)
    assert server.served == served_before + 1
    assert dump(data / "nckh.db") == after_forwarded
    return forwarded, alone


def _restore(db: Path, tables: dict[str, list[tuple[object, ...]]]) -> None:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        for name, rows in tables.items():
            conn.execute(f'DELETE FROM "{name}"')
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                conn.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize("args", [
    ("task", "list"),
    ("--json", "task", "show", "2"),
    ("task", "events", "2", "--as", HEAD),
    ("unit", "list", "--json"),
    ("person", "list"),
    ("status",),
    ("task", "fire", "2", "extend", "--as", HEAD, "--reason", "Bổ sung cỡ mẫu",
     "--set", "until=2026-03-31"),
    ("task", "fire", "1", "approve_outline", "--as", OFFICE, "--now", "2025-03-04T10:00"),
    ("person", "add", "--email", "lan.lt@bvdk.example.vn", "--name", "Lê Thị Lan",
     "--role", "council"),
    ("task", "fire", "99", "start", "--as", HEAD),            # unknown task: exit 2
    ("task", "fire", "1", "start", "--as", HEAD),             # not from this state: exit 3
    ("task", "list", "--year", "twenty"),                     # bad usage: exit 2
    ("application", "list", "--csv"),                         # bytes on stdout
    ("session", "list"),
    ("publication", "list", "--json"),
    ("outbox", "list"),
    ("calendar", "days-off", "--year", "2025"),
], ids=lambda a: " ".join(a[:3]))
def test_a_command_answered_by_the_daemon_is_exactly_the_command_run_alone(
        data: Path, server: CommandServer, args: tuple[str, ...]) -> None:
    forwarded, alone = both(data, server, *args)
    assert forwarded == alone
    assert (forwarded.returncode == 0) == (forwarded.stderr == "")


def test_the_clock_and_the_login_travel_with_the_command(data: Path,
                                                          server: CommandServer) -> None:
    ran = nckh(env_for(data) | {"NCKH_NOW": "2025-07-01T08:00", "LOGNAME": "hoa.pt"},
               "person", "add", "--email", "lan.lt@bvdk.example.vn", "--name", "Lê Thị Lan",
               "--role", "council")
    assert ran.returncode == 0, ran.stderr
    assert server.served == 1
    shown = nckh(env_for(data), "person", "show", "lan.lt@bvdk.example.vn")
    assert "2025-07-01 08:00  added         by hoa.pt" in shown.stdout, shown.stdout
    # The server is in this process, where the environment was the client's for that call:
    # send a login that is nobody's environment to see that the request's own is recorded.
    answer = server.execute({"protocol": 1, "settings": server.fingerprint, "now": None,
                             "login": "nguoi.go.lenh", "args": [
                                 "person", "deactivate", "lan.lt@bvdk.example.vn",
                                 "--reason", "Nghỉ hưu"]})
    assert answer["code"] == 0, answer
    shown = nckh(env_for(data), "person", "show", "lan.lt@bvdk.example.vn")
    assert "by nguoi.go.lenh" in shown.stdout, shown.stdout


@pytest.mark.parametrize(("args", "extra"), [
    (("task", "list"), {"NCKH_LOCAL": "1"}),
    (("task", "list"), {"NCKH_DEBUG": "1"}),
    (("task", "list", "--help"), {}),
    (("task",), {}),
    (("unit", "import", "units.csv"), {}),
    (("report", "compliance"), {}),
    (("session", "add", "--unit", "BVDK", "--file", "bien-ban.pdf"), {}),
    (("council", "outcome", "2", "--minutes=bien-ban.pdf"), {}),
    (("task", "list"), {"NCKH_TIMEZONE": "Asia/Bangkok"}),  # other settings: declined
], ids=["local", "debug", "help", "group-help", "file", "not-forwarded", "file-option",
        "file-option=", "other-settings"])
def test_these_commands_run_alone(data: Path, server: CommandServer, args: tuple[str, ...],
                                  extra: dict[str, str]) -> None:
    nckh(env_for(data, **extra), *args)
    assert server.served == 0


def test_with_no_daemon_or_a_dead_ones_socket_the_command_runs_alone(data: Path) -> None:
    env = env_for(data)
    assert forward(["task", "list"], env) is None  # no socket at all
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(socket_path(data)))
    dead.close()  # the file stays, nobody listens: a daemon killed with SIGKILL
    assert forward(["task", "list"], env) is None
    ran = nckh(env, "task", "list")
    assert ran.returncode == 0 and "Đề tài đang làm" in ran.stdout
    # A new daemon takes the dead one's place.
    with CommandServer(load_settings(env=env)) as served:
        assert nckh(env, "task", "list") == ran
        assert served.served == 1


def test_a_daemon_that_vanishes_mid_command_is_one_line_and_no_second_run(data: Path) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(socket_path(data)))
    listener.listen(1)

    def take_and_drop() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=take_and_drop)
    thread.start()
    before = dump(data / "nckh.db")
    ran = nckh(env_for(data), "task", "fire", "2", "extend", "--as", HEAD, "--reason", "Trễ",
               "--set", "until=2026-03-31")
    thread.join()
    listener.close()
    assert ran.returncode == 1 and ran.stdout == ""
    assert ran.stderr.startswith("nckh: the daemon stopped before answering this command")
    assert ran.stderr.count("\n") == 1
    assert dump(data / "nckh.db") == before  # not run again here


@pytest.mark.parametrize("request_", [
    {}, [], {"protocol": 99},
    {"protocol": 1, "settings": "0" * 64, "now": None, "login": "x", "args": ["task", "list"]},
], ids=["empty", "not-an-object", "protocol", "settings"])
def test_a_request_the_daemon_cannot_trust_is_declined(server: CommandServer,
                                                       request_: object) -> None:
    assert "declined" in server.execute(request_)
    assert server.served == 0


def test_a_malformed_request_with_the_right_settings_is_declined(server: CommandServer) -> None:
    good = {"protocol": 1, "settings": server.fingerprint, "now": None, "login": "x",
            "args": ["task", "list"]}
    for bad in ({**good, "args": "task list"}, {**good, "args": [1]}, {**good, "login": None},
                {**good, "now": 5}, {**good, "now": "yesterday"},
                # What no client sends: commands that must not run inside the daemon.
                {**good, "args": ["tick"]}, {**good, "args": ["daemon"]},
                {**good, "args": ["web"]}, {**good, "args": ["unit", "import", "x.csv"]},
                {**good, "args": ["report", "compliance", "--output", "x.xlsx"]}):
        assert "declined" in server.execute(bad), bad
    assert server.served == 0
    assert server.execute(good)["code"] == 0
    assert server.served == 1


def test_a_second_server_on_the_same_data_directory_leaves_the_first_alone(
        data: Path, server: CommandServer) -> None:
    second = CommandServer(load_settings(env=env_for(data)))
    assert second.open() is False
    second.close()
    assert socket_path(data).exists()
    assert nckh(env_for(data), "task", "list").returncode == 0
    assert server.served == 1


def test_a_caller_that_connects_and_says_nothing_holds_nobody_up(
        data: Path, server: CommandServer) -> None:
    server.request_timeout_s = 0.3
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.connect(str(server.path))
        ran = nckh(env_for(data), "task", "list")
        assert ran.returncode == 0 and "Đề tài đang làm" in ran.stdout
        assert server.served == 1


def test_an_error_the_daemon_would_show_as_a_traceback_is_still_one_line(
        server: CommandServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """NCKH_DEBUG in the daemon's environment (its env file) makes `run` re-raise."""
    def broken(args: list[str], obj: object = None) -> None:
        raise RuntimeError("boom")

    monkeypatch.setenv("NCKH_DEBUG", "1")
    monkeypatch.setattr("engine.cli.main.run", broken)
    answer = server.execute({"protocol": 1, "settings": server.fingerprint, "now": None,
                             "login": "x", "args": ["task", "list"]})
    assert (answer["code"], answer["stderr"]) == (1, "nckh: internal error: RuntimeError: boom\n")


def test_an_answer_of_any_size_arrives_whole(data: Path) -> None:
    """A listing of thousands of tasks is several megabytes."""
    big = ("x" * 99 + "\n") * 60_000  # 6 MB
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(socket_path(data)))
    listener.listen(1)

    def answer() -> None:
        conn, _ = listener.accept()
        with conn:
            while conn.recv(65536):
                pass
            conn.sendall(json.dumps({"stdout": base64.b64encode(big.encode()).decode(),
                                     "stderr": "", "code": 0}).encode())

    thread = threading.Thread(target=answer)
    thread.start()
    ran = nckh(env_for(data), "task", "list")
    thread.join()
    listener.close()
    assert (ran.returncode, ran.stderr) == (0, "")
    assert ran.stdout == big
