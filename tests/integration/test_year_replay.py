"""2025 replayed for a small province, one tick a day at 08:00, against a schedule written by hand.

Three units (A sends what is asked the same day; B on the day of its reminder; C the day after
its reminder, late with its plan and with its 6-month report), four research topics on
different paths (T1 approved early, accepted before 1/12; T2 left in `proposed` across 30/4,
then in progress across 1/12; T3 extended; T4 registered late and cancelled), and the calendar
obligations of the config (unit plan, 6-month and annual reports, the monthly science session,
the quota check, two report dates). The whole app runs: the scheduler, the outbox writer, the
dispatcher (into the maildir, so every notice's readers are resolved, fanned out into letters
and delivered) and the reports mailer. Each row asserted is one notice: its day, its task, what
it says, and the roles it is for; the test also checks the addresses behind those roles and that
every notice went out in a letter (or the digest) that was sent.

`YEAR_2025` below is the schedule worked out by hand from the definitions
(workflows/definitions/unit_task.yaml and unit_report.yaml: a research topic is reminded 14 and
3 days before, 30/14/3 in progress, a unit's report 7 days before; the notice the day after;
the unit head a week after the legal end and weekly three more times, the office once; a
science session only reminded, 5 days before, as the config says) and the 2025 calendar — not
computed by the planner under test:

    1/1; Tết 27/1–31/1 (+ Sat 1/2); Hùng Kings Mon 7/4; 30/4, 1/5 and Fri 2/5 (swapped with the
    make-up working Saturday 26/4); National Day Mon 1/9 and Tue 2/9.

Rules applied by hand: a reminder counts back from the last working day on or before the due day
and rolls earlier to a working day; Civil Code art. 148 moves the legal end of a due day that is
a day off to the next working day; the deadline notice goes out on the first working day after
the legal end, escalation step N days after it (rolled later). So "before 30/4" reminds against
Tue 29/4 (15/4, Sat 26/4) and passes after Mon 5/5; 5/7 (Sat) ends on 7/7; 31/8 (Sun) ends on
Wed 3/9.

The downtime scenario at the end: the daemon is off for two weeks across several due timers; the
one tick after it sends, of each ladder, only the latest step due, once, and the ladders go on
from there.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from engine.app import App, build
from engine.directory import UnitInput
from storage.letters import LetterLine
from storage.models import Person, Task, Unit
from storage.outbox import OutboxMessage
from storage.timers import Obligation, Timer
from tests.conftest import local, make_settings
from tests.scheduling import TOPIC_LADDER_TOML

D = dt.date
OFFICE = "office@syt.example.vn"
COUNCIL = "council@syt.example.vn"

CONFIG = """
[mail]
digest_weekday = "off"
[scheduler]
quota_check = "04-30"
reports = {progress = "07-01", compliance = "12-01"}
[[scheduler.obligations]]
key = "unit_plan"
title = "Kế hoạch và quy chế nghiên cứu khoa học năm {year}"
request = "01-02"
due = "03-31"
[[scheduler.obligations]]
key = "six_month_report"
title = "Báo cáo sơ kết 6 tháng đầu năm {year}"
request = "06-01"
due = "07-05"
[[scheduler.obligations]]
key = "annual_report"
title = "Báo cáo tổng kết hoạt động khoa học năm {year}"
request = "11-01"
due = "12-05"
[[scheduler.obligations]]
key = "science_session"
title = "Biên bản sinh hoạt khoa học tháng {month}/{year}"
every = "month"
announce = false
timers = {remind_before = [5], overdue_notice = false}
""" + TOPIC_LADDER_TOML

SHORT = {"unit_plan": "plan", "six_month_report": "6mo", "annual_report": "annual",
         "science_session": "session"}

Row = tuple[str, str, str, str, str]

# (day, who, what, to roles, cc roles) — one row per notice, in no particular order within a day.
# who: T1–T4 are the research topics; "session-08/B" is unit B's August science session.
# Readers by kinds.yaml: a reminder and the notice go to whoever must act (a topic's investigator;
# a unit's report's investigator is its head); the head's escalation has the unit's research
# contact in copy; the office's is for its digest.
YEAR_2025: list[Row] = [
    # A unit's monthly science session: one reminder 5 days before the month's last working day
    # (31/1 is in Tết, so 24/1: the 17th), to the head; no request, no notice, no escalation.
    ("01-17", "session-01/B", "reminder 5d, due 31/01", "unit_head", ""),
    ("01-17", "session-01/C", "reminder 5d, due 31/01", "unit_head", ""),
    ("02-21", "session-02/B", "reminder 5d, due 28/02", "unit_head", ""),
    ("02-21", "session-02/C", "reminder 5d, due 28/02", "unit_head", ""),
    ("03-19", "T1", "reminder 14d, due 02/04 [outline_approved]", "pi", ""),
    # Yearly reports: one reminder a week before (the request of 2/1 said the date first).
    ("03-24", "plan/B", "reminder 7d, due 31/03", "unit_head", ""),
    ("03-24", "plan/C", "reminder 7d, due 31/03", "unit_head", ""),
    ("03-26", "session-03/B", "reminder 5d, due 31/03", "unit_head", ""),
    ("03-26", "session-03/C", "reminder 5d, due 31/03", "unit_head", ""),
    ("03-28", "T3", "reminder 14d, due 13/04 [outline_approved]", "pi", ""),
    # C's plan is late (sent 15/4): the notice the day after 31/3; a week on (7/4 is Hùng Kings:
    # 8/4) the head, with the contact, and the office once, in its digest; the head weekly after.
    ("04-01", "plan/C", "passed, due 31/03", "unit_head", "unit_contact"),
    ("04-08", "plan/C", "escalated to office, +8d", "office", ""),
    ("04-08", "plan/C", "escalated to unit_head, +8d", "unit_head", "unit_contact"),
    ("04-14", "plan/C", "escalated to unit_head, +14d", "unit_head", "unit_contact"),
    # "Before 30/4": remind against Tue 29/4 (the 3-day one on the make-up Saturday 26/4) ...
    ("04-15", "T2", "reminder 14d, due 30/04 [proposed]", "pi", ""),
    ("04-24", "session-04/B", "reminder 5d, due 30/04", "unit_head", ""),
    ("04-24", "session-04/C", "reminder 5d, due 30/04", "unit_head", ""),
    ("04-26", "T2", "reminder 3d, due 30/04 [proposed]", "pi", ""),
    ("04-26", "T4", "reminder 3d, due 30/04 [proposed]", "pi", ""),
    # ... the quota check of 30/4 runs on the next working day, Mon 5/5 ...
    ("05-05", "quota/C", "quota 2025", "unit_head", "office+unit_contact"),
    # ... and T2's notice comes after the legal end, Mon 5/5, to its investigator alone; the
    # head a week on, weekly three more times (the fourth would be 2/6: approved on 27/5).
    ("05-06", "T2", "passed, due 30/04 [proposed]", "pi", ""),
    ("05-12", "T2", "escalated to office, +7d [proposed]", "office", ""),
    ("05-12", "T2", "escalated to unit_head, +7d [proposed]", "unit_head", "unit_contact"),
    ("05-19", "T2", "escalated to unit_head, +14d [proposed]", "unit_head", "unit_contact"),
    ("05-23", "session-05/B", "reminder 5d, due 31/05", "unit_head", ""),
    ("05-23", "session-05/C", "reminder 5d, due 31/05", "unit_head", ""),
    ("05-26", "T2", "escalated to unit_head, +21d [proposed]", "unit_head", "unit_contact"),
    ("06-12", "T2", "reminder 14d, due 26/06 [outline_approved]", "pi", ""),
    ("06-25", "session-06/B", "reminder 5d, due 30/06", "unit_head", ""),
    ("06-25", "session-06/C", "reminder 5d, due 30/06", "unit_head", ""),
    ("06-27", "6mo/B", "reminder 7d, due 05/07", "unit_head", ""),
    ("06-27", "6mo/C", "reminder 7d, due 05/07", "unit_head", ""),
    ("07-01", "report", "report progress 2025", "office", ""),
    # 5/7 is a Saturday: the legal end is Mon 7/7.
    ("07-08", "6mo/C", "passed, due 05/07", "unit_head", "unit_contact"),
    ("07-14", "6mo/C", "escalated to office, +7d", "office", ""),
    ("07-14", "6mo/C", "escalated to unit_head, +7d", "unit_head", "unit_contact"),
    ("07-25", "session-07/B", "reminder 5d, due 31/07", "unit_head", ""),
    ("07-25", "session-07/C", "reminder 5d, due 31/07", "unit_head", ""),
    ("08-22", "session-08/B", "reminder 5d, due 31/08", "unit_head", ""),
    ("08-22", "session-08/C", "reminder 5d, due 31/08", "unit_head", ""),
    ("09-25", "session-09/B", "reminder 5d, due 30/09", "unit_head", ""),
    ("09-25", "session-09/C", "reminder 5d, due 30/09", "unit_head", ""),
    ("10-24", "session-10/B", "reminder 5d, due 31/10", "unit_head", ""),
    ("10-24", "session-10/C", "reminder 5d, due 31/10", "unit_head", ""),
    ("10-31", "T1", "reminder 30d, due 01/12 [in_progress]", "pi", ""),
    ("10-31", "T2", "reminder 30d, due 01/12 [in_progress]", "pi", ""),
    ("10-31", "T3", "reminder 30d, due 01/12 [in_progress]", "pi", ""),
    ("11-17", "T2", "reminder 14d, due 01/12 [in_progress]", "pi", ""),
    # T3 was extended on 12/11 to Mon 22/12: its ladder starts again from there.
    ("11-21", "T3", "reminder 30d, due 22/12 [in_progress]", "pi", ""),
    ("11-21", "session-11/B", "reminder 5d, due 30/11", "unit_head", ""),
    ("11-21", "session-11/C", "reminder 5d, due 30/11", "unit_head", ""),
    ("11-28", "T2", "reminder 3d, due 01/12 [in_progress]", "pi", ""),
    ("11-28", "annual/B", "reminder 7d, due 05/12", "unit_head", ""),
    ("11-28", "annual/C", "reminder 7d, due 05/12", "unit_head", ""),
    ("12-01", "report", "report compliance 2025", "office", ""),
    # ... and the quota is checked again at the year's end (quota_recheck, default 1/12): C
    # still has no topic.
    ("12-01", "quota/C", "quota 2025", "unit_head", "office+unit_contact"),
    # T2 misses 1/12: the head on 8/12 and three repeats, the last on 29/12 (the year's end).
    ("12-02", "T2", "passed, due 01/12 [in_progress]", "pi", ""),
    ("12-08", "T2", "escalated to office, +7d [in_progress]", "office", ""),
    ("12-08", "T2", "escalated to unit_head, +7d [in_progress]", "unit_head", "unit_contact"),
    ("12-08", "T3", "reminder 14d, due 22/12 [in_progress]", "pi", ""),
    ("12-15", "T2", "escalated to unit_head, +14d [in_progress]", "unit_head", "unit_contact"),
    ("12-19", "T3", "reminder 3d, due 22/12 [in_progress]", "pi", ""),
    ("12-22", "T2", "escalated to unit_head, +21d [in_progress]", "unit_head", "unit_contact"),
    ("12-23", "T3", "passed, due 22/12 [in_progress]", "pi", ""),
    ("12-26", "session-12/B", "reminder 5d, due 31/12", "unit_head", ""),
    ("12-26", "session-12/C", "reminder 5d, due 31/12", "unit_head", ""),
    ("12-29", "T2", "escalated to unit_head, +28d [in_progress]", "unit_head", "unit_contact"),
    ("12-29", "T3", "escalated to office, +7d [in_progress]", "office", ""),
    ("12-29", "T3", "escalated to unit_head, +7d [in_progress]", "unit_head", "unit_contact"),
]

# What people do, at 10:00 of the day (after the 08:00 tick). A unit sends its obligations by
# habit: A on the day it is asked, B on the day of its last reminder, C of its first; except
# these late ones, sent on the day given (None: not in the replay).
HABITS = {"A": "asked", "B": "reminder", "C": "after reminder"}
LATE_SUBMISSIONS: dict[tuple[str, str, int], dt.date | None] = {
    ("session", "C", 1): D(2025, 2, 11), ("plan", "C", 0): D(2025, 4, 15),
    ("6mo", "C", 0): D(2025, 7, 15), ("session", "B", 8): D(2025, 9, 18)}


def head(code: str) -> str:
    return f"head.{code.lower()}@syt.example.vn"


def contact(code: str) -> str:
    return f"khth.{code.lower()}@syt.example.vn"


def pi_email(label: str) -> str:
    return f"pi.{label.lower()}@syt.example.vn"


# --- recording --------------------------------------------------------------------------------
@dataclass
class Fact:
    at: dt.datetime
    task_id: int | None
    unit_id: int | None
    what: str
    state: str | None
    dedupe_key: str
    timer_id: int | None = None


@dataclass
class Facts:
    """What the scheduler did (timers fired, quota and report mails queued), read back from the
    database, each with the outbox dedupe key its e-mail must have been queued under."""

    app: App

    @property
    def all(self) -> list[Fact]:
        tz = self.app.engine.tz
        out: list[tuple[tuple[object, ...], Fact]] = []
        with self.app.engine.transaction(read_only=True) as s:  # a caller may hold the lock
            for t in s.scalars(select(Timer).where(Timer.status == "fired",
                                                   Timer.kind != "auto_event")):
                assert t.done_at is not None
                due = f"due {t.due_on:%d/%m}"
                if t.kind == "reminder":
                    fact = Fact(t.done_at, t.task_id, None, f"reminder {t.days}d, {due}",
                                t.state, f"reminder:{t.id}", t.id)
                elif t.kind == "deadline":
                    fact = Fact(t.done_at, t.task_id, None, f"passed, {due}", t.state,
                                f"passed:{t.id}", t.id)
                else:
                    overdue = (t.done_at.astimezone(tz).date() - t.legal_end).days
                    fact = Fact(t.done_at, t.task_id, None,
                                f"escalated to {t.to_role}, +{overdue}d", t.state,
                                f"escalated:{t.id}:{t.slot + 1}:{overdue}", t.id)
                out.append(((t.done_at, 1, t.task_id, t.id), fact))
            for m in s.scalars(select(OutboxMessage).where(
                    OutboxMessage.kind.in_(("quota_not_met", "report")))):
                if m.kind == "quota_not_met":
                    fact = Fact(m.created_at, None, int(m.context["unit_id"]),
                                f"quota {m.context['quota']['year']}", None, m.dedupe_key)
                else:
                    _, name, year, _ = m.dedupe_key.split(":")
                    fact = Fact(m.created_at, None, None, f"report {name} {year}", None,
                                m.dedupe_key)
                out.append(((m.created_at, 0, 0, m.id), fact))
        return [fact for _, fact in sorted(out, key=lambda r: r[0])]  # type: ignore[arg-type]

    def on(self, day: dt.date) -> list[Fact]:
        tz = self.app.engine.tz
        return [f for f in self.all if f.at.astimezone(tz).date() == day]


# --- the province and its people's habits ----------------------------------------------------
@dataclass
class Province:
    app: App
    facts: Facts
    habits: dict[str, str]
    late: dict[tuple[str, str, int], dt.date | None]
    topics: dict[str, int] = field(default_factory=dict)

    @classmethod
    def open(cls, url: str, data_dir: Path, config: str, habits: dict[str, str],
             late: dict[tuple[str, str, int], dt.date | None]) -> Province:
        path = data_dir / "nckh.toml"
        path.write_text(config, encoding="utf-8")
        app = build(make_settings(url, data_dir, NCKH_CONFIG=str(path), NCKH_OFFICE_EMAIL=OFFICE))
        facts = Facts(app)
        now = local(2024, 12, 20, 9)
        for code in habits:
            app.engine.add_unit(UnitInput(code, f"Trung tâm Y tế {code}",
                                          f"BS.CKII Giám đốc {code}", head(code), contact(code)),
                                now=now)
        app.engine.add_person(email=OFFICE, name="Phòng Nghiệp vụ Y", role="office", now=now)
        app.engine.add_person(email=COUNCIL, name="Hội đồng KHCN", role="council", now=now)
        return cls(app, facts, habits, late)

    def register(self, label: str, unit: str, day: dt.date) -> None:
        self.topics[label] = self.app.engine.create_task(
            unit_code=unit, level="unit", title=f"Đề tài {label} của đơn vị {unit}",
            pi_email=pi_email(label), pi_name=f"ThS.BS Chủ nhiệm {label}", year=2025,
            now=at10(day))

    def fire(self, label: str, event: str, actor: str, day: dt.date,
             **data: str) -> None:
        reason = "Theo đề nghị của đơn vị" if event in ("extend", "cancel") else None
        self.app.engine.fire(self.topics[label], event, actor_email=actor, reason=reason,
                             data=data, now=at10(day))

    def labels(self) -> dict[int, str]:
        """Task id → label: T1… for topics, plan/B or session-08/B for obligations."""
        out = {tid: label for label, tid in self.topics.items()}
        with self.app.sessions() as s:
            for o, code in s.execute(select(Obligation, Unit.code)
                                     .join(Unit, Unit.id == Obligation.unit_id)):
                short = SHORT[o.key]
                out[o.task_id] = (f"{short}-{o.period:02d}/{code}" if o.period
                                  else f"{short}/{code}")
        return out

    def act_on_obligations(self, day: dt.date) -> None:
        """Each unit sends what is asked of it by its habit, the late ones on their day; the
        office acknowledges at once."""
        tz = self.app.engine.tz
        reminders = [f for f in self.facts.all if f.what.startswith("reminder")]
        today = {f.task_id for f in reminders if f.at.astimezone(tz).date() == day}
        before = {f.task_id for f in reminders if f.at.astimezone(tz).date() < day}
        with self.app.sessions() as s:
            open_rows = s.execute(
                select(Obligation, Unit.code).join(Unit, Unit.id == Obligation.unit_id)
                .join(Task, Task.id == Obligation.task_id).where(Task.state == "requested")
                .order_by(Obligation.id)).all()
        for o, code in open_rows:
            key = (SHORT[o.key], code, o.period)
            if key in self.late:
                due = self.late[key] == day
            elif self.habits[code] == "asked":
                due = True
            elif self.habits[code] == "reminder":
                due = o.task_id in today
            else:
                due = o.task_id in before
            if due:
                self.app.engine.fire(o.task_id, "submit", actor_email=head(code),
                                     data={"reference": f"{o.id}/BC-{code}"}, now=at10(day))
                self.app.engine.fire(o.task_id, "acknowledge", actor_email=OFFICE,
                                     now=at10(day) + dt.timedelta(hours=1))


def at10(day: dt.date) -> dt.datetime:
    return local(day.year, day.month, day.day, 10)


def days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


# The research topics' paths (what people do to them, at 10:00).
TOPIC_ACTIONS: dict[dt.date, list[Callable[[Province], None]]] = {
    D(2025, 1, 6): [lambda p: p.register("T1", "A", D(2025, 1, 6)),
                    lambda p: p.register("T2", "A", D(2025, 1, 6)),
                    lambda p: p.register("T3", "B", D(2025, 1, 6))],
    # T1: approved well before 30/4 (its outline timers die), started, accepted before 1/12.
    D(2025, 3, 3): [lambda p: p.fire("T1", "approve_outline", COUNCIL, D(2025, 3, 3))],
    D(2025, 3, 24): [lambda p: p.fire("T1", "start", head("A"), D(2025, 3, 24))],
    D(2025, 11, 14): [lambda p: p.fire("T1", "accept", COUNCIL, D(2025, 11, 14))],
    # T2: left in `proposed` across 30/4, approved late, in progress across 1/12 to the year end.
    D(2025, 5, 27): [lambda p: p.fire("T2", "approve_outline", COUNCIL, D(2025, 5, 27))],
    D(2025, 6, 16): [lambda p: p.fire("T2", "start", OFFICE, D(2025, 6, 16))],
    # T3: approved, started after one reminder, extended to 22/12 before 1/12.
    D(2025, 3, 14): [lambda p: p.fire("T3", "approve_outline", OFFICE, D(2025, 3, 14))],
    D(2025, 3, 31): [lambda p: p.fire("T3", "start", head("B"), D(2025, 3, 31))],
    D(2025, 11, 12): [lambda p: p.fire("T3", "extend", head("B"), D(2025, 11, 12),
                                       until="2025-12-22")],
    # T4: registered on 22/4, too late for the 14-day reminder (15/4); cancelled after its 3-day.
    D(2025, 4, 22): [lambda p: p.register("T4", "B", D(2025, 4, 22))],
    D(2025, 4, 28): [lambda p: p.fire("T4", "cancel", head("B"), D(2025, 4, 28))],
}


# --- what came out ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    rows: list[Row]  # as YEAR_2025
    problems: list[str]  # recipients that are not the right people, unsent messages, …
    timer_statuses: dict[str, int]
    timer_ids: list[int]
    pending_in_the_past: list[str]


def collect(p: Province, until: dt.datetime) -> Outcome:
    tz = p.app.engine.tz
    labels = p.labels()
    problems: list[str] = []
    with p.app.sessions() as s:
        mails = {m.dedupe_key: m for m in s.scalars(select(OutboxMessage))}
        sent_ids = {m.id for m in mails.values() if m.state == "sent"}
        lines: dict[int, list[LetterLine]] = {}
        for line in s.scalars(select(LetterLine)):
            lines.setdefault(line.item_id, []).append(line)
        units = {u.id: u for u in s.scalars(select(Unit))}
        tasks = {t.id: t for t in s.scalars(select(Task))}
        pis = {q.id: q.email for q in s.scalars(select(Person))}
        timers = list(s.scalars(select(Timer)))
        rows = []
        for f in p.facts.all:
            when = f.at.astimezone(tz)
            if when.time() != dt.time(8, 0):
                problems.append(f"{f.dedupe_key} fired at {when.isoformat()}")
            task = tasks.get(f.task_id) if f.task_id else None
            unit = units[task.unit_id] if task else units.get(f.unit_id or 0)
            who = (labels[task.id] if task else f"quota/{unit.code}" if unit else "report")
            state = f" [{f.state}]" if f.state and task and task.workflow == "unit_task" else ""
            mail = mails.get(f.dedupe_key)
            # A notice reaches its readers in their letters of the day (the office's in its
            # digest): it is delivered when every one of its lines went out in a sent letter.
            if mail is not None and mail.state == "bundled":
                undelivered = [ln.email for ln in lines.get(mail.id, [])
                               if ln.letter_id not in sent_ids]
                if undelivered or not lines.get(mail.id):
                    problems.append(f"{f.dedupe_key}: not delivered to {undelivered}")
            if mail is None or mail.state not in ("sent", "bundled") or mail.recipients is None:
                problems.append(f"{f.dedupe_key}: no sent mail "
                                f"({mail.state if mail else 'not queued'})")
                rows.append((f"{when:%m-%d}", who, f.what + state, "?", "?"))
                continue
            expect = {"pi": pis[task.pi_id] if task else None, "office": OFFICE,
                      "addressed": OFFICE, "unit_head": head(unit.code) if unit else None,
                      "unit_contact": contact(unit.code) if unit else None}
            for r in mail.recipients["to"] + mail.recipients["cc"]:
                if r["email"] != expect[r["role"]]:
                    problems.append(f"{f.dedupe_key}: {r['role']} is {r['email']}, "
                                    f"expected {expect[r['role']]}")
            to = "+".join(r["role"] for r in mail.recipients["to"])
            cc = "+".join(r["role"] for r in mail.recipients["cc"])
            rows.append((f"{when:%m-%d}", who, f.what + state, to, cc))
        queued = {k for k in mails if k.split(":")[0] in ("reminder", "passed", "escalated",
                                                          "quota", "report")}
        extra = queued - {f.dedupe_key for f in p.facts.all}
        problems += [f"{k}: queued without a published fact" for k in sorted(extra)]
        statuses: dict[str, int] = {}
        for t in timers:
            statuses[t.status] = statuses.get(t.status, 0) + 1
        late = [f"{labels.get(t.task_id)} {t.kind} {t.fire_at.astimezone(tz):%m-%d}"
                for t in timers if t.status == "pending" and t.fire_at <= until]
    return Outcome(sorted(rows), problems, statuses,
                   [f.timer_id for f in p.facts.all if f.timer_id is not None], late)


NO_MISMATCH: dict[str, list[Row]] = {"fired, not expected": [], "expected, not fired": []}


def mismatch(fired: list[Row], expected: list[Row]) -> dict[str, list[Row]]:
    """Both ways, counting repeats: a message sent twice is one 'fired, not expected'."""
    got, want = Counter(fired), Counter(expected)
    return {"fired, not expected": sorted((got - want).elements()),
            "expected, not fired": sorted((want - got).elements())}


def replay_2025(url: str, data_dir: Path) -> Outcome:
    p = Province.open(url, data_dir, CONFIG, HABITS, LATE_SUBMISSIONS)
    try:
        for day in days(D(2025, 1, 1), D(2025, 12, 31)):
            p.app.tick(local(day.year, day.month, day.day, 8))
            for action in TOPIC_ACTIONS.get(day, []):
                action(p)
            p.act_on_obligations(day)
        p.app.tick(local(2025, 12, 31, 17))  # the day's last pass sends what people queued
        return collect(p, local(2025, 12, 31, 17))
    finally:
        p.app.close()


# --- the year -------------------------------------------------------------------------------
def test_2025_replayed_day_by_day_fires_exactly_the_hand_written_schedule(
        db_url: str, tmp_path: Path) -> None:
    """One test per backend, not one per assertion: the replay is the expensive part (seconds),
    and pytest-xdist would run a shared module fixture once per worker anyway."""
    year = replay_2025(db_url, tmp_path)
    assert mismatch(year.rows, YEAR_2025) == NO_MISMATCH
    assert year.problems == []  # right people, sent, at 08:00, nothing queued without a fact
    assert len(year.timer_ids) == len(set(year.timer_ids))
    assert year.pending_in_the_past == []
    assert year.timer_statuses.get("skipped", 0) == 0  # left states cancel their timers
    assert year.timer_statuses["fired"] == len(year.timer_ids)


# --- downtime: two weeks off, one tick, then the ladders go on -------------------------------
DOWNTIME_CONFIG = """
[mail]
digest_weekday = "off"
[scheduler]
quota_check = "off"
reports = {}
[[scheduler.obligations]]
key = "unit_plan"
title = "Kế hoạch và quy chế nghiên cứu khoa học năm {year}"
request = "01-02"
due = "03-31"
[[scheduler.obligations]]
key = "science_session"
title = "Biên bản sinh hoạt khoa học tháng {month}/{year}"
every = "month"
"""
DOWN_FROM, DOWN_UNTIL = D(2025, 3, 31), D(2025, 4, 13)  # no tick on these 14 days

# One unit, C, that sends every obligation on the day it is asked, except its plan (due 31/3)
# and April's session record, which it never sends. T5's outline was approved on 3/3 (due 2/4),
# T6's and T7's on 17/3 (due Wed 16/4); T5 and T6 never start, T7 starts during the downtime.
# Due while the daemon is down: the plan's overdue notice and escalation to the head (1/4) and two
# weekly office occurrences (8/4, 14/4); T5's notice, head (3/4) and office (9/4); both of T6's
# reminders (2/4, 11/4), and T7's, which started meanwhile; April's session request (1/4). The
# 14/4 tick sends, of each ladder, the latest step due (the office's escalations aside: they go to
# its digest and supersede nothing), once, with the days overdue as of 14/4; none for T7; and
# creates April's session; afterwards the ladders go on from the next occurrence.
DOWNTIME: list[Row] = [
    ("03-19", "T5", "reminder 14d, due 02/04 [outline_approved]", "pi", ""),
    ("03-24", "plan/C", "reminder 7d, due 31/03", "unit_head", ""),
    ("03-28", "T5", "reminder 3d, due 02/04 [outline_approved]", "pi", ""),
    # 14/4, one tick for two weeks: of each ladder the latest step due (the notices of 1/4 and
    # 3/4 superseded by the head's escalations; T6's 14-day reminder by its 3-day one), once,
    # counted as of 14/4; the office's once each, in its digest; nothing for T7.
    ("04-14", "T5", "escalated to office, +12d [outline_approved]", "office", ""),
    ("04-14", "T5", "escalated to unit_head, +12d [outline_approved]", "unit_head", "unit_contact"),
    ("04-14", "T6", "reminder 3d, due 16/04 [outline_approved]", "pi", ""),
    ("04-14", "plan/C", "escalated to office, +14d", "office", ""),
    ("04-14", "plan/C", "escalated to unit_head, +14d", "unit_head", "unit_contact"),
    ("04-16", "T5", "escalated to unit_head, +14d [outline_approved]", "unit_head", "unit_contact"),
    ("04-17", "T6", "passed, due 16/04 [outline_approved]", "pi", ""),
    ("04-21", "plan/C", "escalated to unit_head, +21d", "unit_head", "unit_contact"),
    ("04-22", "session-04/C", "reminder 7d, due 30/04", "unit_head", ""),
    ("04-23", "T5", "escalated to unit_head, +21d [outline_approved]", "unit_head", "unit_contact"),
    ("04-23", "T6", "escalated to office, +7d [outline_approved]", "office", ""),
    ("04-23", "T6", "escalated to unit_head, +7d [outline_approved]", "unit_head", "unit_contact"),
    ("04-28", "plan/C", "escalated to unit_head, +28d", "unit_head", "unit_contact"),
    # 30/4 to 4/5 are days off: the heads' occurrences of 30/4 go out Mon 5/5.
    ("05-05", "T5", "escalated to unit_head, +33d [outline_approved]", "unit_head", "unit_contact"),
    ("05-05", "T6", "escalated to unit_head, +19d [outline_approved]", "unit_head", "unit_contact"),
    ("05-06", "session-04/C", "passed, due 30/04", "unit_head", "unit_contact"),
    ("05-07", "T6", "escalated to unit_head, +21d [outline_approved]", "unit_head", "unit_contact"),
]


def test_after_two_weeks_down_one_tick_fires_each_missed_timer_once_and_the_ladders_go_on(
        db_url: str, tmp_path: Path) -> None:
    p = Province.open(db_url, tmp_path, DOWNTIME_CONFIG, {"C": "asked"},
                      {("plan", "C", 0): None, ("session", "C", 4): None})
    actions: dict[dt.date, list[Callable[[Province], None]]] = {
        D(2025, 1, 6): [lambda p: p.register("T5", "C", D(2025, 1, 6)),
                        lambda p: p.register("T6", "C", D(2025, 1, 6)),
                        lambda p: p.register("T7", "C", D(2025, 1, 6))],
        D(2025, 3, 3): [lambda p: p.fire("T5", "approve_outline", OFFICE, D(2025, 3, 3))],
        D(2025, 3, 17): [lambda p: p.fire("T6", "approve_outline", OFFICE, D(2025, 3, 17)),
                         lambda p: p.fire("T7", "approve_outline", OFFICE, D(2025, 3, 17))],
        # People work while the daemon is down: T7 starts, so its missed reminder (2/4) and the
        # rest of its outline ladder must never go out.
        D(2025, 4, 7): [lambda p: p.fire("T7", "start", head("C"), D(2025, 4, 7))],
    }
    try:
        for day in days(D(2025, 1, 1), D(2025, 5, 7)):
            if not DOWN_FROM <= day <= DOWN_UNTIL:
                p.app.tick(local(day.year, day.month, day.day, 8))
            if day == D(2025, 4, 14):
                p.app.tick(local(2025, 4, 14, 9))  # a second pass the same day finds nothing
            for action in actions.get(day, []):
                action(p)
            p.act_on_obligations(day)
        p.app.tick(local(2025, 5, 7, 17))
        out = collect(p, local(2025, 5, 7, 17))
        with p.app.sessions() as s:
            april = s.scalars(select(Obligation.created_at).where(
                Obligation.key == "science_session", Obligation.period == 4)).all()
    finally:
        p.app.close()
    assert mismatch(out.rows, DOWNTIME) == NO_MISMATCH
    assert out.problems == []
    assert len(out.timer_ids) == len(set(out.timer_ids))
    assert out.pending_in_the_past == []
    assert [a.astimezone(p.app.engine.tz) for a in april] == [local(2025, 4, 14, 8)]
