"""`nckh demo`: the sample province's year replayed at high speed in a database of its own.

Each day of the year: one `app.tick(now)` at 08:00 local — exactly what the daemon does at that
moment (calendar obligations, reminders, escalations, report dates, then the outbox). On working
days the people act after it: the sample's scripted registrations and transitions of that day
(one dated on a day off waits for the next working day: the office does not work then), then the
units' answers to their calendar obligations and their monthly science sessions, recorded by
the office (each unit's `reports` habit: on time, late or never), and a second pass at 16:00
sends what their actions queued — the daemon would have sent it within seconds, and this keeps
the demo's mail off weekends and holidays.
The demo never touches the operator's database or mail server: it runs on
`DATA_DIR/demo-YEAR/nckh.db` with the maildir beside it and SMTP switched off.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.app import App, build
from engine.sample.data import Province
from engine.sample.loader import Player, check_year, script
from engine.sessions import SessionInput
from engine.settings import Settings
from storage.calendar import open_obligations
from storage.db import make_engine
from storage.files import private_dir
from storage.letters import carried_kinds
from storage.migrate import upgrade
from storage.outbox import recent_messages

TICK_AT = dt.time(8, 0)
AFTERNOON_PASS_AT = dt.time(16, 0)
SUBMIT_AT = dt.time(10, 0)
ON_TIME_DAYS_EARLY = 3
LATE_DAYS = 6
SESSION_ON_TIME_DAY = 10  # a unit that keeps its calendar holds its session from the 10th
SESSION_LATE_DAY = 28  # a late one, in the month's last days, after the reminder


def demo_settings(settings: Settings, year: int,
                  province: Province | None = None) -> Settings:
    """The demo's own data directory, database and maildir; no SMTP, no fixed `now`; the
    sample's offices (the unit plan to the Planning and Finance office, the Sở KH&CN copied on
    provincial tasks) unless the operator's config names offices of its own."""
    home = settings.data_dir / f"demo-{year}"
    offices = settings.offices or (province.offices if province is not None else ())
    return dataclasses.replace(settings, data_dir=home,
                               database_url=f"sqlite:///{home / 'nckh.db'}", smtp_host=None,
                               now=None, offices=offices)


def fresh_app(settings: Settings) -> App:
    """Wipe the previous run of this demo (its own directory only) and start from an empty db."""
    home: Path = settings.data_dir
    if home.exists():
        shutil.rmtree(home)
    private_dir(home)
    db = make_engine(settings.database_url)
    upgrade(db)
    db.dispose()
    return build(settings)


def _is_working_day(app: App, day: dt.date) -> bool:
    return app.config.scheduler.calendar.is_working_day(day)


def _answer_obligations(app: App, province: Province, year: int, day: dt.date) -> int:
    """Units submit their due reports according to their habit; returns how many they did."""
    habits = {u.code: u for u in province.units}
    obligations = app.registry.get(app.config.scheduler.obligation_workflow)
    initial = obligations.initial
    submit = obligations.milestone_event("submitted")
    assert submit is not None, "the obligation workflow names no 'submitted' milestone"
    with app.engine.transaction(read_only=True) as s:
        open_rows = open_obligations(s, year, initial)
    at = dt.datetime.combine(day, SUBMIT_AT, tzinfo=app.engine.tz)
    done = 0
    for task_id, due_on, created_at, code in open_rows:
        unit = habits.get(code)
        if unit is None or unit.reports == "never":
            continue
        opened = created_at.astimezone(app.engine.tz).date()
        target = (max(due_on - dt.timedelta(days=ON_TIME_DAYS_EARLY), opened + dt.timedelta(1))
                  if unit.reports == "on_time" else due_on + dt.timedelta(days=LATE_DAYS))
        if target <= day:
            app.engine.fire(task_id, submit.name, actor_email=unit.head.email, at=at, now=at,
                            data={"reference": f"{task_id}/BC-{unit.code}"})
            done += 1
    return done


def _hold_sessions(app: App, province: Province, day: dt.date,
                   held: set[tuple[str, int]]) -> int:
    """Units hold their monthly science session by their habit and the office records it: on
    time, from the 10th; late, in the month's last days (after the reminder); never, not at
    all. Returns how many were recorded today."""
    done = 0
    for unit in province.units:
        if unit.reports == "never" or (unit.code, day.month) in held:
            continue
        first = SESSION_ON_TIME_DAY if unit.reports == "on_time" else SESSION_LATE_DAY
        if day.day < first:
            continue
        app.engine.add_session(SessionInput(
            unit_code=unit.code, held_on=day, topic=f"Sinh hoạt khoa học tháng {day.month:02d}",
            presenter_email=unit.head.email, department="Phòng Kế hoạch tổng hợp",
            attendance=30), now=dt.datetime.combine(day, SUBMIT_AT, tzinfo=app.engine.tz))
        held.add((unit.code, day.month))
        done += 1
    return done


