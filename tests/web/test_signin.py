"""Signing in: the one-time link, its limits, the session cookie, sign-out, passwords."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from storage.webmodels import SigninToken
from tests.web.webfixtures import HEAD, OFFICE, PI, Site, csrf, sign_in, signin_path, text_of


def ask(site: Site, who: str, client_ip: str = "10.9.9.9") -> int:
    b = site.browser()
    token = csrf(b.get("/dang-nhap").data)
    return b.post("/dang-nhap", data={"email": who, "csrf_token": token},
                  environ_base={"REMOTE_ADDR": client_ip}).status_code


def test_a_registered_person_signs_in_with_the_link_mailed_to_them(site: Site,
                                                                   tasks: dict[str, int]) -> None:
    b = sign_in(site, PI)
    home = b.get("/trang-chu")
    assert home.status_code == 200
    text = home.data.decode()
    assert "Nguyễn Thị Hoa" in text and "Đánh giá kết quả điều trị tăng huyết áp" in text
    mail = site.signin_mails(PI)[-1]
    assert "dùng được một lần, trong 15 phút" in text_of(mail)


def test_opening_a_sign_in_link_changes_nothing_until_the_button_is_pressed(
        site: Site, tasks: dict[str, int]) -> None:
    b = site.browser()
    b.post("/dang-nhap", data={"email": PI, "csrf_token": csrf(b.get("/dang-nhap").data)})
    site.deliver()
    path = signin_path(site, PI)
    for _ in range(3):
        assert site.browser().get(path).status_code == 200
        assert site.browser().head(path).status_code == 200
    with site.app.sessions() as s:
        assert s.scalars(select(SigninToken.used_at)).all() == [None]
    page = b.get(path)
    assert b.post(path, data={"csrf_token": csrf(page.data)}).status_code == 302


def test_a_sign_in_link_works_once(site: Site, tasks: dict[str, int]) -> None:
    sign_in(site, PI)
    path = signin_path(site, PI)
    b = site.browser()
    again = b.post(path, data={"csrf_token": csrf(b.get(path).data)})
    assert again.status_code == 403
    assert "mỗi liên kết chỉ dùng được một lần" in again.data.decode()
    assert "Nhận liên kết mới" in again.data.decode()


def test_a_sign_in_link_expires_after_15_minutes(site: Site, tasks: dict[str, int]) -> None:
    assert ask(site, PI) == 200
    site.deliver()
    path = signin_path(site, PI)
    site.clock.advance(dt.timedelta(minutes=15))
    b = site.browser()
    late = b.post(path, data={"csrf_token": csrf(b.get(path).data)})
    assert late.status_code == 403 and "Liên kết này đã hết hạn." in late.data.decode()


def test_a_forged_sign_in_link_is_refused_with_a_way_to_ask_again(
        site: Site, tasks: dict[str, int]) -> None:
    assert ask(site, PI) == 200
    site.deliver()
    path = signin_path(site, PI)
    forged = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
    b = site.browser()
    answer = b.post(forged, data={"csrf_token": csrf(b.get(forged).data)})
    assert answer.status_code == 403
    assert "Liên kết không dùng được" in answer.data.decode()
    assert b.get("/trang-chu").status_code == 302


def test_an_unknown_address_gets_the_same_answer_and_no_mail(site: Site,
                                                             tasks: dict[str, int]) -> None:
    assert ask(site, "nobody@example.vn") == 200
    site.deliver()
    assert site.signin_mails("nobody@example.vn") == [] and site.signin_mails(PI) == []


def test_sign_in_links_are_rate_limited_per_address_and_per_client(
        site: Site, tasks: dict[str, int]) -> None:
    assert [ask(site, PI, f"10.0.0.{i}") for i in range(4)] == [200, 200, 200, 429]
    assert [ask(site, f"x{i}@example.vn", "10.1.1.1") for i in range(11)] == [200] * 10 + [429]
    site.clock.advance(dt.timedelta(minutes=16))
    assert ask(site, PI) == 200


def test_the_session_cookie_is_httponly_samesite_lax_and_signed(site: Site,
                                                                tasks: dict[str, int]) -> None:
    b = site.browser()
    token = csrf(b.get("/dang-nhap").data)
    b.post("/dang-nhap", data={"email": PI, "csrf_token": token})
    site.deliver()
    path = signin_path(site, PI)
    answer = b.post(path, data={"csrf_token": csrf(b.get(path).data)})
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    forged = site.browser()
    forged.set_cookie("nckh", "eyJzaWQiOiJ4In0.forged.signature")
    assert forged.get("/trang-chu").status_code == 302


def test_an_idle_session_ends_and_sign_out_ends_it_at_once(site: Site,
                                                           tasks: dict[str, int]) -> None:
    b = sign_in(site, PI)
    site.clock.advance(dt.timedelta(minutes=29))
    assert b.get("/trang-chu").status_code == 200
    site.clock.advance(dt.timedelta(minutes=31))
    assert b.get("/trang-chu").status_code == 302
    b = sign_in(site, HEAD)
    page = b.get("/trang-chu", follow_redirects=True)
    assert "Bệnh viện Đa khoa tỉnh" in page.data.decode()
    b.post("/dang-xuat", data={"csrf_token": csrf(page.data)})
    assert b.get("/trang-chu").headers["Location"].endswith("/dang-nhap?next=/trang-chu")


def test_a_post_without_a_valid_csrf_token_is_refused(site: Site, tasks: dict[str, int]) -> None:
    b = site.browser()
    b.get("/dang-nhap")
    for data in ({"email": PI}, {"email": PI, "csrf_token": "forged"}):
        answer = b.post("/dang-nhap", data=data)
        assert answer.status_code == 400
        assert "Biểu mẫu đã hết hạn" in answer.data.decode()
    site.deliver()
    assert site.signin_mails("nobody@example.vn") == [] and site.signin_mails(PI) == []


def test_only_the_office_may_hold_a_password_and_sign_in_with_it(
        site: Site, tasks: dict[str, int]) -> None:
    from engine.access import viewer_of
    from storage.directory import person_by_email

    with site.app.sessions() as s:
        office = viewer_of(person_by_email(s, OFFICE))  # type: ignore[arg-type]
    access = site.app.access
    access.set_password(OFFICE, "một mật khẩu dài", by=office, now=site.clock.now())
    b = site.browser()
    token = csrf(b.get("/dang-nhap").data)
    wrong = b.post("/dang-nhap/mat-khau", data={"email": OFFICE, "password": "sai",
                                                "csrf_token": token})
    assert wrong.status_code == 403 and "wrong e-mail address or password" in wrong.data.decode()
    ok = b.post("/dang-nhap/mat-khau", data={"email": OFFICE, "password": "một mật khẩu dài",
                                             "csrf_token": token})
    assert ok.status_code == 302
    import pytest

    from workflows.errors import NotAllowed

    with pytest.raises(NotAllowed, match="not in the office"):
        access.set_password(PI, "một mật khẩu dài", by=office, now=site.clock.now())


def test_every_page_carries_the_security_headers(site: Site) -> None:
    answer = site.browser().get("/dang-nhap")
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
