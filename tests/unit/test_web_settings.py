"""The web app's settings: the base URL of links, the secret, the upload and idle limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.doctor import check_web
from engine.settings import load_settings
from workflows.errors import InputError


def test_the_defaults_serve_this_machine_with_a_20_mb_limit_and_30_idle_minutes(
        tmp_path: Path) -> None:
    s = load_settings(env={"NCKH_DATA_DIR": str(tmp_path)})
    assert (s.base_url, s.upload_limit_mb, s.session_idle_minutes, s.web_secret) == (
        "http://127.0.0.1:8080", 20, 30, None)


def test_the_environment_sets_them_and_the_secret_stays_out_of_repr(tmp_path: Path) -> None:
    s = load_settings(env={"NCKH_DATA_DIR": str(tmp_path), "NCKH_BASE_URL": "https://x.vn/",
                           "NCKH_UPLOAD_LIMIT_MB": "5", "NCKH_WEB_SECRET": "bí-mật-dài"})
    assert (s.base_url, s.upload_limit_mb, s.web_secret) == ("https://x.vn", 5, "bí-mật-dài")
    assert "bí-mật" not in repr(s)


@pytest.mark.parametrize(("env", "message"), [
    ({"NCKH_BASE_URL": "nckh.soyte.vn"}, "invalid base URL 'nckh.soyte.vn'"),
    ({"NCKH_UPLOAD_LIMIT_MB": "0"}, "invalid upload_limit_mb '0'"),
    ({"NCKH_SESSION_IDLE_MINUTES": "ba mươi"}, "invalid session_idle_minutes 'ba mươi'"),
])
def test_a_bad_web_setting_is_one_line_naming_it(tmp_path: Path, env: dict[str, str],
                                                 message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_settings(env={"NCKH_DATA_DIR": str(tmp_path), **env})


def test_the_config_files_web_section_is_read_and_an_unknown_key_refused(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[web]\nbase_url = "https://nckh.soyte.vn"\nupload_limit_mb = 8\n',
                    encoding="utf-8")
    s = load_settings(env={"NCKH_DATA_DIR": str(tmp_path)}, config_file=str(good))
    assert (s.base_url, s.upload_limit_mb) == ("https://nckh.soyte.vn", 8)
    bad = tmp_path / "bad.toml"
    bad.write_text('[web]\nbaseurl = "https://x.vn"\n', encoding="utf-8")
    with pytest.raises(InputError, match="baseurl"):
        load_settings(env={"NCKH_DATA_DIR": str(tmp_path)}, config_file=str(bad))


def test_doctor_warns_when_links_point_at_this_machine_or_travel_unencrypted(
        tmp_path: Path) -> None:
    def check(url: str) -> str:
        return check_web(load_settings(env={"NCKH_DATA_DIR": str(tmp_path),
                                            "NCKH_BASE_URL": url})).status
    assert check("http://127.0.0.1:8080") == "warn"
    assert check("http://nckh.soyte.vn") == "warn"
    assert check("https://nckh.soyte.vn") == "ok"