def play_year(app: App, province: Province, year: int, *,
              on_day: Callable[[dt.date], None] | None = None) -> dict[str, int]:
    """Replay `year` day by day; returns totals of what happened."""
    tz = app.engine.tz
    last = dt.datetime(year, 12, 31, 23, 59, tzinfo=tz)
    check_year(year, last, tz)
    player = Player(app.engine, province, year)
    player.setup(dt.datetime(year, 1, 1, 7, 0, tzinfo=tz))
    actions = script(province, year, tz)
    totals = {"ticks": 0, "submitted": 0, "sessions": 0}
    held: set[tuple[str, int]] = set()
    i = 0
    day = dt.date(year, 1, 1)
    while day.year == year:
        app.tick(dt.datetime.combine(day, TICK_AT, tzinfo=tz))
        totals["ticks"] += 1
        if _is_working_day(app, day):
            while i < len(actions) and actions[i].at.date() <= day:
                action = actions[i]
                if action.at.date() < day:  # dated on a day off: done on this working day
                    action = dataclasses.replace(
                        action, at=dt.datetime.combine(day, action.at.timetz()))
                player.play(action)
                i += 1
            totals["submitted"] += _answer_obligations(app, province, year, day)
            totals["sessions"] += _hold_sessions(app, province, day, held)
            app.tick(dt.datetime.combine(day, AFTERNOON_PASS_AT, tzinfo=tz))
        if on_day is not None:
            on_day(day)
        day += dt.timedelta(days=1)
    totals.update(tasks=player.done.tasks, transitions=player.done.transitions)
    return totals


def _addresses(recipients: Any, key: str) -> list[str]:
    return [r.get("email", "") if isinstance(r, dict) else str(r)
            for r in (recipients or {}).get(key, [])]


def timeline(app: App) -> list[dict[str, Any]]:
    """The e-mails that went out (or still wait to), in the order they went: letters, digests
    and mails sent on their own. A notice folded into a letter or a digest is not an e-mail of
    its own; its kind is listed under `kinds` of the one that carried it."""
    tz = app.engine.tz
    with app.engine.transaction() as s:
        rows = [m for m in recent_messages(s, newest_first=False) if m.state != "bundled"]
        carried = carried_kinds(s.connection(), [m.id for m in rows])
        out = []
        for m in rows:
            when = (m.sent_at or m.created_at).astimezone(tz)
            to = _addresses(m.recipients, "to") or list(m.addressed_to or [])
            out.append({"at": when.strftime("%Y-%m-%d %H:%M"), "weekday": when.weekday(),
                        "kind": m.kind, "kinds": carried.get(m.id, [m.kind]),
                        "state": m.state, "to": to,
                        "cc": _addresses(m.recipients, "cc"), "subject": m.subject or "",
                        "task_id": m.task_id,
                        "attachments": [a.filename for a in m.attachments]})
    return sorted(out, key=lambda r: r["at"])


def per_recipient(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """E-mails per address (as addressee or in copy): total, busiest day, kinds carried."""
    days: dict[str, Counter[str]] = defaultdict(Counter)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        for email in dict.fromkeys([*row["to"], *row["cc"]]):
            days[email][row["at"][:10]] += 1
            kinds[email].update(row["kinds"])
    table = []
    for email, per_day in days.items():
        busiest, most = max(per_day.items(), key=lambda kv: (kv[1], kv[0]))
        table.append({"email": email, "total": sum(per_day.values()), "busiest_day": busiest,
                      "busiest_count": most, "kinds": dict(kinds[email].most_common())})
    return sorted(table, key=lambda r: (-r["total"], r["email"]))


def format_recipient(row: dict[str, Any]) -> str:
    """`   32  giamdoc@bvtt…  busiest 03/03/2025 (1)  reminder 20, escalation_unit_head 4`."""
    day = dt.date.fromisoformat(row["busiest_day"]).strftime("%d/%m/%Y")
    kinds = ", ".join(f"{k} {n}" for k, n in row["kinds"].items())
    return f"{row['total']:>5}  {row['email']:<36} {day} ({row['busiest_count']})  {kinds}"


def grouped(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages of one moment, kind and subject (e.g. the same reminder to every unit) as one."""
    out: list[dict[str, Any]] = []
    for row in rows:
        last = out[-1] if out else None
        if last and (last["at"], last["kind"], last["subject"]) == (row["at"], row["kind"],
                                                                   row["subject"]):
            last["to"] = [*last["to"], *row["to"]]
            last["kinds"] = [*last["kinds"], *row["kinds"]]
            last["count"] += 1
            last["pending"] += row["state"] != "sent"
        else:
            out.append({**row, "count": 1, "pending": int(row["state"] != "sent")})
    return out


def format_line(group: dict[str, Any]) -> str:
    """`2025-04-16 08:00  reminder  → giamdoc@a, giamdoc@b +9  subject`."""
    to = group["to"]
    shown = ", ".join(to[:2]) + (f" +{len(to) - 2}" if len(to) > 2 else "")
    pending = f" [{group['pending']} not sent]" if group["pending"] else ""
    carried = Counter(group["kinds"])
    inside = ("  [" + ", ".join(f"{k} {n}" for k, n in carried.most_common()) + "]"
              if group["kind"] in {"letter", "digest"} else "")
    return f"{group['at']}  {group['kind']:<21} → {shown}{pending}  {group['subject']}{inside}"
