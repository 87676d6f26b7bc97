"""The writing of every mail (issue 12, "Writing faults"): each kind rendered in both languages
through the samples (`notifications.samples`), in the situations that matter — a named and an
unnamed addressee, a titled name, one day and several, a date passed, a grace period, a monthly
obligation, a label that already ends with its noun, an event carrying a date, the office as
the only reader or a director given a copy, a letter of several sections, the digest — and
checked for each fault a careful clerk would not write. Pure: no database, no network.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.cli.main import COMMANDS
from engine.reports.mailer import TITLES
from engine.settings import load_settings
from notifications.catalog import LANGS, load_catalog
from notifications.config import mail_config
from notifications.context import event_context, field_value, obligation_context, reason_text
from notifications.dispatcher import _PREFIX, calendar_day
from notifications.render import Rendered, Renderer, en_days, lower_first, short
from notifications.samples import sample_context
from workflows.clock import DEFAULT_TZ
from workflows.effects import automatic_reason
from workflows.loader import load_file
from workflows.model import WorkingDays

CFG = mail_config(load_settings(env={"NCKH_DATA_DIR": "/nonexistent"}))
CATALOG = load_catalog()
RENDERER = Renderer(CATALOG)
UNIT_TASK = load_file(Path(__file__).parents[2] / "workflows" / "definitions" / "unit_task.yaml")
DEPARTMENT = CFG.office["department"]
TITLE = "Đánh giá kết quả điều trị tăng huyết áp tại tuyến huyện"
# Kinds that speak of no one topic: the digest, a letter (its sections do), a report, a test,
# the quota (a unit's whole year).
NO_TOPIC = {"digest", "letter", "report", "test", "quota_not_met", "signin_link"}
KINDS = sorted(CATALOG.kinds)

# --- the faults -----------------------------------------------------------------------------
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
UNPADDED_DATE = re.compile(r"(?<![\d/])\d/\d{1,2}/\d{4}\b|\b\d{1,2}/\d/\d{4}\b")
NOUN_TWICE = re.compile(r"\b(đề tài|nhiệm vụ|sáng kiến)( của| –)? \1 “", re.IGNORECASE)
CLI = re.compile(r"`nckh\b|\bnckh (?:" + "|".join(map(re.escape, sorted(COMMANDS))) + r")\b")
ONE_DAYS = re.compile(r"(?<![\d.])1 days\b")
MANY_DAY = re.compile(r"\b(?:[02-9]|\d{2,}) day\b(?!s)")
YEAR_TWICE = re.compile(r"\b(năm \d{4}|\d{4})\b\W+\1\b")
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{%|%\}|\bNone\b|\bUndefined\b")
SALUTATION = {"vi": re.compile(r"^\s*(?:Kính gửi:|- )(.*)$", re.MULTILINE),
              "en": re.compile(r"^\s*(?:To:|- )(.*)$", re.MULTILINE)}


def faults(out: Rendered, lang: str, ctx: dict[str, Any]) -> list[str]:
    """Every writing fault of one rendered mail, in words."""
    found: list[str] = []
    head = out.text.split("Thông tin:" if lang == "vi" else "Details:")[0]
    for part, text in (("subject", out.subject), ("text", out.text), ("html", out.html)):
        if "Ông/Bà" in text or "quý Ông" in text:
            found.append(f"{part}: the mail-merge 'Ông/Bà'")
        if ISO_DATE.search(text):
            found.append(f"{part}: an ISO date {ISO_DATE.search(text)}")
        if UNPADDED_DATE.search(text):
            found.append(f"{part}: a date not dd/mm/yyyy {UNPADDED_DATE.search(text)}")
        if NOUN_TWICE.search(text):
            found.append(f"{part}: the noun twice {NOUN_TWICE.search(text)}")
        if CLI.search(text):
            found.append(f"{part}: a command {CLI.search(text)}")
        if re.search(r"\bkhcn\b|\bkh&cn\b", text):
            found.append(f"{part}: 'KH&CN' written in lower case")
        if "hạn đã quá chưa xử lý" in text.lower():
            found.append(f"{part}: 'hạn đã quá chưa xử lý'")
        if "Hệ thống báo cáo" in text:
            found.append(f"{part}: the office writing to itself as 'Hệ thống báo cáo'")
        if f"Đề nghị {DEPARTMENT}" in text or f"{DEPARTMENT} is asked" in text:
            found.append(f"{part}: a request to the office written into a mail ({part})")
        if YEAR_TWICE.search(text):
            found.append(f"{part}: the year twice {YEAR_TWICE.search(text)}")
        if PLACEHOLDER.search(text):
            found.append(f"{part}: a placeholder left unrendered {PLACEHOLDER.search(text)}")
        if lang == "en" and (ONE_DAYS.search(text) or MANY_DAY.search(text)):
            found.append(f"{part}: a wrong English plural")
    if not ctx.get("section"):
        for line in SALUTATION[lang].findall(head.split("\n\n\n")[0][:2000]):
            if "@" in line:
                found.append(f"greeting an address: {line!r}")
    deadline = ctx.get("deadline")
    if deadline is not None and deadline.get("days_left") is not None \
            and deadline["days_left"] <= 0:
        for said in ("đúng thời hạn", "on time", "(còn ", "days left", "day left"):
            if said in out.text:
                found.append(f"text: '{said}' once the date has passed")
    return found


# --- the situations -------------------------------------------------------------------------
def base(kind: str, lang: str, obligation: bool) -> dict[str, Any]:
    ctx = sample_context(CFG, CATALOG, kind, lang, obligation=obligation)
    ctx["lang"] = lang
    return ctx


def situations(kind: str, lang: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, context) for each situation worth a look, for one kind and language."""
    variants = [True] if kind.startswith("obligation_") else [False, True]
    for obligation in variants:
        tag = "obligation" if obligation else "task"
        ctx = base(kind, lang, obligation)
        yield f"{tag}, named", ctx

        unnamed = copy.deepcopy(ctx)
        for r in unnamed["to"] + unnamed["cc"]:
            r["name"], r["title"] = "", ""
        yield f"{tag}, nobody named", unnamed

        as_address = copy.deepcopy(ctx)  # registered with their address as their name
        for r in as_address["to"] + as_address["cc"]:
            r["name"] = r["email"]
        yield f"{tag}, names that are addresses", as_address

        for days in (1, 2):
            counted = copy.deepcopy(ctx)
            counted["deadline"].update(days_left=days, days_overdue=days)
            counted["digest"]["overdue"][0]["days_overdue"] = days
            for entry in counted["digest"]["entries"]:
                if entry["days_overdue"] is not None:
                    entry["days_overdue"] = days
            yield f"{tag}, {days} day(s)", counted

        passed = copy.deepcopy(ctx)
        passed["deadline"].update(days_left=-3)
        yield f"{tag}, date passed", passed

        grace = copy.deepcopy(ctx)
        grace["deadline"].update(days_left=-20, grace_until=dt.date(2025, 4, 30))
        yield f"{tag}, registered after the date", grace

        noun_label = copy.deepcopy(ctx)
        noun_label["deadline"]["label"] = UNIT_TASK.deadline_label("in_progress", lang)
        yield f"{tag}, label ending with the noun", noun_label

        abbreviated = copy.deepcopy(ctx)
        abbreviated["deadline"]["label"] = "Báo cáo KH&CN"
        abbreviated["report"]["title"] = f"{TITLES['compliance']} năm 2025"
        yield f"{tag}, abbreviations", abbreviated

        dated = copy.deepcopy(ctx)
        dated["event"] = event_context(UNIT_TASK, {
            "event": "extend", "data": {"until": "2026-12-31"}, "reason": "Chậm thu mẫu",
            "effective_at": "2025-04-16T09:00:00+07:00"}, lang, DEFAULT_TZ)
        yield f"{tag}, an event with a date", dated

        director = copy.deepcopy(ctx)  # a province's catalog may copy anything to a head
        director["to"] = [r for r in base("escalation_unit_head", lang, obligation)["to"]]
        yield f"{tag}, read by a director", director

        section = copy.deepcopy(ctx)
        section["section"] = True
        yield f"{tag}, as a section of a letter", section

        earlier = copy.deepcopy(section)  # a notice of an earlier day in today's letter
        earlier["as_of"] = dt.date(2025, 4, 9)
        yield f"{tag}, facts of an earlier day", earlier
    if obligation:
        monthly = base(kind, lang, True)
        monthly["obligation"].update(
            key="science_session", period="tháng 3" if lang == "vi" else "March",
            label=CATALOG.words["obligations"]["science_session"][lang])
        yield "monthly obligation", monthly
        named = base(kind, lang, True)  # named as its task, the year in the name
        named["obligation"]["label"] = "Kế hoạch và quy chế nghiên cứu khoa học năm 2025"
        yield "obligation named with its year", named


