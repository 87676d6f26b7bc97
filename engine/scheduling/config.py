"""The scheduler's configuration: the `[scheduler]` and `[calendar]` sections, validated once.

Owns the defaults that match the seeds (unit plan before 31/3, 6-month report before 5/7, annual
report before 5/12, the quota check on 30/4, the progress report on 1/7 and the compliance report
on 1/12), how often each unit holds its science session (`[scheduler.sessions]`: monthly by
default, quarterly for the units named) and the per-workflow timer overrides. A bad value is an
`InputError` naming the key, raised before anything touches the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from workflows.calendar import BusinessCalendar, parse_days
from workflows.errors import InputError
from workflows.inputs import LIMITS, MAX_YEAR, check_keys, clean_text
from workflows.model import UNIT_KINDS, EscalationStep, TimerPolicy, Workflow, month_day
from workflows.periods import PERIOD_KINDS, SessionPlan
from workflows.timerpolicy import parse_timer_policy


@dataclass(frozen=True)
class ObligationSpec:
    """A recurring duty of every active unit, instantiated as an obligation-workflow task."""

    key: str
    title: str  # formatted with {year} and {month}
    every: str = "year"  # "year" or "month"
    request: tuple[int, int] = (1, 2)  # yearly: (month, day) the obligation is created
    due: tuple[int, int] = (12, 31)  # yearly: (month, day) it is due
    request_day: int = 1  # monthly: day of the month it is created
    due_day: int = 0  # monthly: day of the month it is due; 0 = the last day
    announce: bool = True  # the unit is asked by mail when it is created
    timers: TimerPolicy | None = None  # its reminders and escalations (else the workflow's)
    # A unit report that lists the unit's topics: the milestone it reports on (see
    # workflows/concerns.py). The 30/4 report lists the outline reviews, the 1/12 one the
    # acceptances; its mails list them, as they stand on the day each is written.
    concerns: str | None = None
    # The office that receives it (`[[offices]]` key, checked at `build`); None: the default.
    office: str | None = None


# The unit reports of results: a reminder a week before, the head's notice the day after, and a
# week on the head once more and the office's digest; no weekly series (the unit report asks
# for what each topic's own investigator already had a notice of).
UNIT_REPORT_TIMERS = TimerPolicy(remind_before_days=(7,), escalate=(
    EscalationStep(7, "unit_head"), EscalationStep(7, "office")))
# The acceptance report's reminder falls 3 days before 1/12: on 28/11, the day of the annual
# report's (7 days before 5/12), so the head reads both in one letter.
ACCEPTANCE_REPORT_TIMERS = replace(UNIT_REPORT_TIMERS, remind_before_days=(3,))

DEFAULT_OBLIGATIONS = (
    ObligationSpec("unit_plan", "Kế hoạch và quy chế nghiên cứu khoa học năm {year}",
                   request=(1, 2), due=(3, 31)),
    # The plans' two reports of results, each listing the unit's topics: the outline reviews
    # before 30/4 and the acceptances before 1/12. They replace the reminders each topic's
    # investigator had before those dates (the unit reports, not each investigator).
    ObligationSpec("outline_review_report",
                   "Báo cáo kết quả xét duyệt đề cương nghiên cứu khoa học năm {year}",
                   request=(4, 1), due=(4, 30), concerns="outline_approved",
                   timers=UNIT_REPORT_TIMERS),
    ObligationSpec("six_month_report", "Báo cáo sơ kết 6 tháng đầu năm {year}",
                   request=(6, 1), due=(7, 5)),
    ObligationSpec("acceptance_report",
                   "Báo cáo kết quả nghiệm thu nhiệm vụ nghiên cứu khoa học năm {year}",
                   request=(11, 1), due=(12, 1), concerns="accepted",
                   timers=ACCEPTANCE_REPORT_TIMERS),
    ObligationSpec("annual_report", "Báo cáo tổng kết hoạt động khoa học năm {year}",
                   request=(11, 1), due=(12, 5)),
    # A unit *holds* a science session every month (or quarter); it is not a letter to the Sở.
    # Sessions are recorded in the session log, and `[scheduler.sessions]` reminds a unit with
    # none once, near its period's end: no obligation, no escalation.
)


@dataclass(frozen=True)
class ReportDate:
    """When a report is mailed: on `month_day` (rolled to the next working day), or, with
    `after_working_days` > 0, on that many working days after the legal end of the deadline
    `month_day` names. The compilations summarise the 6-month and annual reports due before
    5/7 and 5/12: they go out only once those deadlines have legally ended, and one working
    day later still, so a report handed in on the last day is on record when they are made."""

    name: str
    month_day: tuple[int, int]
    after_working_days: int = 0


DEFAULT_REPORTS = (ReportDate("progress", (7, 5), 2), ReportDate("compliance", (12, 5), 2))


@dataclass(frozen=True)
class SchedulerConfig:
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    send_at: dt.time = dt.time(8, 0)
    quiet_from: dt.time = dt.time(18, 0)
    interval_s: float = 5.0
    lease_s: int = 120
    batch: int = 200
    workers: int = 4
    catchup_days: int = 35
    grace_days: int = 10  # working days to act when a deadline opens already past
    heartbeat_stale_s: int = 60
    obligation_workflow: str = "unit_report"
    obligations: tuple[ObligationSpec, ...] = DEFAULT_OBLIGATIONS
    quota_check: tuple[int, int] | None = (4, 30)
    # Checked again at year end (DOMAIN: "check early, re-check at year end"): a unit whose only
    # topic was rejected or cancelled after April is told before the year's compilation.
    quota_recheck: tuple[int, int] | None = (12, 1)
    # The unit kinds the "≥ 1 valid task a year" quota binds: the units under the Sở. Private
    # hospitals are encouraged, not bound (seed plans 2024 and 2025).
    quota_kinds: tuple[str, ...] = ("public",)
    sessions: SessionPlan = field(default_factory=SessionPlan)
    reports: tuple[ReportDate, ...] = DEFAULT_REPORTS
    timers: Mapping[str, TimerPolicy] = field(default_factory=dict)

    def policy_override(self, workflow: str, state: str) -> TimerPolicy | None:
        return self.timers.get(f"{workflow}.{state}") or self.timers.get(workflow)

    def policy(self, wf: Workflow, state: str) -> TimerPolicy | None:
        """The reminder and escalation ladder of a deadline: the config's override, else the
        workflow file's."""
        return self.policy_override(wf.name, state) or wf.timers_for(state)

    def in_business_hours(self, local: dt.datetime) -> bool:
        """Reminders and escalations go out on working days between send_at and quiet_from."""
        return (self.calendar.is_working_day(local.date())
                and self.send_at <= local.time() < self.quiet_from)


