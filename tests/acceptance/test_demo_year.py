"""`nckh demo --year 2025`: the sample province's year, one tick a day, checked against the
calendar of the seeds (DOMAIN.md): the unit plan before 31/3, outline-review results before 30/4,
the 6-month report before 5/7, acceptance results before 1/12, the annual report before 5/12,
a science session every month (one reminder, no chasing); reports to the office on 1/7 and 1/12;
at most one scheduled e-mail a day to anyone (a person's notices of a day share one letter, the
office's go to its digest); and no mail ever on a
weekend or a public holiday (a make-up working Saturday is a working day), nor outside office
hours: the scheduler's mail at 08:00, what people's actions queue in the day's afternoon pass.

The demo runs once per module (it replays 365 days); each test reads its output and its database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import holidays
import pytest
from sqlalchemy import select

from storage.db import make_engine
from storage.letters import LetterLine
from storage.models import Task, Unit
from storage.outbox import OutboxMessage
from storage.timers import Obligation
from workflows.clock import DEFAULT_TZ

# One worker runs the whole module: its year-long demo (the fixture) is built once, not per worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo_year")]
NCKH = str(Path(sys.executable).with_name("nckh"))
YEAR = 2025
UNITS = 11


# Session-scoped: a module fixture is set up again after other modules' tests run in between
# (22 s each). The module's `xdist_group` keeps its tests on one worker (tests/conftest.py adds
# the group to their ids the way pytest 9 reads them), so the year is replayed once.
@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCKH_")}
    env["NCKH_DATA_DIR"] = str(data_dir)
    result = subprocess.run([NCKH, "demo", "--year", str(YEAR), "--json"], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout)
    engine = make_engine(f"sqlite:///{data_dir / f'demo-{YEAR}' / 'nckh.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.state,
                   OutboxMessage.sent_at, OutboxMessage.context, OutboxMessage.recipients,
                   OutboxMessage.task_id, Obligation.key, Task.workflow, Unit.code)
            .outerjoin(Obligation, Obligation.task_id == OutboxMessage.task_id)
            .outerjoin(Task, Task.id == OutboxMessage.task_id)
            .outerjoin(Unit, Unit.id == Task.unit_id)
            .order_by(OutboxMessage.id)).all()
        lines = conn.execute(select(LetterLine.item_id, LetterLine.letter_id)).all()
    engine.dispose()
    sent_at = {r.id: r.sent_at.astimezone(DEFAULT_TZ) for r in rows if r.sent_at}
    carried_in: dict[int, list[dt.datetime]] = defaultdict(list)
    for item_id, letter_id in lines:
        if letter_id in sent_at:
            carried_in[item_id].append(sent_at[letter_id])

    def addresses(r: Any) -> list[str]:
        recipients = r.recipients or {}
        return [x["email"] for x in [*recipients.get("to", []), *recipients.get("cc", [])]]

    # A notice: what the engine decided to tell; it reaches people on its own or in a letter
    # (a person's one e-mail of the day) or the office's digest. `sent`: when it first did.
    notices = [{"kind": r.kind, "sent": sent_at.get(r.id) or min(carried_in[r.id], default=None),
                "due_on": (r.context or {}).get("due_on"),
                "days_before": (r.context or {}).get("days_before"), "task_id": r.task_id,
                "obligation": r.key, "workflow": r.workflow, "unit": r.code,
                "unit_id": (r.context or {}).get("unit_id"),
                "session": (r.context or {}).get("session")}
               for r in rows if r.kind not in {"letter", "digest"}]
    # An e-mail: what a mailbox received.
    emails = [{"kind": r.kind, "state": r.state, "sent": sent_at.get(r.id), "to": addresses(r)}
              for r in rows if r.state != "bundled"]
    return {"out": out, "notices": notices, "emails": emails, "stderr": result.stderr,
            "data_dir": data_dir}


def _sent(demo: dict[str, Any], kind: str, **match: object) -> list[dict[str, Any]]:
    return [m for m in demo["notices"] if m["kind"] == kind and m["sent"] is not None
            and all(m[k] == v for k, v in match.items())]


def test_the_timeline_is_the_outbox_and_ends_with_the_compliance_report(
        demo: dict[str, Any]) -> None:
    out = demo["out"]
    assert len(out["timeline"]) == len(demo["emails"]) > 0
    assert out["totals"]["ticks"] == 365
    assert out["report"]["report"] == "compliance" and out["report"]["as_of"] == "2025-12-31"
    assert out["report"]["total"]["registered"] == 16
    assert Path(out["maildir"]).is_dir()
    assert "Replaying 2025" in demo["stderr"]  # the progress bar, on stderr
    table = {r["email"]: r for r in out["recipients"]}
    assert sum(r["total"] for r in out["recipients"]) >= len(demo["emails"])
    assert table[OFFICE]["total"] == sum(OFFICE in m["to"] for m in demo["emails"])


# Decision of the government for 2025: 2/5 (Friday) off, made up on Saturday 26/4.
MAKE_UP_SATURDAYS = {dt.date(YEAR, 4, 26)}
SCHEDULER_KINDS = {"reminder", "deadline_passed", "escalation_unit_head", "escalation_office",
                   "obligation_overdue", "quota_not_met", "report"}
OFFICE = "nghiepvuy@soyte.nckh.example"


def test_no_mail_on_a_weekend_or_holiday_and_only_in_office_hours(demo: dict[str, Any]) -> None:
    days_off = holidays.country_holidays("VN", years=YEAR)
    sent = [m for m in demo["emails"] if m["sent"] is not None]
    assert len(sent) == len(demo["emails"])  # everything went out
    assert all(n["sent"] is not None for n in demo["notices"])  # nothing left waiting
    days = {m["sent"].date() for m in sent}
    assert {d for d in days if d.weekday() >= 5} <= MAKE_UP_SATURDAYS
    assert sorted(d for d in days if d in days_off) == []
    assert {n["sent"].time() for n in demo["notices"] if n["kind"] in SCHEDULER_KINDS} \
        == {dt.time(8, 0)}
    assert {m["sent"].time() for m in sent} <= {dt.time(8, 0), dt.time(16, 0)}


def test_the_years_mail_stays_within_what_a_careful_office_would_send(
        demo: dict[str, Any]) -> None:
    """Issue 12's limits for the sample province. The year used to send 1,648 e-mails: 899 to
    the office (819 escalations, up to 24 a day) and 423 to each head of a unit that never
    reports. Measured now: 399, 58 to the office (60 of all are the monthly session reminders
    of the five units that hold their session late or never, which the issue keeps; 3 are the
    letters that first tell council members what to review: their other notices of those
    days share a letter; 4 are the digests of the two other offices; the units' 30/4 and 1/12
    reports of results, which list their topics, replaced the investigators' reminders before
    those dates)."""
    emails = demo["emails"]
    per_address = Counter(a for m in emails for a in dict.fromkeys(m["to"]))
    heads = {a: n for a, n in per_address.items() if a.startswith("giamdoc@")}
    assert len(emails) <= 400
    assert per_address[OFFICE] <= 70
    assert len(heads) == UNITS and max(heads.values()) <= 52
    scheduled = Counter((a, m["sent"].date()) for m in emails if m["sent"].time() == dt.time(8)
                        for a in dict.fromkeys(m["to"]))
    assert [k for k, n in scheduled.items() if n > 1] == []


def test_councils_are_set_told_and_decide_the_acceptances(demo: dict[str, Any]) -> None:
    """Eight councils (two outline reviews) of three members each: every member is told in a
    letter; the acceptances are their outcomes — xuất sắc, khá, đạt, a pass with revisions, a
    fail — and the excellent one is recognised."""
    from storage.councils import Council, CouncilOutcome, Recognition

    told = _sent(demo, "council_appointed")
    assert len(told) == 24 and len([n for n in demo["notices"]
                                    if n["kind"] == "council_appointed"]) == 24
    engine = make_engine(f"sqlite:///{demo['data_dir'] / f'demo-{YEAR}' / 'nckh.db'}")
    with engine.connect() as conn:
        stages = Counter(conn.scalars(select(Council.stage)))
        outcomes = Counter(conn.execute(select(CouncilOutcome.result, CouncilOutcome.grade)))
        recognised = conn.execute(select(Recognition.decision_no, Recognition.decided_on)).all()
    engine.dispose()
    assert stages == {"acceptance": 6, "outline": 2}
    assert outcomes == {("passed", "excellent"): 1, ("passed", "good"): 1,
                        ("passed", "pass"): 2, ("revise", "pass"): 1, ("failed", None): 1}
    assert recognised == [("215/QĐ-SYT", dt.date(YEAR, 12, 5))]


def _before(mails: list[dict[str, Any]], day: dt.date) -> list[dict[str, Any]]:
    return [m for m in mails if m["sent"].date() < day]


@pytest.mark.parametrize(("obligation", "due"), [
    ("unit_plan", dt.date(YEAR, 3, 31)),
    ("six_month_report", dt.date(YEAR, 7, 5)),
    ("annual_report", dt.date(YEAR, 12, 5)),
])
def test_every_unit_is_asked_and_reminded_before_each_yearly_report_is_due(
        demo: dict[str, Any], obligation: str, due: dt.date) -> None:
    asked = _sent(demo, "obligation_requested", obligation=obligation)
    assert len({m["unit"] for m in asked}) == UNITS
    reminded = _before(_sent(demo, "reminder", obligation=obligation), due)
    assert len({m["unit"] for m in reminded}) == UNITS
    assert all(m["sent"].date() >= due - dt.timedelta(days=31) for m in reminded)


def test_a_science_session_gets_one_reminder_a_month_and_no_chasing(
        demo: dict[str, Any]) -> None:
    """The seeds ask units to hold a session every month, not to report each one: no
    obligation; a unit with no session recorded is reminded once near the month's end."""
    assert [m for m in demo["notices"] if m["obligation"] == "science_session"] == []
    reminded = _sent(demo, "session_reminder")
    per_unit_period = Counter((m["unit_id"], m["session"]["period"]) for m in reminded)
    assert reminded and set(per_unit_period.values()) == {1}
    assert all(m["sent"].date() <= dt.date.fromisoformat(m["session"]["period_end"])
               for m in reminded)
    # Units that hold their session by the 10th are never reminded; the others are, monthly.
    # (BVSN, BVPHCN and TTYT-TD late; BVTT and TN-MT never: 5 units, 12 months each).
    assert len({m["unit_id"] for m in reminded}) == 5 and len(reminded) == 5 * 12
    assert demo["out"]["totals"]["sessions"] == 6 * 12 + 3 * 11  # late units miss Tết's month


