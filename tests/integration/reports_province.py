"""The reports' small province (two public units, a private hospital, their tasks and their
obligations), shared by the report tests."""

from __future__ import annotations

import datetime as dt

from engine.app import App
from engine.directory import UnitInput
from storage.models import Person, Unit
from storage.timers import Obligation
from tests.conftest import local

YEAR = 2025
OFFICE = "office@soyte.example.vn"
COUNCIL = "council@soyte.example.vn"


def build_province(app: App) -> None:
    _unit(app, "BVDK", "Bệnh viện Đa khoa tỉnh Vĩnh Phúc")
    _unit(app, "PHUCYEN", "Bệnh viện Đa khoa khu vực Phúc Yên")
    _unit(app, "TAMDUONG", "Trung tâm Y tế huyện Tam Dương")
    _unit(app, "BVTN", "Bệnh viện Đa khoa tư nhân Minh An", kind="private")
    app.engine.add_person(email=OFFICE, name="Phòng Nghiệp vụ Y", role="office",
                          now=local(YEAR, 1, 2))
    app.engine.add_person(email=COUNCIL, name="Hội đồng KHCN", role="council",
                          now=local(YEAR, 1, 2))
    d = local
    _task(app, "BVDK", "unit", d(YEAR, 2, 10), ("approve_outline", d(YEAR, 4, 25)),
          ("start", d(YEAR, 5, 5)), ("accept", d(YEAR, 11, 20)), ("publish", d(YEAR, 12, 5)))
    _task(app, "BVDK", "province", d(YEAR, 3, 1), ("approve_outline", d(YEAR, 5, 10)),
          ("start", d(YEAR, 5, 20)))
    _task(app, "BVDK", "initiative", d(YEAR, 3, 15), ("reject", d(YEAR, 4, 20)))
    _task(app, "BVDK", "unit", d(YEAR, 1, 5), year=YEAR - 1)
    _task(app, "PHUCYEN", "unit", d(YEAR, 2, 1), ("approve_outline", d(YEAR, 4, 29)),
          ("start", d(YEAR, 5, 2)), ("accept", d(YEAR, 12, 3)))
    _task(app, "PHUCYEN", "unit", d(YEAR, 2, 15))
    _task(app, "BVTN", "initiative", d(YEAR, 3, 5), ("approve_outline", d(YEAR, 4, 10)),
          ("start", d(YEAR, 4, 15)))


def build_obligations(app: App) -> None:
    d, plan_due = local, dt.date(YEAR, 3, 31)
    _obligation(app, "BVDK", "unit_plan", 0, plan_due, d(YEAR, 3, 28))
    _obligation(app, "PHUCYEN", "unit_plan", 0, plan_due, d(YEAR, 4, 3))
    _obligation(app, "TAMDUONG", "unit_plan", 0, plan_due, None)
    _obligation(app, "BVTN", "unit_plan", 0, plan_due, d(YEAR, 3, 31, 16))
    _obligation(app, "BVDK", "six_month_report", 0, dt.date(YEAR, 7, 7), d(YEAR, 7, 4))
    _obligation(app, "BVDK", "science_session", 11, dt.date(YEAR, 11, 30), None)
    _obligation(app, "BVDK", "annual_report", 0, dt.date(YEAR, 12, 5), d(YEAR, 12, 1))


def build_sessions(app: App) -> None:
    """Science sessions: BVDK in January, February and twice in March; Phúc Yên in January;
    Tam Dương none; the private hospital in June."""
    from engine.sessions import SessionInput

    for unit, day, topic in (("BVDK", dt.date(YEAR, 1, 15), "Cập nhật phác đồ sốc nhiễm khuẩn"),
                             ("BVDK", dt.date(YEAR, 2, 20), "An toàn người bệnh"),
                             ("BVDK", dt.date(YEAR, 3, 5), "Kháng sinh dự phòng"),
                             ("BVDK", dt.date(YEAR, 3, 26), "Hồi sức sơ sinh"),
                             ("PHUCYEN", dt.date(YEAR, 1, 31), "Đột quỵ não"),
                             ("BVTN", dt.date(YEAR, 6, 12), "Nội soi tiêu hóa")):
        app.engine.add_session(SessionInput(unit, day, topic, f"bs@{unit.lower()}.example.vn",
                                            "BS. Lê Văn Bình", "Khoa Nội", 20),
                               now=local(YEAR, 12, 10))


def _unit(app: App, code: str, name: str, kind: str = "public") -> None:
    app.engine.add_unit(UnitInput(code=code, name=name, head_name=f"Giám đốc {code}",
                                  head_email=f"head@{code.lower()}.example.vn", kind=kind),
                        now=local(YEAR, 1, 2))


def _task(app: App, unit: str, level: str, created: dt.datetime, *steps: tuple[str, dt.datetime],
          year: int = YEAR) -> int:
    task_id = app.engine.create_task(unit_code=unit, level=level, title=f"Đề tài {unit} {level}",
                                     pi_email=f"pi.{level}@{unit.lower()}.example.vn",
                                     pi_name="BS. Nguyễn Văn A", year=year, now=created)
    for event, at in steps:
        actor = COUNCIL if event in ("accept",) else OFFICE
        data = {"url": "https://example.vn/kq"} if event == "publish" else {}
        reason = "Không phù hợp định hướng" if event == "reject" else None
        app.engine.fire(task_id, event, actor_email=actor, data=data, reason=reason, at=at, now=at)
    return task_id


def _obligation(app: App, unit: str, key: str, period: int, due: dt.date,
                submitted: dt.datetime | None) -> None:
    created = local(YEAR, 1, 2) if period == 0 else local(YEAR, period, 1)
    head = f"head@{unit.lower()}.example.vn"
    with app.engine.transaction() as s:
        unit_id = s.query(Unit.id).filter(Unit.code == unit).scalar()
        head_id = s.query(Person.id).filter(Person.email == head).scalar()
        task_id = app.engine.register_in(s, workflow="unit_report", unit_id=unit_id,
                                            pi_id=head_id, year=YEAR, title=f"{key} {unit}",
                                            now=created, due_on=due)
        s.add(Obligation(key=key, unit_id=unit_id, year=YEAR, period=period, task_id=task_id,
                         due_on=due, created_at=created))
    if submitted is not None:
        app.engine.fire(task_id, "submit", actor_email=head, at=submitted, now=submitted)


