"""Personal links in e-mails that ask someone to act: one person, one item, GET never acts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from storage.webmodels import ActionLinkUse
from tests.web.webfixtures import HEAD, OFFICE, PI, Site, csrf, links_in
from workflows.clock import DEFAULT_TZ


def ask_revision(site: Site, task_id: int, reason: str = "Bổ sung cỡ mẫu") -> None:
    site.app.engine.fire(task_id, "request_revision", actor_email=OFFICE, reason=reason,
                         now=site.clock.now())
    site.deliver()


def action_paths(site: Site, who: str) -> list[str]:
    return [p for m in site.mails() if who in str(m["To"])
            for p in links_in(m) if p.startswith("/lien-ket/")]


def uses(site: Site) -> list[tuple[str, str, str]]:
    with site.app.sessions() as s:
        return [(u.what, u.client, u.browser) for u in
                s.scalars(select(ActionLinkUse).order_by(ActionLinkUse.id))]


def state(site: Site, task_id: int) -> tuple[str, int]:
    d = site.app.engine.task_detail(task_id, now=site.clock.now())
    return d["state"], d["version"]


def test_a_mail_that_asks_to_act_carries_the_persons_link_and_opening_it_changes_nothing(
        site: Site, tasks: dict[str, int]) -> None:
    ask_revision(site, tasks["mine"])
    [path] = action_paths(site, PI)
    before = state(site, tasks["mine"])
    b = site.browser()
    for _ in range(2):
        assert b.get(path, headers={"User-Agent": "Scanner/1.0"},
                     environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
        assert b.head(path).status_code == 200
    assert state(site, tasks["mine"]) == before
    page = b.get(path, headers={"User-Agent": "Firefox/140"}).data.decode()
    assert "Đánh giá kết quả điều trị tăng huyết áp" in page
    assert 'value="resubmit"' in page and 'value="approve_outline"' not in page
    assert ("open", "192.0.2.7", "Scanner/1.0") in uses(site)


def test_only_the_post_acts_as_that_person_and_each_use_is_recorded(
        site: Site, tasks: dict[str, int]) -> None:
    ask_revision(site, tasks["mine"])
    [path] = action_paths(site, PI)
    b = site.browser()
    page = b.get(path, headers={"User-Agent": "Firefox/140"})
    done = b.post(path, data={"csrf_token": csrf(page.data), "event": "resubmit",
                              "version": str(state(site, tasks["mine"])[1])},
                  headers={"User-Agent": "Firefox/140"}, environ_base={"REMOTE_ADDR": "1.2.3.4"})
    assert done.status_code == 302
    detail = site.app.engine.task_detail(tasks["mine"], now=site.clock.now())
    assert detail["state"] == "proposed"
    assert detail["history"][-1]["actor"] == PI
    assert [u[0] for u in uses(site)] == ["open", "act"]
    assert uses(site)[-1] == ("act", "1.2.3.4", "Firefox/140")


def test_the_engine_refuses_on_a_link_what_the_person_may_not_do(
        site: Site, tasks: dict[str, int]) -> None:
    ask_revision(site, tasks["mine"])
    [path] = action_paths(site, PI)
    b = site.browser()
    before = state(site, tasks["mine"])
    answer = b.post(path, data={"csrf_token": csrf(b.get(path).data), "event": "reject",
                                "reason": "x"})
    assert answer.status_code == 403
    assert "Không thực hiện được" in answer.data.decode()
    assert state(site, tasks["mine"]) == before


def test_a_later_mail_carries_the_same_link_and_the_first_keeps_working(
        site: Site, tasks: dict[str, int]) -> None:
    ask_revision(site, tasks["mine"])
    site.app.engine.fire(tasks["mine"], "resubmit", actor_email=PI, now=site.clock.now())
    site.clock.advance(dt.timedelta(days=1))
    ask_revision(site, tasks["mine"], "Bổ sung phương pháp")
    paths = action_paths(site, PI)
    assert len(paths) == 2 and paths[0] == paths[1]
    assert site.browser().get(paths[0]).status_code == 200


def test_a_forged_link_or_another_item_with_the_same_token_is_refused_and_recorded(
        site: Site, tasks: dict[str, int]) -> None:
    ask_revision(site, tasks["mine"])
    [path] = action_paths(site, PI)
    prefix, token = path.rsplit("/", 1)
    person, _task = prefix.removeprefix("/lien-ket/").split("-")
    other = f"/lien-ket/{person}-{tasks['theirs']}/{token}"
    for bad in (other, f"{prefix}/{token[:-2]}xy"):
        answer = site.browser().get(bad)
        assert answer.status_code == 403
        text = answer.data.decode()
        assert "Liên kết không dùng được" in text and "Nhận liên kết mới" in text
        assert "Liên kết này không đúng" in text
    assert [u[0] for u in uses(site)] == ["forged", "forged"]


def test_a_link_expires_30_days_after_the_items_legal_end(site: Site,
                                                          tasks: dict[str, int]) -> None:
    ask_revision(site, tasks["mine"])
    [path] = action_paths(site, PI)
    site.app.engine.fire(tasks["mine"], "cancel", actor_email=OFFICE, reason="Đơn vị rút",
                         now=site.clock.now())
    # due "before 30/4/2025": the legal end rolls over 30/4, 1/5 and the swapped day off 2/5 and
    # the weekend to Monday 5/5/2025; the link lives 30 days more, to the end of 4/6/2025
    site.clock.set(dt.datetime(2025, 6, 4, 23, 0, tzinfo=DEFAULT_TZ))
    assert site.browser().get(path).status_code == 200
    site.clock.set(dt.datetime(2025, 6, 5, 8, 0, tzinfo=DEFAULT_TZ))
    answer = site.browser().get(path)
    assert answer.status_code == 403 and "Liên kết này đã hết hạn." in answer.data.decode()


def test_a_revoked_link_is_refused(site: Site, tasks: dict[str, int]) -> None:
    from engine.access import viewer_of
    from storage.directory import person_by_email

    ask_revision(site, tasks["mine"])
    [path] = action_paths(site, PI)
    with site.app.sessions() as s:
        office = viewer_of(person_by_email(s, OFFICE))  # type: ignore[arg-type]
        pi_id = person_by_email(s, PI).id  # type: ignore[union-attr]
    site.app.access.revoke_link(pi_id, tasks["mine"], by=office, now=site.clock.now())
    answer = site.browser().get(path)
    assert answer.status_code == 403
    assert "Liên kết này đã bị Phòng Nghiệp vụ Y thu hồi." in answer.data.decode()


def test_a_reminder_in_the_persons_letter_of_the_day_carries_the_link_too(
        site: Site, tasks: dict[str, int]) -> None:
    """The head is asked on 1/4 for the unit's outline-review report and reminded on 23/4."""
    for day in (1, 23):
        site.clock.set(dt.datetime(2025, 4, day, 8, 5, tzinfo=DEFAULT_TZ))
        site.app.tick(site.clock.now())
        site.clock.advance(dt.timedelta(hours=1))
        site.app.tick(site.clock.now())
    reminders = [m for m in site.mails() if HEAD in str(m["To"]) and "nhắc" in str(m["Subject"])]
    assert reminders, [str(m["Subject"]) for m in site.mails()]
    assert any(p.startswith("/lien-ket/") for p in links_in(reminders[-1]))
    assert site.browser().get(action_paths(site, HEAD)[-1]).status_code == 200