def test_outline_reviews_are_reminded_before_30_april_and_acceptance_before_1_december(
        demo: dict[str, Any]) -> None:
    """The 30/4 and 1/12 results are the unit's to report: its head is reminded of the unit's
    report (which lists the topics) before each date; a topic's investigator is not reminded
    of 30/4, and once, two weeks ahead, of 1/12 (the work is theirs to finish)."""
    reports = _sent(demo, "reminder", workflow="unit_report")
    for key, due in (("outline_review_report", dt.date(YEAR, 4, 30)),
                     ("acceptance_report", dt.date(YEAR, 12, 1))):
        sent = [m for m in reports if m["obligation"] == key]
        assert sent and all(m["sent"].date() < due for m in sent), key
    research = [m for m in _sent(demo, "reminder") if m["workflow"] == "unit_task"]
    assert [m for m in research if m["due_on"] == f"{YEAR}-04-30"] == []
    acceptance = [m for m in research if m["due_on"] == f"{YEAR}-12-01"]
    assert acceptance and all(m["sent"].date() < dt.date(YEAR, 12, 1) for m in acceptance)
    assert {m["days_before"] for m in acceptance} == {14}


def test_no_reminder_is_sent_twice_nor_after_its_date(demo: dict[str, Any]) -> None:
    reminders = _sent(demo, "reminder")
    keys = Counter((m["task_id"], m["due_on"], m["days_before"]) for m in reminders)
    assert [k for k, n in keys.items() if n > 1] == []
    late = [m for m in reminders if m["sent"].date() > dt.date.fromisoformat(m["due_on"])]
    assert late == []


