"""A session's check on every page: a read, and a write only when there is something to write
(its end, or its last-seen time once a minute old), so reading pages takes no write lock."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from storage.webmodels import WebSession
from tests.web.webfixtures import PI, Site, sign_in


def sessions(site: Site) -> list[tuple[dt.datetime, dt.datetime | None]]:
    with site.app.sessions() as s:
        return [(r.last_seen_at, r.ended_at)
                for r in s.scalars(select(WebSession).order_by(WebSession.id))]


def test_the_last_seen_time_is_written_at_most_once_a_minute(site: Site,
                                                             tasks: dict[str, int]) -> None:
    b = sign_in(site, PI)
    [(signed_in, _)] = sessions(site)
    site.clock.advance(dt.timedelta(seconds=59))
    assert b.get("/trang-chu").status_code == 200
    assert sessions(site) == [(signed_in, None)]  # nothing written
    site.clock.advance(dt.timedelta(seconds=1))
    assert b.get("/trang-chu").status_code == 200
    assert sessions(site) == [(signed_in + dt.timedelta(minutes=1), None)]


def test_a_session_of_a_person_deactivated_since_ends_at_their_next_page(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, PI)
    site.clock.advance(dt.timedelta(minutes=5))
    site.app.engine.deactivate_person(PI, reason="Nghỉ hưu", now=site.clock.now())
    assert b.get("/trang-chu").status_code == 302
    [(_, ended)] = sessions(site)
    assert ended == site.clock.now()
    site.clock.advance(dt.timedelta(minutes=1))
    assert b.get("/trang-chu").status_code == 302 and sessions(site)[0][1] == ended


def test_an_idle_session_ends_when_it_was_last_seen_plus_the_idle_time(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, PI)
    [(signed_in, _)] = sessions(site)
    site.clock.advance(dt.timedelta(minutes=31))
    assert b.get("/trang-chu").status_code == 302
    assert sessions(site) == [(signed_in, signed_in + dt.timedelta(minutes=30))]