CASES = [(kind, lang) for kind in KINDS for lang in LANGS]


@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_no_writing_fault_in_any_situation(kind: str, lang: str) -> None:
    problems = []
    for name, ctx in situations(kind, lang):
        out = RENDERER.render(kind, lang, ctx)
        problems += [f"{kind}/{lang} ({name}): {f}" for f in faults(out, lang, ctx)]
    assert problems == []


@pytest.mark.parametrize(("kind", "lang"), [c for c in CASES if c[0] not in NO_TOPIC])
def test_every_subject_names_its_topic_or_obligation(kind: str, lang: str) -> None:
    for name, ctx in situations(kind, lang):
        subject = RENDERER.render(kind, lang, ctx).subject
        if kind == "session_reminder":  # a unit's session of a month: the month names it
            period = ctx["session"]["period" if lang == "vi" else "period_en"]
            assert period in subject, (name, subject)
        elif ctx["obligation"] and kind not in ("acceptance_failed", "accepted", "cancelled",
                                              "council_appointed", "extended",
                                              "extension_requested",
                                              "outline_approved",
                                              "outline_resubmitted", "published",
                                              "reevaluation_failed", "rejected", "resumed",
                                              "revision_requested", "started", "suspended",
                                              "task_registered"):
            assert ctx["obligation"]["label"] in subject, (name, subject)
            if ctx["obligation"]["period"]:
                assert ctx["obligation"]["period"] in subject, (name, subject)
        else:
            assert f"“{TITLE}”" in subject, (name, subject)