def test_units_that_never_report_are_escalated_a_few_times_and_the_quota_is_checked(
        demo: dict[str, Any]) -> None:
    escalated = defaultdict(set)
    for m in _sent(demo, "escalation_unit_head"):
        escalated[m["unit"]].add(m["obligation"])
    assert "unit_plan" in escalated["BVTT"]  # never reports
    assert "unit_plan" not in escalated["BVDKT"]  # reports on time
    series = Counter((m["task_id"], m["due_on"]) for m in _sent(demo, "escalation_unit_head"))
    assert max(series.values()) <= 4  # the first, then at most 3 repeats
    # BVTT has no task: told at the check (5/5, after the 30/4 holidays) and at the year-end
    # re-check (1/12); TN-MT has none either, but the quota does not bind a private hospital.
    quota = _sent(demo, "quota_not_met")
    assert [(m["unit_id"], m["sent"].date()) for m in quota] == [
        (quota[0]["unit_id"], dt.date(YEAR, 5, 5)), (quota[0]["unit_id"], dt.date(YEAR, 12, 1))]


KHTC = "khtc@soyte.nckh.example"
SKHCN = "qlkh@sokhcn.nckh.example"


def test_the_unit_plan_goes_to_planning_and_finance_and_the_so_khcn_is_copied(
        demo: dict[str, Any]) -> None:
    """Plan 57: the unit's plan for the year goes to Phòng Kế hoạch – Tài chính, whose digests
    hold the plans the units hand in and the escalations of those that do not (and the Medical
    Affairs office's none of them); the Sở KH&CN hears of the provincial task's steps in its
    own digest, and of nothing else."""
    timeline = demo["out"]["timeline"]
    khtc = [g for g in timeline if KHTC in g["to"] + g["cc"]]
    assert khtc and {g["kind"] for g in khtc} == {"digest"}
    kinds = [k for g in khtc for k in g["kinds"]]
    assert set(kinds) == {"escalation_office", "report_submitted"}
    # Every notice of the plan is in those digests (a notice reaches one office's digest).
    plan = _sent(demo, "escalation_office", obligation="unit_plan")
    assert len(plan) == kinds.count("escalation_office") == 5  # the late and the silent units
    handed_in = _sent(demo, "report_submitted", obligation="unit_plan")
    assert len(handed_in) == kinds.count("report_submitted") == 9  # all but BVTT and TN-MT
    copies = [g for g in timeline if SKHCN in g["to"] + g["cc"]]
    assert copies and {g["kind"] for g in copies} == {"digest"}
    assert {k for g in copies for k in g["kinds"]} == {"task_registered", "outline_approved",
                                                       "started"}
    province = {m["task_id"] for m in demo["notices"] if m["workflow"] == "province_task"}
    assert len(province) == 1


