"""The env file (`--env-file` / `NCKH_ENV_FILE`): what it accepts, what it refuses, what wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.envfile import read_env_file
from engine.settings import load_settings
from workflows.errors import InputError


def env_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "nckh.env"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_key_value_lines_comments_blanks_and_quotes_are_read(tmp_path: Path) -> None:
    path = env_file(tmp_path, (
        "# secrets of the nckh service\n"
        "\n"
        "NCKH_DATABASE_URL=postgresql://nckh:s3cr%40t@db.soyte.vn:5432/nckh\n"
        "  NCKH_SMTP_USER = nckh@soyte.vn  \n"
        "; a systemd-style comment\n"
        'NCKH_SMTP_PASSWORD="pa ss \\"quoted\\" \\\\ end"\n'
        "NCKH_MAIL_FROM='Phòng Nghiệp vụ Y <nvy@soyte.vn>'\n"
        "NCKH_OFFICE_EMAIL=\n"
        "NCKH_SMTP_USER=last@soyte.vn\n"))
    assert read_env_file(path) == {
        "NCKH_DATABASE_URL": "postgresql://nckh:s3cr%40t@db.soyte.vn:5432/nckh",
        "NCKH_SMTP_USER": "last@soyte.vn",
        "NCKH_SMTP_PASSWORD": 'pa ss "quoted" \\ end',
        "NCKH_MAIL_FROM": "Phòng Nghiệp vụ Y <nvy@soyte.vn>",
        "NCKH_OFFICE_EMAIL": "",
    }


@pytest.mark.parametrize(("text", "message"), [
    ("NCKH_SMTP_HOST=mail.soyte.vn\nPATH=/tmp/evil\n",
     r"^env file .*nckh.env, line 2: only NCKH_\* settings are read from an env file, "
     r"not 'PATH'$"),
    ("LD_PRELOAD=/tmp/x.so\n", r"line 1: only NCKH_\* settings .* not 'LD_PRELOAD'$"),
    ("export NCKH_SMTP_HOST=mail\n", r"line 1: only NCKH_\* settings .* not 'export NCKH_SMTP_"),
    ("nckh_smtp_host=mail\n", r"line 1: only NCKH_\* settings .* not 'nckh_smtp_host'$"),
    ("# ok\nNCKH_SMTP_HOST\n", r"line 2: expected KEY=VALUE$"),
    ("=value\n", r"line 1: expected KEY=VALUE$"),
    ("NCKH_SMTP_PASSWORD=\"unfinished\n", r"line 1: unterminated quote$"),
    ("NCKH_ENV_FILE=/etc/other.env\n", r"line 1: an env file cannot name another env file$"),
])
def test_a_line_it_cannot_take_is_one_input_error_naming_the_line(
        tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        read_env_file(env_file(tmp_path, text))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("text", [
    "NCKH_SMTP_PASSWORD=hunter2\n",
    "NCKH_DATABASE_URL=postgresql://nckh:hunter2@db/nckh\n",
    "NCKH_DATABASE_URL=postgresql+psycopg://nckh:hunter2@db:5432/nckh?sslmode=require\n",
])
def test_a_world_readable_file_holding_a_password_is_refused(tmp_path: Path, text: str) -> None:
    path = env_file(tmp_path, text, mode=0o644)
    with pytest.raises(InputError, match=r"holds a password \(NCKH_\w+\) and every local user "
                                         r"may read it \(mode 0644\): chmod 600 .*nckh.env"):
        read_env_file(path)


@pytest.mark.parametrize(("text", "mode"), [
    ("NCKH_SMTP_PASSWORD=hunter2\n", 0o600),
    ("NCKH_SMTP_PASSWORD=hunter2\n", 0o640),
    ("NCKH_DATABASE_URL=postgresql://nckh@db/nckh\nNCKH_SMTP_PASSWORD=\n", 0o644),
])
def test_a_private_file_or_one_without_a_password_is_accepted(
        tmp_path: Path, text: str, mode: int) -> None:
    assert read_env_file(env_file(tmp_path, text, mode=mode))


def test_a_missing_a_binary_or_a_directory_env_file_is_one_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^env file not found: .*missing.env$"):
        read_env_file(tmp_path / "missing.env")
    with pytest.raises(InputError, match=r"^env file .*: not a regular file$"):
        read_env_file(tmp_path)
    binary = tmp_path / "binary.env"
    binary.write_bytes(b"NCKH_SMTP_HOST=\xff\xfe\n")
    with pytest.raises(InputError, match=r"^env file .*binary.env: not UTF-8 text \(byte 15\)$"):
        read_env_file(binary)


def test_the_environment_beats_the_env_file_which_beats_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "nckh.toml"
    config.write_text('[smtp]\nhost = "from-config"\nuser = "config-user"\nport = 25\n'
                      '[mail]\nmail_from = "config@soyte.vn"\n', encoding="utf-8")
    path = env_file(tmp_path, (
        f"NCKH_CONFIG={config}\nNCKH_SMTP_HOST=from-env-file\nNCKH_SMTP_PASSWORD=from-env-file\n"
        "NCKH_SMTP_PORT=587\nNCKH_DATA_DIR=/srv/env-file\n"))
    s = load_settings(env={"NCKH_ENV_FILE": str(path), "NCKH_SMTP_PORT": "2525",
                           "NCKH_DATA_DIR": ""})
    assert s.config_file == config  # the file may name the config file
    assert (s.smtp_host, s.smtp_password, s.smtp_user) == (
        "from-env-file", "from-env-file", "config-user")
    assert s.smtp_port == 2525  # the real environment wins
    assert s.data_dir == Path("/srv/env-file")  # an empty variable overrides nothing
    assert s.mail_from == "config@soyte.vn"


def test_the_option_beats_the_variable_naming_the_env_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = env_file(tmp_path / "a", "NCKH_SMTP_HOST=a\n")
    b = env_file(tmp_path / "b", "NCKH_SMTP_HOST=b\n")
    assert load_settings(env={"NCKH_ENV_FILE": str(a)}, env_file=str(b)).smtp_host == "b"
    assert load_settings(env={"NCKH_ENV_FILE": str(a)}).smtp_host == "a"
    assert load_settings(env={}).smtp_host is None