def test_two_topics_of_one_investigator_get_subjects_told_apart() -> None:
    for kind in ("reminder", "deadline_passed", "escalation_unit_head", "escalation_office"):
        for lang in LANGS:
            one = base(kind, lang, False)
            other = copy.deepcopy(one)
            other["task"]["title"] = "Khảo sát tỷ lệ đái tháo đường typ 2 ở người trên 40 tuổi"
            assert (RENDERER.render(kind, lang, one).subject
                    != RENDERER.render(kind, lang, other).subject), (kind, lang)


def test_a_long_title_is_cut_cleanly_in_the_subject_and_whole_in_the_body() -> None:
    long_title = ("Nghiên cứu đặc điểm lâm sàng, cận lâm sàng và đánh giá kết quả điều trị "
                  "bệnh nhân đột quỵ nhồi máu não cấp bằng thuốc tiêu sợi huyết tại tuyến tỉnh")
    for lang in LANGS:
        ctx = base("reminder", lang, False)
        ctx["task"]["title"] = long_title
        out = RENDERER.render("reminder", lang, ctx)
        shown = re.search(r"“([^”]*)”", out.subject)
        assert shown is not None and shown.group(1).endswith("…")
        kept = shown.group(1)[:-1]
        assert long_title.startswith(kept) and long_title[len(kept)] == " "  # whole words
        assert len(shown.group(1)) <= 70
        assert f"“{long_title}”" in out.text


