"""The `[mail]` section: each bad value is refused with one line naming the key and the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.settings import load_settings
from notifications.config import MailConfig, mail_config
from workflows.errors import InputError


def config(tmp_path: Path, body: str, smtp: bool = True) -> MailConfig:
    file = tmp_path / "nckh.toml"
    file.write_text("[mail]\n" + body + "\n", encoding="utf-8")
    env = {"NCKH_DATA_DIR": str(tmp_path), "NCKH_CONFIG": str(file)}
    if smtp:
        env["NCKH_SMTP_HOST"] = "mail.syt.example.vn"
    return mail_config(load_settings(env=env))


@pytest.mark.parametrize("body, message", [
    ('lang = "fr"', "invalid [mail] lang = 'fr': expected vi or en"),
    ('batch_size = "many"', "invalid [mail] batch_size = 'many': expected a number"),
    ("batch_size = 0", "invalid [mail] batch_size = 0: expected 1–5000"),
    ("concurrency = 33", "invalid [mail] concurrency = 33: expected 1–32"),
    ("timeout_s = 0.5", "invalid [mail] timeout_s = 0.5: expected 1–600"),
    ("digest_weekday = 7", "invalid [mail] digest_weekday = 7: expected 0–6"),
    ('ca_file = "/nonexistent/ca.pem"',
     "invalid [mail] ca_file = '/nonexistent/ca.pem': No such file or directory"),
])
def test_a_bad_value_is_refused_with_the_key_and_the_value(tmp_path: Path, body: str,
                                                           message: str) -> None:
    with pytest.raises(InputError) as err:
        config(tmp_path, body)
    assert str(err.value) == message


def test_a_ca_file_without_a_certificate_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"ca_file = '.*ca\.pem': no PEM certificate in it$"):
        config(tmp_path, f'ca_file = "{bogus}"')


def test_defaults_and_a_good_ca_file(tmp_path: Path) -> None:
    from tests.integration.mailserver import tls_files

    cert, _ = tls_files(tmp_path)
    cfg = config(tmp_path, f'ca_file = "{cert}"\ndigest_weekday = "off"')
    assert cfg.smtp is not None and cfg.smtp.ca_file == str(cert)
    assert (cfg.smtp.concurrency, cfg.smtp.timeout_s, cfg.batch_size) == (4, 30.0, 200)
    assert cfg.digest_weekday is None and cfg.lang == "vi"
    assert config(tmp_path, "", smtp=False).smtp is None  # no server: the maildir