def test_the_office_gets_the_compilations_after_the_5_7_and_5_12_deadlines(
        demo: dict[str, Any]) -> None:
    # 5/7/2025 is a Saturday (legal end 7/7); the second working day after: 9/7. 5/12 is a
    # Friday: 9/12.
    reports = _sent(demo, "report")
    assert [m["sent"].date() for m in reports] == [dt.date(YEAR, 7, 9), dt.date(YEAR, 12, 9)]
    # Each rides in that day's digest, with its files: the office gets one mail that day.
    carriers = [g for g in demo["out"]["timeline"] if "report" in g["kinds"]]
    assert [(g["kind"], g["at"][:10], g["to"]) for g in carriers] == [
        ("digest", "2025-07-09", [OFFICE]), ("digest", "2025-12-09", [OFFICE])]
    assert carriers[0]["attachments"] == ["nckh-tien-do-2025-2025-07-08.xlsx",
                                          "nckh-tien-do-2025-2025-07-08.csv"]
    assert not [m for m in demo["emails"] if m["kind"] == "report"]


def test_the_demo_leaves_the_operators_database_alone(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCKH_")}
    env |= {"NCKH_DATA_DIR": str(tmp_path), "NCKH_DATABASE_URL": "sqlite:////nonexistent/x.db"}
    bad = subprocess.run([NCKH, "demo", "--year", "1999"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert (bad.returncode, bad.stderr) == (2, "nckh: invalid year 1999: expected 2000–2100\n")
    assert list(tmp_path.iterdir()) == []
