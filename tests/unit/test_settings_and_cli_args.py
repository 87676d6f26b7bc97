"""Settings (env beats file beats defaults), `--now` parsing and global options anywhere."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.cli.main import hoist_globals
from engine.settings import load_settings
from workflows.clock import DEFAULT_TZ, FixedClock, TestClock, parse_date, parse_datetime
from workflows.errors import InputError


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "nckh.toml"
    path.write_text(
        '[nckh]\ndata_dir = "/srv/from-file"\ndatabase_url = "sqlite:////srv/file.db"\n'
        'timezone = "Asia/Bangkok"\nnow = "2025-01-01T08:00"\n'
        '[smtp]\nhost = "mail.file.vn"\nport = 2525\n[scheduler]\nquota_check = "off"\n',
        encoding="utf-8")
    return path


def test_defaults_put_the_sqlite_file_in_the_data_directory() -> None:
    s = load_settings(env={"HOME": "/home/hoa"})
    assert s.data_dir == Path("/home/hoa/.local/share/nckh")
    assert s.database_url == "sqlite:////home/hoa/.local/share/nckh/nckh.db"
    assert (s.timezone, s.now, s.config_file) == ("Asia/Ho_Chi_Minh", None, None)


def test_the_config_file_beats_the_defaults(config: Path) -> None:
    s = load_settings(env={"NCKH_CONFIG": str(config)})
    assert (s.data_dir, s.database_url, s.timezone) == (
        Path("/srv/from-file"), "sqlite:////srv/file.db", "Asia/Bangkok")
    assert (s.smtp_host, s.smtp_port) == ("mail.file.vn", 2525)
    assert s.now == dt.datetime(2025, 1, 1, 8, tzinfo=ZoneInfo("Asia/Bangkok"))
    assert s.section("scheduler") == {"quota_check": "off"}


def test_the_environment_beats_the_config_file(config: Path) -> None:
    s = load_settings(env={
        "NCKH_CONFIG": str(config), "NCKH_DATA_DIR": "/data/env",
        "NCKH_DATABASE_URL": "postgresql://db/nckh", "NCKH_TIMEZONE": "Asia/Ho_Chi_Minh",
        "NCKH_NOW": "2025-04-16T10:30", "NCKH_SMTP_PORT": "587",
    })
    assert (s.data_dir, s.database_url, s.timezone) == (
        Path("/data/env"), "postgresql://db/nckh", "Asia/Ho_Chi_Minh")
    assert s.now == dt.datetime(2025, 4, 16, 10, 30, tzinfo=DEFAULT_TZ)
    assert (s.smtp_host, s.smtp_port) == ("mail.file.vn", 587)


def test_explicit_arguments_beat_the_environment(config: Path) -> None:
    s = load_settings(env={"NCKH_NOW": "2025-04-16", "NCKH_DATABASE_URL": "sqlite:////env.db"},
                      config_file=str(config), now_text="2025-05-01T07:00",
                      database_url="sqlite:////arg.db")
    assert s.now == dt.datetime(2025, 5, 1, 7, tzinfo=ZoneInfo("Asia/Bangkok"))
    assert s.database_url == "sqlite:////arg.db"


def test_an_empty_environment_variable_does_not_override_the_file(config: Path) -> None:
    s = load_settings(env={"NCKH_CONFIG": str(config), "NCKH_DATA_DIR": ""})
    assert s.data_dir == Path("/srv/from-file")


def test_the_data_directory_moves_the_default_database() -> None:
    s = load_settings(env={"NCKH_DATA_DIR": "/var/lib/nckh"})
    assert s.database_url == "sqlite:////var/lib/nckh/nckh.db"


@pytest.mark.parametrize(("env", "message"), [
    ({"NCKH_TIMEZONE": "Asia/Hanoi_City"}, r"unknown time zone 'Asia/Hanoi_City'"),
    ({"NCKH_NOW": "16.04.2025"}, r"invalid --now/NCKH_NOW '16.04.2025': expected DD/MM/YYYY"),
    ({"NCKH_SMTP_PORT": "smtp"}, r"invalid SMTP port 'smtp'"),
    ({"NCKH_SMTP_TLS": "ssl"}, r"invalid NCKH_SMTP_TLS 'ssl'"),
    ({"NCKH_CONFIG": "/nonexistent/nckh.toml"}, r"config file not found: /nonexistent/nckh.toml"),
])
def test_bad_settings_are_input_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_settings(env=env)


def test_a_config_file_that_is_not_toml_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[nckh\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^config file .*bad.toml: "):
        load_settings(env={"NCKH_CONFIG": str(bad)})


def test_the_smtp_password_stays_out_of_the_repr() -> None:
    s = load_settings(env={"NCKH_SMTP_PASSWORD": "bí-mật"})
    assert s.smtp_password == "bí-mật"
    assert "bí-mật" not in repr(s)


# --- --now and other datetimes -----------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("2025-04-16", dt.datetime(2025, 4, 16, 0, 0, tzinfo=DEFAULT_TZ)),
    ("2025-04-16T10:30", dt.datetime(2025, 4, 16, 10, 30, tzinfo=DEFAULT_TZ)),
    (" 2025-04-16 10:30:15 ", dt.datetime(2025, 4, 16, 10, 30, 15, tzinfo=DEFAULT_TZ)),
    ("2025-04-16T03:30+00:00", dt.datetime(2025, 4, 16, 10, 30, tzinfo=DEFAULT_TZ)),
])
def test_now_is_local_time_unless_an_offset_is_given(text: str, expected: dt.datetime) -> None:
    value = parse_datetime(text)
    assert value == expected
    assert value.tzinfo is not None


def test_an_explicit_offset_is_kept_as_given() -> None:
    assert parse_datetime("2025-04-16T03:30+00:00").utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("text", ["2025-13-01", "yesterday", "04/16/2025", "2025/04/16",
                                  "16-04-2025", "16/04/25", "2025-04-16T25:00", ""])
def test_a_bad_datetime_names_what_it_was_and_the_expected_form(text: str) -> None:
    with pytest.raises(InputError, match=rf"^invalid --at '{text}': expected DD/MM/YYYY \[HH:MM\] "
                                         r"\(or YYYY-MM-DD"):
        parse_datetime(text, what="--at")


def test_a_bad_date_is_an_input_error() -> None:
    assert parse_date("2025-02-28") == dt.date(2025, 2, 28)
    with pytest.raises(InputError, match=r"^invalid date '2025-02-29': expected DD/MM/YYYY "
                                         r"\(or YYYY-MM-DD\)$"):
        parse_date("2025-02-29")
    with pytest.raises(InputError, match=r"^invalid date '29/02/2025': expected DD/MM/YYYY"):
        parse_date("29/02/2025")
    with pytest.raises(InputError, match=r"^invalid date '1/13/2025': expected DD/MM/YYYY"):
        parse_date("1/13/2025")


@pytest.mark.parametrize("text", ["31/03/2025", "31/3/2025", " 31/03/2025 ", "2025-03-31"])
def test_a_day_is_read_as_the_office_writes_it_or_in_iso(text: str) -> None:
    assert parse_date(text) == dt.date(2025, 3, 31)


def test_day_then_month_never_month_then_day() -> None:
    assert parse_date("04/05/2025") == dt.date(2025, 5, 4)


@pytest.mark.parametrize(("text", "moment"), [
    ("16/04/2025", dt.datetime(2025, 4, 16, 0, 0)),
    ("16/04/2025 08:30", dt.datetime(2025, 4, 16, 8, 30)),
    ("16/4/2025 8:30:15", dt.datetime(2025, 4, 16, 8, 30, 15)),
    ("2025-04-16T08:30", dt.datetime(2025, 4, 16, 8, 30)),
])
def test_a_moment_is_read_dd_mm_yyyy_with_an_optional_time(text: str,
                                                           moment: dt.datetime) -> None:
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    assert parse_datetime(text, tz) == moment.replace(tzinfo=tz)


def test_a_dd_mm_yyyy_date_out_of_range_shows_what_was_typed() -> None:
    with pytest.raises(InputError, match=r"^--as-of 01/01/2101 is out of range"):
        parse_date("01/01/2101", what="--as-of")


def test_a_fixed_clock_always_answers_the_same_aware_instant() -> None:
    at = dt.datetime(2025, 4, 16, 10, tzinfo=DEFAULT_TZ)
    assert FixedClock(at).now() == at
    with pytest.raises(ValueError, match="aware"):
        FixedClock(dt.datetime(2025, 4, 16))


def test_the_test_clock_moves_forward_and_refuses_to_go_back() -> None:
    clock = TestClock(dt.datetime(2025, 1, 1, tzinfo=DEFAULT_TZ))
    clock.advance(dt.timedelta(days=1))
    assert clock.now() == dt.datetime(2025, 1, 2, tzinfo=DEFAULT_TZ)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(dt.datetime(2025, 1, 1, tzinfo=DEFAULT_TZ))


# --- global options anywhere -------------------------------------------------------------------
@pytest.mark.parametrize(("argv", "expected"), [
    (["task", "show", "1", "--now", "2025-04-16"], ["--now", "2025-04-16", "task", "show", "1"]),
    (["task", "show", "1", "--now=2025-04-16"], ["--now=2025-04-16", "task", "show", "1"]),
    (["task", "list", "--config", "c.toml", "--now", "2025-04-16", "--json"],
     ["--config", "c.toml", "--now", "2025-04-16", "task", "list", "--json"]),
    (["--now", "2025-04-16", "task", "list"], ["--now", "2025-04-16", "task", "list"]),
    (["task", "fire", "1", "x", "--", "--now", "y"],
     ["task", "fire", "1", "x", "--", "--now", "y"]),
    (["task", "new", "--title", "--now là tên"], ["task", "new", "--title", "--now là tên"]),
    ([], []),
])
def test_global_options_are_hoisted_before_the_command(argv: list[str],
                                                       expected: list[str]) -> None:
    assert hoist_globals(argv) == expected
