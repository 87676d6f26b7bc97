"""The web app on a real database, driven in-process with Flask's test client.

`Site` holds the app, its web shell and the clock; `browser()` gives a client that keeps its
cookies, and `csrf(page)` reads the form token from a page as a browser would submit it.
Mail goes to the maildir (no SMTP server configured); `mails()` reads what the dispatcher
wrote there, so a sign-in link is taken from a real rendered e-mail.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from engine.app import App, build
from engine.directory import UnitInput
from engine.web.app import create_web
from tests.conftest import make_settings
from workflows.clock import DEFAULT_TZ, TestClock

OFFICE = "pnvy@syt.example.vn"
HEAD = "minh@bvdk.example.vn"
OTHER_HEAD = "lan@ttyt.example.vn"
PI = "hoa@bvdk.example.vn"
OTHER_PI = "nam@ttyt.example.vn"
T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=DEFAULT_TZ)
ENV = {"NCKH_OFFICE_EMAIL": OFFICE, "NCKH_MAIL_FROM": "nckh@syt.example.vn",
       "NCKH_BASE_URL": "http://nckh.test", "NCKH_WEB_SECRET": "s" * 40}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"http://nckh\.test(/[^\s\"<>]+)")


class Site:
    def __init__(self, db_url: str, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.app: App = build(make_settings(db_url, data_dir, **{**ENV, **env}))
        self.clock = TestClock(T0)
        self.web: Flask = create_web(self.app, self.clock)
        self.web.testing = True

    def province(self) -> dict[str, int]:
        """Two units (BVDK, TTYT), their heads, an office person, an investigator in each,
        and a research task in each."""
        e, now = self.app.engine, self.clock.now()
        e.add_unit(UnitInput(code="BVDK", name="Bệnh viện Đa khoa tỉnh",
                             head_name="Trần Văn Minh", head_email=HEAD), now=now)
        e.add_unit(UnitInput(code="TTYT", name="Trung tâm Y tế huyện Lập Thạch",
                             head_name="Lê Thị Lan", head_email=OTHER_HEAD), now=now)
        e.add_person(email=OFFICE, name="Phòng Nghiệp vụ Y", role="office", now=now)
        e.add_person(email=PI, name="Nguyễn Thị Hoa", role="pi", unit_code="BVDK", now=now)
        e.add_person(email=OTHER_PI, name="Phạm Văn Nam", role="pi", unit_code="TTYT", now=now)
        mine = e.create_task(unit_code="BVDK", level="unit", pi_email=PI, year=2025, now=now,
                             title="Đánh giá kết quả điều trị tăng huyết áp")
        theirs = e.create_task(unit_code="TTYT", level="unit", pi_email=OTHER_PI, year=2025,
                               now=now, title="Khảo sát tiêm chủng tại tuyến xã")
        return {"mine": mine, "theirs": theirs}

    def browser(self) -> FlaskClient:
        return self.web.test_client()

    def deliver(self) -> None:
        self.app.dispatcher.tick(self.clock.now())

    def mails(self) -> list[EmailMessage]:
        folder = self.data_dir / "maildir" / "new"
        found = []
        for path in sorted(folder.iterdir()) if folder.exists() else []:
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            found.append(msg)
        return found

    def signin_mails(self, who: str) -> list[EmailMessage]:
        return [m for m in self.mails() if who in str(m["To"])
                and "Liên kết đăng nhập" in str(m["Subject"])]

    def close(self) -> None:
        self.app.close()


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def csrf(page: bytes | str) -> str:
    text = page.decode() if isinstance(page, bytes) else page
    found = CSRF.search(text)
    assert found, "no CSRF token on the page"
    return found.group(1)


def links_in(msg: EmailMessage) -> list[str]:
    return LINK.findall(text_of(msg))


def sign_in(site: Site, who: str) -> FlaskClient:
    """A browser signed in as `who` through the real path: ask, receive the mail, confirm."""
    b = site.browser()
    token = csrf(b.get("/dang-nhap").data)
    assert b.post("/dang-nhap", data={"email": who, "csrf_token": token}).status_code == 200
    site.deliver()
    path = signin_path(site, who)
    confirm = b.get(path)
    assert confirm.status_code == 200
    done = b.post(path, data={"csrf_token": csrf(confirm.data)})
    assert done.status_code == 302, done.data.decode()
    return b


def signin_path(site: Site, who: str) -> str:
    """The path of the sign-in link in the last such mail to `who`."""
    found = site.signin_mails(who)
    assert found, f"no sign-in mail to {who}"
    return [p for p in links_in(found[-1]) if p.startswith("/dang-nhap/")][-1]


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def obligation(site: Site, unit_code: str, head: str, due_on: dt.date,
               title: str = "Báo cáo sơ kết 6 tháng đầu năm 2025") -> int:
    """A calendar obligation of the unit (a `unit_report` task led by its head), as the
    scheduler registers it."""
    from storage.directory import person_by_email, unit_by_code

    e = site.app.engine
    with e.transaction() as s:
        unit, person = unit_by_code(s, unit_code), person_by_email(s, head)
        assert unit is not None and person is not None
        return e.register_in(s, workflow="unit_report", unit_id=unit.id, pi_id=person.id,
                             year=due_on.year, title=title, now=site.clock.now(),
                             due_on=due_on)


def submission_form(page: bytes, number: str = "45/BC-BVĐK", date: str = "28/06/2025",
                    name: str = "bao-cao.pdf", content: bytes = PDF,
                    note: str = "Báo cáo kèm phụ lục") -> dict[str, object]:
    import io

    return {"csrf_token": csrf(page), "doc_number": number, "doc_date": date, "note": note,
            "file": (io.BytesIO(content), name)}


# The units' forms' checks (tests/web/test_unit_forms.py, test_task_extras.py).
def snapshot(site: Site) -> tuple[Any, ...]:
    """Everything these forms could write: tasks (with versions), people, sessions, documents."""
    e, now = site.app.engine, site.clock.now()
    tasks = [(t["id"], t["state"]) for t in e.list_tasks(now=now)]
    versions = [e.task_detail(i, now=now)["version"] for i, _ in tasks]
    sessions = e.list_sessions(site.app.config.scheduler.sessions)
    docs = [site.app.submissions.of_task(i) for i, _ in tasks]
    return tasks, versions, len(e.list_people()), len(sessions), docs


def error_beside(page: bytes, field: str) -> str:
    """The message shown beside the field of id `field`, linked from the summary at the top."""
    text = page.decode()
    assert f'<a href="#{field}">' in text, text
    found = re.search(rf'<label for="{field}">.*?</label>\s*<p class="field-error">'
                      r"([^<]*)</p>", text, re.S)
    assert found, f"no error beside {field}"
    return html.unescape(found.group(1))