def test_salutations_use_title_and_name_or_the_role_never_an_address() -> None:
    ctx = base("escalation_unit_head", "vi", False)
    out = RENDERER.render("escalation_unit_head", "vi", ctx)
    assert "Kính gửi: Giám đốc Bệnh viện Đa khoa tỉnh" in out.text
    ctx = base("reminder", "vi", False)
    out = RENDERER.render("reminder", "vi", ctx)
    assert f"Kính gửi: ThS.BS Nguyễn Thị Hoa – Chủ nhiệm đề tài “{TITLE}”" in out.text
    ctx["to"][0].update(name="", title="")
    out = RENDERER.render("reminder", "vi", ctx)
    assert f"Kính gửi: Chủ nhiệm đề tài “{TITLE}”" in out.text
    office = base("escalation_office", "vi", False)
    office["to"][0]["name"] = office["to"][0]["email"]
    assert "Kính gửi: Phòng Nghiệp vụ Y – Sở Y tế" in RENDERER.render(
        "escalation_office", "vi", office).text
    council = base("outline_resubmitted", "vi", False)
    council["to"] = [{"role": "council", "name": "Lê Thị Lan", "title": "PGS.TS",
                      "email": "lan@example.vn", "unit_name": ""},
                     {"role": "council", "name": "Hội đồng KHCN", "title": "",
                      "email": "hoidong@example.vn", "unit_name": ""}]
    text = RENDERER.render("outline_resubmitted", "vi", council).text
    assert "  - PGS.TS Lê Thị Lan – Thành viên Hội đồng khoa học;" in text
    assert "  - Hội đồng KHCN." in text  # a council's own mailbox, not one of its members
    report = base("report", "vi", False)  # an address nobody registered
    assert "Kính gửi: Lãnh đạo Sở Y tế" in RENDERER.render("report", "vi", report).text
    assert "To: The Director, Bệnh viện Đa khoa tỉnh" in RENDERER.render(
        "escalation_unit_head", "en", base("escalation_unit_head", "en", False)).text


def test_the_line_for_the_office_is_not_copied_to_a_director() -> None:
    for lang, ask in (("vi", "Việc cần làm"), ("en", "To do")):
        office = base("escalation_office", lang, False)
        assert ask in RENDERER.render("escalation_office", lang, office).text
        director = copy.deepcopy(office)
        director["to"] = base("escalation_unit_head", lang, False)["to"]
        text = RENDERER.render("escalation_office", lang, director).text
        assert ask not in text and DEPARTMENT in text


def test_an_event_date_reads_dd_mm_yyyy() -> None:
    assert field_value("2026-12-31", "date", "vi") == "31/12/2026"
    assert field_value("2026-12-31", "date", "en") == "31 December 2026"
    assert field_value(dt.date(2026, 1, 5), None, "vi") == "05/01/2026"
    assert field_value("QĐ 12/2025", "text", "vi") == "QĐ 12/2025"
    assert field_value("not a date", "date", "vi") == "not a date"
    ctx = base("extended", "vi", False)
    ctx["event"] = event_context(UNIT_TASK, {
        "event": "extend", "data": {"until": "2026-12-31"},
        "effective_at": "2025-04-16T09:00:00+07:00"}, "vi", DEFAULT_TZ)
    assert "Gia hạn đến ngày: 31/12/2026" in RENDERER.render("extended", "vi", ctx).text


def test_a_label_ending_with_its_noun_is_not_followed_by_it_again() -> None:
    ctx = base("reminder", "vi", False)
    ctx["deadline"]["label"] = "Báo cáo kết quả nghiệm thu đề tài"
    out = RENDERER.render("reminder", "vi", ctx)
    assert f"báo cáo kết quả nghiệm thu đề tài “{TITLE}”" in out.text
    assert "đề tài của đề tài" not in out.text + out.subject


def test_a_label_with_its_own_of_takes_the_topic_with_doi_voi() -> None:
    ctx = base("reminder", "vi", False)
    ctx["task"]["noun"] = "sáng kiến"
    ctx["deadline"]["label"] = "Xem xét tính hợp lệ của đơn"
    subject = RENDERER.render("reminder", "vi", ctx).subject
    assert subject.endswith(f"xem xét tính hợp lệ của đơn đối với sáng kiến “{TITLE}”")


def test_a_passed_date_is_said_to_be_passed_and_a_grace_date_is_given() -> None:
    ctx = base("reminder", "vi", False)
    ctx["deadline"]["days_left"] = 0
    text = RENDERER.render("reminder", "vi", ctx).text
    assert "thời hạn này đã qua" in text and "trong thời gian sớm nhất" in text
    registered = base("task_registered", "vi", False)
    registered["deadline"].update(days_left=-20, grace_until=dt.date(2025, 5, 14))
    text = RENDERER.render("task_registered", "vi", registered).text
    assert "đã qua khi đề tài được đăng ký" in text
    assert "chậm nhất ngày 14 tháng 5 năm 2025" in text


