"""The item page shows where the task's result is applied, read-only, to whoever may see the task
(the engine's detail through `engine.views`), in Vietnamese or English."""

from __future__ import annotations

import html

from engine.applications import ApplicationInput
from tests.web.webfixtures import OFFICE, OTHER_HEAD, PI, Site, sign_in
from workflows.clock import DEFAULT_TZ


def test_the_item_page_shows_the_applications_read_only(site: Site,
                                                        tasks: dict[str, int]) -> None:
    e, task = site.app.engine, tasks["mine"]
    for event in ("approve_outline", "start", "accept"):
        e.fire(task, event, actor_email=OFFICE, now=site.clock.now())
    b = sign_in(site, PI)
    assert 'id="applications"' not in b.get(f"/nhiem-vu/{task}").data.decode()  # none yet
    today = site.clock.now().astimezone(DEFAULT_TZ).date()
    e.add_application(ApplicationInput(task, "transfer", "Bệnh viện tư nhân An Phú",
                                       "private_hospital", today, doc_no="15/HĐ-CGKT",
                                       doc_date=today), now=site.clock.now())
    page = html.unescape(b.get(f"/nhiem-vu/{task}").data.decode())
    block = page[page.index('id="applications"'):]
    shown = today.strftime("%d/%m/%Y")
    for text in ("Ứng dụng kết quả, chuyển giao, hợp tác", "Chuyển giao kỹ thuật",
                 "Bệnh viện tư nhân An Phú", "Bệnh viện tư nhân", shown,
                 f"15/HĐ-CGKT ({shown})"):
        assert text in block, text
    assert "<form" not in block.split("</section>")[0]  # read-only
    english = html.unescape(b.get(f"/nhiem-vu/{task}?lang=en").data.decode())
    assert "Technology transfer" in english and "Private hospital" in english
    assert sign_in(site, OTHER_HEAD).get(f"/nhiem-vu/{task}").status_code == 404