def _fail(key: str, why: str) -> InputError:
    return InputError(f"config {key}: {why}")


def _time(value: Any, key: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        raise _fail(key, f"invalid time '{value}', expected HH:MM") from None


def _month_day(value: Any, key: str) -> tuple[int, int]:
    try:
        return month_day(str(value))
    except ValueError as exc:
        raise _fail(key, str(exc)) from None


def _int(value: Any, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(key, f"expected a whole number {low}–{high}, not {value!r}")
    return value


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _fail(key, f"expected a positive number, not {value!r}")
    return float(value)


def _policy(raw: Any, key: str) -> TimerPolicy:
    def fail(path: tuple[str | int, ...], reason: str) -> InputError:
        where = key + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        return _fail(where, reason)

    return parse_timer_policy(raw, fail)


def _title(value: Any, key: str) -> str:
    """An obligation's title template: it becomes a task title, so it follows the input rules
    (filling in {year} and {month} only shortens it), and names no other placeholder."""
    template = clean_text(str(value), f"config {key} title", limit=LIMITS["task title"])
    try:
        template.format(year=MAX_YEAR, month="12")
    except (KeyError, IndexError, ValueError) as exc:
        raise _fail(f"{key}.title", f"only {{year}} and {{month}} may be filled in ({exc})") \
            from None
    return template


OBLIGATION_KEYS = ("key", "title", "every", "request", "due", "request_day", "due_day", "announce",
                   "timers", "concerns", "office")
# What a unit report may list the unit's topics against: the milestones of the research workflows.
CONCERNS = ("outline_approved", "accepted")


def _obligation(raw: Any, i: int) -> ObligationSpec:
    key = f"[[scheduler.obligations]] #{i + 1}"
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
        raise _fail(key, "each obligation needs a 'key'")
    every = raw.get("every", "year")
    if every not in ("year", "month"):
        raise _fail(key, f"every must be 'year' or 'month', not {every!r}")
    unknown = sorted(set(raw) - set(OBLIGATION_KEYS))
    if unknown:
        raise _fail(key, f"unknown key '{unknown[0]}' (known: {', '.join(OBLIGATION_KEYS)})")
    title = _title(raw.get("title", raw["key"] + " {year}"), key)
    announce = raw.get("announce", True)
    if not isinstance(announce, bool):
        raise _fail(f"{key}.announce", f"expected true or false, not {announce!r}")
    timers = _policy(raw["timers"], f"{key}.timers") if "timers" in raw else None
    concerns = raw.get("concerns")
    if concerns is not None and concerns not in CONCERNS:
        raise _fail(f"{key}.concerns", f"expected one of {', '.join(CONCERNS)}, not {concerns!r}")
    if concerns is not None and every != "year":
        raise _fail(f"{key}.concerns", "only a yearly report lists the unit's topics")
    office = raw.get("office")
    if office is not None and not isinstance(office, str):
        raise _fail(f"{key}.office", f"expected an office key in quotes, not {office!r}")
    if every == "month":
        due_raw = raw.get("due_day", "last")
        return ObligationSpec(
            raw["key"], title, "month", request_day=_int(raw.get("request_day", 1), key, 1, 28),
            due_day=0 if due_raw == "last" else _int(due_raw, key, 1, 28),
            announce=announce, timers=timers, office=office)
    if "due" not in raw:
        raise _fail(key, "a yearly obligation needs due = \"MM-DD\"")
    return ObligationSpec(raw["key"], title, "year",
                          request=_month_day(raw.get("request", "01-02"), f"{key}.request"),
                          due=_month_day(raw["due"], f"{key}.due"), announce=announce,
                          timers=timers, concerns=concerns, office=office)


def _report_date(name: str, raw: Any) -> ReportDate:
    """`name = "MM-DD"` (that day), or `name = { after = "MM-DD", working_days = N }` (the N-th
    working day after the legal end of that deadline; N ≥ 1, default 2)."""
    key = f"[scheduler] reports.{name}"
    if not isinstance(raw, dict):
        return ReportDate(name, _month_day(raw, key))
    unknown = sorted(set(raw) - {"after", "working_days"})
    if unknown or "after" not in raw:
        raise _fail(key, "expected \"MM-DD\" or { after = \"MM-DD\", working_days = N }")
    return ReportDate(name, _month_day(raw["after"], f"{key}.after"),
                      _int(raw.get("working_days", 2), f"{key}.working_days", 1, 30))


SESSION_KEYS = ("every", "units", "remind_before")


def _sessions(raw: Any) -> SessionPlan:
    """`[scheduler.sessions]`: every = "month" | "quarter", units = { CODE = "quarter" },
    remind_before = 5 (calendar days before the period ends; 0 = no reminder)."""
    key = "[scheduler.sessions]"
    if not isinstance(raw, dict):
        raise _fail(key, "expected a table")
    unknown = sorted(set(raw) - set(SESSION_KEYS))
    if unknown:
        raise _fail(key, f"unknown key '{unknown[0]}' (known: {', '.join(SESSION_KEYS)})")

    def kind(value: Any, where: str) -> str:
        if value not in PERIOD_KINDS:
            raise _fail(where, f"expected 'month' or 'quarter', not {value!r}")
        return str(value)

    units = raw.get("units", {})
    if not isinstance(units, dict):
        raise _fail(f"{key} units", "expected a table CODE = \"month\" | \"quarter\"")
    return SessionPlan(
        every=kind(raw.get("every", "month"), f"{key} every"),
        by_unit={str(code): kind(v, f"{key} units.{code}") for code, v in units.items()},
        remind_before=_int(raw.get("remind_before", 5), f"{key} remind_before", 0, 27))


def load_config(scheduler: Mapping[str, Any], calendar: Mapping[str, Any]) -> SchedulerConfig:
    """Validate the two config sections into a `SchedulerConfig`."""
    check_keys(calendar, ("extra_holidays", "working_saturdays", "confirmed_years"), "calendar")
    confirmed = calendar.get("confirmed_years", [])
    if not isinstance(confirmed, list):
        raise _fail("[calendar] confirmed_years", "expected a list of years, e.g. [2027]")
    try:
        cal = BusinessCalendar(
            parse_days(calendar.get("extra_holidays"), "[calendar] extra_holidays"),
            parse_days(calendar.get("working_saturdays"), "[calendar] working_saturdays"),
            [_int(y, "[calendar] confirmed_years", 2000, MAX_YEAR) for y in confirmed])
    except ValueError as exc:
        raise InputError(f"config {exc}") from None
    s = scheduler
    known = {"send_at", "quiet_from", "interval_s", "lease_s", "batch", "catchup_days",
             "grace_days",
             "heartbeat_stale_s", "workers", "obligation_workflow", "obligations", "quota_check",
             "quota_recheck", "quota_kinds", "sessions",
             "reports", "timers"}
    unknown = set(s) - known
    if unknown:
        raise _fail("[scheduler]", f"unknown key '{sorted(unknown)[0]}'")
    obligations: tuple[ObligationSpec, ...] = DEFAULT_OBLIGATIONS
    if "obligations" in s:
        if not isinstance(s["obligations"], list):
            raise _fail("[scheduler] obligations", "expected a list of tables")
        obligations = tuple(_obligation(raw, i) for i, raw in enumerate(s["obligations"]))
        keys = [o.key for o in obligations]
        if len(set(keys)) != len(keys):
            raise _fail("[scheduler] obligations", "an obligation key is listed twice")
    quota: tuple[int, int] | None = (4, 30)
    if "quota_check" in s:
        quota = (None if s["quota_check"] in ("", "off", False)
                 else _month_day(s["quota_check"], "[scheduler] quota_check"))
    recheck: tuple[int, int] | None = (12, 1)
    if "quota_recheck" in s:
        recheck = (None if s["quota_recheck"] in ("", "off", False)
                   else _month_day(s["quota_recheck"], "[scheduler] quota_recheck"))
    kinds = s.get("quota_kinds", ["public"])
    if (not isinstance(kinds, list) or not kinds
            or any(k not in UNIT_KINDS for k in kinds)):
        raise _fail("[scheduler] quota_kinds",
                    f"expected a list drawn from {', '.join(UNIT_KINDS)}, not {kinds!r}")
    reports: tuple[ReportDate, ...] = DEFAULT_REPORTS
    if "reports" in s:
        if not isinstance(s["reports"], dict):
            raise _fail("[scheduler] reports", "expected a table name = \"MM-DD\"")
        reports = tuple(_report_date(str(k), v) for k, v in s["reports"].items())
    timers_raw = s.get("timers", {})
    if not isinstance(timers_raw, dict):
        raise _fail("[scheduler] timers", "expected tables keyed by workflow or workflow.state")
    send_at = _time(s.get("send_at", "08:00"), "[scheduler] send_at")
    quiet_from = _time(s.get("quiet_from", "18:00"), "[scheduler] quiet_from")
    if quiet_from <= send_at:
        raise _fail("[scheduler] quiet_from", "must be later than send_at")
    return SchedulerConfig(
        calendar=cal, send_at=send_at, quiet_from=quiet_from,
        interval_s=_number(s.get("interval_s", 5), "[scheduler] interval_s"),
        lease_s=_int(s.get("lease_s", 120), "[scheduler] lease_s", 1, 86400),
        batch=_int(s.get("batch", 200), "[scheduler] batch", 1, 100000),
        workers=_int(s.get("workers", 4), "[scheduler] workers", 1, 32),
        catchup_days=_int(s.get("catchup_days", 35), "[scheduler] catchup_days", 0, 366),
        grace_days=_int(s.get("grace_days", 10), "[scheduler] grace_days", 0, 60),
        heartbeat_stale_s=_int(s.get("heartbeat_stale_s", 60), "[scheduler] heartbeat_stale_s",
                               1, 86400),
        obligation_workflow=str(s.get("obligation_workflow", "unit_report")),
        obligations=obligations, quota_check=quota, quota_recheck=recheck,
        quota_kinds=tuple(kinds),
        sessions=_sessions(s.get("sessions", {})), reports=reports,
        timers={str(k): _policy(v, f"[scheduler.timers.{k}]") for k, v in timers_raw.items()},
    )