def test_the_digest_points_to_no_command_and_counts_days_in_english() -> None:
    ctx = base("digest", "en", False)
    ctx["digest"]["entries"][1]["days_overdue"] = 1
    text = RENDERER.render("digest", "en", ctx).text
    assert "1 day overdue" in text and "14 days overdue" in text
    assert not CLI.search(text)


def test_a_letter_of_several_sections_keeps_each_topic_and_no_fault() -> None:
    """A letter as the dispatcher writes it: each notice rendered as a section, its subject
    (without the prefix) as the heading."""
    for lang in LANGS:
        sections = []
        for kind, title in (("reminder", TITLE), ("deadline_passed", "Khảo sát đái tháo đường")):
            ctx = base(kind, lang, False)
            ctx["task"]["title"] = title
            ctx["section"] = True
            if kind == "deadline_passed":
                ctx["deadline"]["days_left"] = -2
            out = RENDERER.render(kind, lang, ctx)
            assert not faults(out, lang, ctx)
            sections.append({"kind": kind, "heading": _PREFIX.sub("", out.subject),
                             "text": out.text, "html": out.html, "role": "to"})
        letter = base("letter", lang, False)
        letter["to"] = [base("reminder", lang, False)["to"][0]]
        letter["letter"] = {"day": dt.date(2025, 4, 16), "count": 2, "sections": sections}
        out = RENDERER.render("letter", lang, letter)
        assert faults(out, lang, letter) == []
        assert f"“{TITLE}”" in out.subject and "“Khảo sát đái tháo đường”" in out.subject
        assert out.text.count("Trân trọng./." if lang == "vi" else "Yours faithfully") == 1


def test_the_checks_find_the_faults_they_look_for() -> None:
    """The checker itself: each fault, written on purpose, is found."""
    ctx = base("reminder", "vi", False)
    ctx["deadline"]["days_left"] = -1
    bad = Rendered(
        "[Sở Y tế] V/v nhắc hạn",
        "Kính gửi: Ông/Bà nghiepvuy@soyte.vn\n\nGia hạn đến ngày: 2026-12-31, hạn 5/7/2025. "
        "Báo cáo của đề tài của đề tài “X”, nhiệm vụ khcn; hạn đã quá chưa xử lý. Xem "
        "`nckh task list --overdue`. Hệ thống báo cáo: Đề nghị Phòng Nghiệp vụ Y theo dõi. "
        "Hoàn thành đúng thời hạn. {{ task.title }} năm 2025 năm 2025\n", "")
    found = " | ".join(faults(bad, "vi", ctx))
    for fault in ("Ông/Bà", "ISO date", "not dd/mm/yyyy", "noun twice", "a command",
                  "KH&CN", "hạn đã quá", "Hệ thống báo cáo", "request to the office",
                  "unrendered", "greeting an address", "đúng thời hạn", "year twice"):
        assert fault in found, fault
    english = Rendered("[Sở Y tế] Overdue 1 days", "To: someone\n\n3 day left\n", "")
    assert "plural" in " | ".join(faults(english, "en", base("reminder", "en", False)))


def test_the_filters_behind_the_writing() -> None:
    assert lower_first("Nhiệm vụ KH&CN cấp tỉnh") == "nhiệm vụ KH&CN cấp tỉnh"
    assert lower_first("KH&CN cấp tỉnh") == "KH&CN cấp tỉnh"
    assert lower_first("Báo cáo tổng hợp nhiệm vụ KHCN") == "báo cáo tổng hợp nhiệm vụ KHCN"
    assert en_days(1) == "1 day" and en_days(2) == "2 days" and en_days(0) == "0 days"
    assert short("ngắn") == "ngắn"
    assert short("một hai ba bốn", 9) == "một hai…"


