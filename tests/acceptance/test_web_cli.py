"""`nckh web` and `nckh web-link` as an operator runs them: the installed command, a real port."""

from __future__ import annotations

import http.cookiejar
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from engine.app import build
from engine.settings import load_settings
from tests.acceptance.cli import NCKH, cli_env, nckh
from tests.conftest import local
from tests.integration.mailserver import free_port

OFFICE = "nghiepvuy@syt.example.vn"


def registered(data: Path) -> None:
    app = build(load_settings(env={"NCKH_DATA_DIR": str(data),
                                   "NCKH_DATABASE_URL": f"sqlite:///{data / 'nckh.db'}"}))
    app.engine.add_person(email=OFFICE, name="Phòng Nghiệp vụ Y", role="office",
                          now=local(2025, 2, 3))
    app.close()


def test_web_link_prints_a_one_time_link_and_refuses_an_unknown_person(tmp_path: Path) -> None:
    registered(tmp_path)
    env = cli_env(tmp_path, "2025-06-02T09:00", NCKH_BASE_URL="https://nckh.soyte.vn")
    ran = nckh(env, "web-link", OFFICE)
    assert ran.returncode == 0, ran.stderr
    assert re.fullmatch(r"https://nckh\.soyte\.vn/dang-nhap/1/[\w-]{43}\n", ran.stdout)
    unknown = nckh(env, "web-link", "ai.do@example.vn")
    assert unknown.returncode == 3
    assert unknown.stderr == "nckh: ai.do@example.vn is not an active registered person\n"


def test_nckh_web_serves_the_pages_and_a_printed_link_signs_the_office_in(
        tmp_path: Path) -> None:
    registered(tmp_path)
    port = free_port()
    env = cli_env(tmp_path, "2025-06-02T09:00", NCKH_BASE_URL=f"http://127.0.0.1:{port}")
    link = nckh(env, "web-link", OFFICE).stdout.strip()
    server = subprocess.Popen([NCKH, "web", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        for _ in range(100):  # until it listens (bounded: 10 s)
            try:
                page = opener.open(f"http://127.0.0.1:{port}/dang-nhap", timeout=5)
                break
            except urllib.error.URLError:
                time.sleep(0.1)
        else:
            raise AssertionError("nckh web did not start listening")
        assert "Đăng nhập" in page.read().decode()
        assert page.headers["X-Frame-Options"] == "DENY"
        confirm = opener.open(link, timeout=5).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', confirm)
        assert token is not None
        home = opener.open(urllib.request.Request(
            link, data=urllib.parse.urlencode({"csrf_token": token.group(1)}).encode(),
            method="POST"), timeout=5)
        assert home.url.endswith("/bang-dieu-khien")
        assert "Bảng theo dõi toàn tỉnh" in home.read().decode()
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=20)
    assert f"listening on http://127.0.0.1:{port}" in err
