"""The item page shows the task's council, its outcome and the recognition, read-only, to whoever
may see the task (the engine's detail through `engine.views`), in Vietnamese or English."""

from __future__ import annotations

import datetime as dt
import html

from engine.councils import CouncilInput, MemberInput, OutcomeInput, RecognitionInput
from tests.web.webfixtures import OFFICE, OTHER_HEAD, PI, Site, sign_in
from workflows.clock import DEFAULT_TZ

CHAIR = "chu.tich@syt.example.vn"


def test_the_item_page_shows_the_council_its_outcome_and_the_recognition_read_only(
        site: Site, tasks: dict[str, int]) -> None:
    e, task = site.app.engine, tasks["mine"]
    e.add_person(email=CHAIR, name="PGS.TS Đỗ Văn Chủ", role="council", now=site.clock.now())
    for event in ("approve_outline", "start"):
        e.fire(task, event, actor_email=OFFICE, now=site.clock.now())
    b = sign_in(site, PI)
    assert 'id="councils"' not in b.get(f"/nhiem-vu/{task}").data.decode()  # nothing yet
    later = dt.datetime(2025, 11, 20, 9, tzinfo=DEFAULT_TZ)
    e.set_council(CouncilInput(task, "512/QĐ-BVĐK", dt.date(2025, 11, 3),
                               (MemberInput(CHAIR, "chair"), MemberInput(OFFICE, "secretary"))),
                  now=later)
    e.record_outcome(OutcomeInput(task, "passed", grade="xuat-sac", score="95"),
                     actor_email=CHAIR, now=later)
    e.recognise(RecognitionInput(task, "88/QĐ-SYT", dt.date(2025, 11, 20)), now=later)
    site.clock.advance(later - site.clock.now())
    b = sign_in(site, PI)  # the first session ended in the eight months the clock moved
    page = html.unescape(b.get(f"/nhiem-vu/{task}").data.decode())
    block = page[page.index('id="councils"'):]
    for text in ("Hội đồng nghiệm thu", "512/QĐ-BVĐK (03/11/2025)", "Chủ tịch: PGS.TS Đỗ Văn Chủ",
                 "Thư ký: Phòng Nghiệp vụ Y", "Đạt — Xếp loại: Xuất sắc", "95",
                 "Sở Y tế: 88/QĐ-SYT (20/11/2025)"):
        assert text in block, text
    assert "<form" not in block  # read-only: acting stays on the engine's event forms
    english = html.unescape(b.get(f"/nhiem-vu/{task}?lang=en").data.decode())
    assert "Acceptance council" in english and "Passed — Grade: Excellent" in english
    assert sign_in(site, OTHER_HEAD).get(f"/nhiem-vu/{task}").status_code == 404