def test_the_calendar_entry_goes_on_the_grace_date_when_there_is_one() -> None:
    days = WorkingDays()
    before = {"due_on": dt.date(2025, 4, 30), "before": True, "grace_until": None}
    assert calendar_day(before, days) == dt.date(2025, 4, 29)
    assert calendar_day({**before, "before": False}, days) == dt.date(2025, 4, 30)
    assert calendar_day({**before, "grace_until": dt.date(2025, 5, 14)}, days) == dt.date(
        2025, 5, 14)


def test_a_reason_reads_in_the_mails_language_with_its_dates_for_people() -> None:
    auto = automatic_reason(90, dt.date(2025, 5, 7))  # what engine.rules records
    assert reason_text(auto, "vi") == "quá hạn 90 ngày kể từ 07/05/2025"
    assert reason_text(auto, "en") == "automatic: 90 days overdue since 7 May 2025"
    assert reason_text("automatic: 1 days overdue since 2025-05-07", "en") == (
        "automatic: 1 day overdue since 7 May 2025")
    assert reason_text("Nộp bổ sung trước  2025-06-30", "vi") == "Nộp bổ sung trước 30/06/2025"
    assert reason_text("  ", "vi") is None and reason_text(None, "en") is None
    ctx = base("suspended", "vi", False)
    ctx["event"] = event_context(UNIT_TASK, {
        "event": "suspend", "reason": auto, "actor": "system", "actor_role": "system",
        "effective_at": "2025-08-05T09:00:00+07:00"}, "vi", DEFAULT_TZ)
    out = RENDERER.render("suspended", "vi", ctx)
    assert "Lý do: quá hạn 90 ngày kể từ 07/05/2025" in out.text
    assert faults(out, "vi", ctx) == []


def test_an_obligation_is_named_as_its_task_in_vietnamese_and_by_the_catalog_in_english() -> None:
    """One name for an obligation in the subject, the text and the facts ("Tên: …")."""
    row = {"key": "science_session", "year": 2025, "period": 3, "due_on": dt.date(2025, 3, 31)}
    title = "Biên bản sinh hoạt khoa học tháng 03/2025"
    vi = obligation_context(row, CATALOG, "vi", title)
    assert vi is not None and (vi["label"], vi["period"]) == (
        "biên bản sinh hoạt khoa học tháng 03/2025", None)  # the month is in the name
    plain = obligation_context(row, CATALOG, "vi", "Biên bản sinh hoạt khoa học")
    assert plain is not None and plain["period"] == "tháng 3"
    en = obligation_context(row, CATALOG, "en", title)
    assert en is not None and (en["label"], en["period"]) == (
        CATALOG.words["obligations"]["science_session"]["en"], "March")
    ctx = base("obligation_requested", "vi", True)
    ctx["obligation"] = vi
    ctx["task"]["title"] = title
    out = RENDERER.render("obligation_requested", "vi", ctx)
    assert out.subject == "[Sở Y tế] V/v gửi biên bản sinh hoạt khoa học tháng 03/2025"
    assert "gửi biên bản sinh hoạt khoa học tháng 03/2025 về Sở Y tế" in out.text
    assert f"Tên: {title}" in out.text


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_year_end_quota_review_says_so_and_keeps_its_paragraphs(lang: str) -> None:
    ctx = base("quota_not_met", lang, False)
    first = RENDERER.render("quota_not_met", lang, {**ctx, "quota": {"year": 2025}})
    recheck = RENDERER.render("quota_not_met", lang,
                              {**ctx, "quota": {"year": 2025, "recheck": True}})
    review = {"vi": "rà soát cuối năm", "en": "year-end review"}[lang]
    assert review not in first.subject and review in recheck.subject
    assert review in recheck.text and review not in first.text
    # The review's sentence ends the first paragraph; the request still stands apart.
    assert recheck.text.count("\n\n") == first.text.count("\n\n")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_digest_carrying_a_report_does_not_say_nothing_is_new(lang: str) -> None:
    ctx = base("digest", lang, False)
    ctx["digest"] = {**ctx["digest"], "entries": []}
    nothing = {"vi": "Không có nội dung mới", "en": "Nothing new"}[lang]
    assert nothing not in RENDERER.render("digest", lang, ctx).text
    ctx["digest"] = {k: v for k, v in ctx["digest"].items() if k != "reports"}  # queued before
    assert nothing in RENDERER.render("digest", lang, ctx).text
