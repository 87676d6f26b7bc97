"""The reports' small province (`reports_province.py`) with what the year's compilation adds:
the office's acknowledgement of two units' plans (Phúc Yên's sent but not acknowledged, Tam
Dương's waived), a task with its decisions recorded (numbers, dates, grade) and an article in an
international journal, and Tam Dương's only task cancelled (so it misses the quota)."""

from __future__ import annotations

import datetime as dt

from engine.app import App
from engine.publications import PublicationInput
from storage.models import Unit
from storage.timers import Obligation
from tests.conftest import local
from tests.integration.reports_province import (
    COUNCIL,
    OFFICE,
    YEAR,
    build_obligations,
    build_province,
    build_sessions,
)

DECIDED = "Đánh giá hiệu quả can thiệp mạch vành qua da"


def build_compilation_province(app: App) -> int:
    """The province as the compilation tests read it; the id of the task with its decisions."""
    build_province(app)
    build_obligations(app)
    build_sessions(app)
    _plan(app, "BVDK", "acknowledge", local(YEAR, 4, 2))
    _plan(app, "BVTN", "acknowledge", local(YEAR, 4, 2))
    _plan(app, "TAMDUONG", "waive", local(YEAR, 4, 10), reason="Đơn vị mới sáp nhập")
    task_id = app.engine.create_task(unit_code="PHUCYEN", level="unit", title=DECIDED,
                                     pi_email="mai.nt@phucyen.example.vn",
                                     pi_name="ThS.BS Nguyễn Thị Mai", year=YEAR, topic=2,
                                     now=local(YEAR, 2, 20))
    for event, at, data in (
            ("approve_outline", local(YEAR, 4, 22),
             {"decision_no": "12/QĐ-BVPY", "decided_on": "18/04/2025"}),
            ("start", local(YEAR, 5, 2), {}),
            ("accept", local(YEAR, 11, 25), {"decision_no": "45/BB-HĐKH", "grade": "Khá"})):
        actor = COUNCIL if event == "accept" else OFFICE
        app.engine.fire(task_id, event, actor_email=actor, data=data, at=at, now=at)
    app.engine.add_publication(PublicationInput(
        None, "Outcomes of percutaneous coronary intervention in a provincial hospital",
        "Nguyen Thi Mai", "journal_international", dt.date(YEAR, 12, 1),
        venue_name="Journal of Interventional Cardiology", task_id=task_id),
        now=local(YEAR, 12, 2))
    cancelled = app.engine.create_task(unit_code="TAMDUONG", level="unit",
                                       title="Đề tài Tam Dương đã hủy",
                                       pi_email="pi@tamduong.example.vn", pi_name="BS. Lê Văn C",
                                       year=YEAR, now=local(YEAR, 3, 1))
    app.engine.fire(cancelled, "cancel", actor_email=OFFICE, reason="Chủ nhiệm chuyển công tác",
                    at=local(YEAR, 6, 1), now=local(YEAR, 6, 1))
    return task_id


def _plan(app: App, unit: str, event: str, at: dt.datetime, reason: str | None = None) -> None:
    with app.engine.transaction() as s:
        task_id = (s.query(Obligation.task_id).join(Unit, Unit.id == Obligation.unit_id)
                   .filter(Unit.code == unit, Obligation.key == "unit_plan").scalar())
    app.engine.fire(task_id, event, actor_email=OFFICE, reason=reason, at=at, now=at)
