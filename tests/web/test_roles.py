"""What each role sees, CSRF on an action, and the engine's refusal shown as it is."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Refusal
from tests.web.webfixtures import OFFICE, OTHER_PI, PI, Site, csrf, sign_in

COUNCIL = "lan.council@syt.example.vn"


def test_an_investigator_sees_the_tasks_they_lead_and_no_other(site: Site,
                                                               tasks: dict[str, int]) -> None:
    b = sign_in(site, PI)
    home = b.get("/trang-chu").data.decode()
    assert "Đánh giá kết quả điều trị tăng huyết áp" in home
    assert "Khảo sát tiêm chủng tại tuyến xã" not in home
    assert b.get(f"/nhiem-vu/{tasks['mine']}").status_code == 200
    assert b.get(f"/nhiem-vu/{tasks['theirs']}").status_code == 404
    assert b.get("/don-vi/BVDK").status_code == 404  # a unit's page is its head's


def test_an_investigators_tasks_are_read_as_theirs_the_same_rows_as_the_provinces_kept(
        site: Site, tasks: dict[str, int]) -> None:
    e, now = site.app.engine, site.clock.now()
    everything = e.list_tasks(now=now)
    theirs = e.list_tasks(now=now, pi_email=PI)
    assert [r["id"] for r in theirs] == [tasks["mine"]]
    assert theirs == [r for r in everything if r["pi"] == PI]
    assert e.list_tasks(now=now, pi_email="nobody@example.vn") == []


def test_the_council_sees_what_it_must_act_on_and_the_office_everything(
        site: Site, tasks: dict[str, int]) -> None:
    site.app.engine.add_person(email=COUNCIL, name="Lê Thị Lan", role="council",
                               now=site.clock.now())
    site.app.engine.fire(tasks["theirs"], "reject", actor_email=OFFICE, reason="Trùng lặp",
                         now=site.clock.now())
    council = sign_in(site, COUNCIL)
    home = council.get("/trang-chu").data.decode()
    assert "Đánh giá kết quả điều trị tăng huyết áp" in home  # proposed: it may ask a revision
    assert "Khảo sát tiêm chủng tại tuyến xã" not in home  # rejected: nothing for it to do
    assert council.get(f"/nhiem-vu/{tasks['theirs']}").status_code == 404
    office = sign_in(site, OFFICE)
    listed = office.get("/trang-chu").data.decode()
    assert "Khảo sát tiêm chủng tại tuyến xã" in listed and "tăng huyết áp" in listed


def test_an_action_without_a_valid_csrf_token_is_refused_and_changes_nothing(
        site: Site, tasks: dict[str, int]) -> None:
    office = sign_in(site, OFFICE)
    office.get(f"/nhiem-vu/{tasks['mine']}")
    before = site.app.engine.task_detail(tasks["mine"], now=site.clock.now())["version"]
    for token in (None, "giả-mạo"):
        data = {"event": "request_revision", "reason": "Bổ sung cỡ mẫu"}
        if token:
            data["csrf_token"] = token
        answer = office.post(f"/nhiem-vu/{tasks['mine']}", data=data)
        assert answer.status_code == 400
    assert site.app.engine.task_detail(tasks["mine"], now=site.clock.now())["version"] == before


def test_a_refusal_on_a_page_is_the_engines_message_and_is_audited(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, OTHER_PI)
    page = b.get(f"/nhiem-vu/{tasks['theirs']}")
    answer = b.post(f"/nhiem-vu/{tasks['theirs']}", data={
        "csrf_token": csrf(page.data), "event": "approve_outline"})
    assert answer.status_code == 403
    with site.app.sessions() as s:
        [refusal] = s.scalars(select(Refusal)).all()
    assert refusal.actor == OTHER_PI
    assert refusal.message.replace("'", "&#39;") in answer.data.decode()
