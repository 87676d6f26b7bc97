"""Sample template contexts: what `nckh mail check` and daemon start render every template with.

Two samples per kind — a research task, and a calendar obligation — so both branches of the
templates that speak of either are exercised. The data is made up and never sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from notifications.catalog import Catalog
from notifications.config import MailConfig
from notifications.context import empty_context


def sample_context(cfg: MailConfig, catalog: Catalog, kind: str, lang: str,
                   obligation: bool = False) -> dict[str, Any]:
    today = dt.date(2025, 4, 16)
    ctx = empty_context(cfg, kind, lang, today)
    words = catalog.words
    unit = {"code": "BVDK", "name": "Bệnh viện Đa khoa tỉnh"}
    ctx["unit"] = unit
    ctx["task"] = {
        "id": 12, "title": "Đánh giá kết quả điều trị tăng huyết áp tại tuyến huyện", "year": 2025,
        "level": "unit", "level_label": "Đề tài cấp cơ sở",
        "noun": words.get("nouns", {}).get(lang, {}).get("unit", "đề tài"),
        "leader": words.get("leaders", {}).get(lang, {}).get("unit", "Chủ nhiệm đề tài"),
        "state": "proposed", "state_label": "Đã đề xuất", "unit_name": unit["name"],
        "unit_code": unit["code"], "pi_name": "Nguyễn Thị Hoa", "pi_title": "ThS.BS",
        "pi_email": "hoa@example.vn",
    }
    spec = catalog.kinds.get(kind)
    people = _people(cfg, unit["name"])
    ctx["to"] = [people[r] for r in (spec.to if spec else ("pi", "unit_head"))]
    ctx["cc"] = [people[r] for r in (spec.cc if spec else ("office",))
                 if people[r] not in ctx["to"]]
    ctx["deadline"] = {"due_on": dt.date(2025, 4, 30),
                       "label": "Báo cáo kết quả xét duyệt đề cương", "state": "proposed",
                       "before": True, "days_before": 14, "days_left": 15,
                       "days_overdue": 8, "grace_until": None}
    ctx["event"] = {"name": "request_revision", "label": "Yêu cầu chỉnh sửa đề cương",
                    "reason": "Bổ sung cỡ mẫu", "actor": "office@example.vn",
                    "actor_role": "office", "effective_on": today,
                    "fields": [{"label": "Số quyết định", "value": "(số quyết định)"}]}
    if obligation:
        # A report that lists the unit's topics: one with its result, one still awaiting it.
        noun = ctx["task"]["noun"]
        ctx["obligation"] = {
            "key": "outline_review_report", "label": words.get("obligations", {})
            .get("outline_review_report", {}).get(lang, "outline_review_report"),
            "period": None, "year": 2025, "due_on": dt.date(2025, 4, 30), "topics": [
                {"id": 12, "title": ctx["task"]["title"], "pi_name": "ThS.BS Nguyễn Thị Hoa",
                 "noun": noun, "awaiting": False, "reached": True,
                 "result": "Phê duyệt đề cương", "on": dt.date(2025, 4, 10),
                 "decision_no": "15/QĐ-BVDK", "grade": None, "due_on": None},
                {"id": 13, "title": "Khảo sát tuân thủ vệ sinh tay", "pi_name": "CN Lê Văn An",
                 "noun": noun, "awaiting": True, "reached": False,
                 "result": "Đang chỉnh sửa đề cương theo yêu cầu", "on": None,
                 "decision_no": None, "grade": None, "due_on": dt.date(2025, 4, 30)}]}
    ctx["quota"] = {"year": 2025, "recheck": True}
    ctx["signin"] = {"url": "https://nckh.example/dang-nhap/1/mau", "minutes": 15}
    ctx["action_url"] = "https://nckh.example/lien-ket/1-12/mau"
    ctx["session"] = {"period": "tháng 03/2025", "period_en": "March 2025",
                      "period_start": dt.date(2025, 3, 1), "period_end": dt.date(2025, 3, 31),
                      "kind": "month"}
    ctx["council"] = {"id": 3, "stage": "acceptance", "stage_label": "Hội đồng nghiệm thu",
                      "role": "reviewer", "role_label": "Phản biện", "decision_no": "125/QĐ-SYT",
                      "decided_on": dt.date(2025, 4, 10), "meeting_on": dt.date(2025, 4, 25),
                      "review_on": dt.date(2025, 4, 25), "review_from": "meeting",
                      "documents": [{"name": "bao-cao-tong-ket.pdf", "doc_number": "45/BC-BVĐK",
                                     "dated_on": dt.date(2025, 4, 2)}]}
    ctx["report"] = {"title": "Báo cáo tiến độ", "period": "Quý I/2025", "note": "Ghi chú",
                     "files": ["nckh-tien-do-2025-2025-03-31.xlsx",
                               "nckh-tien-do-2025-2025-03-31.csv"]}
    ctx["digest"] = {
        "year": 2025, "period_start": dt.date(2025, 4, 7), "period_end": dt.date(2025, 4, 14),
        "by_state": [{"label": "Đang thực hiện", "count": 7}], "overdue_total": 2,
        "overdue": [{"task_id": 3, "title": "Đề tài A", "unit_name": unit["name"],
                     "label": "Báo cáo kết quả xét duyệt đề cương",
                     "due_on": dt.date(2025, 4, 29), "days_overdue": 3}],
        "sent": 40, "dead": 1, "reports": [dict(ctx["report"])],
    }
    ctx["digest"]["entries"] = [
        {"kind": "escalation_office", "act": True, "task_id": 3, "title": "Đề tài A",
         "unit_name": unit["name"], "happened_on": today, "label": "Báo cáo kết quả xét duyệt "
         "đề cương", "due_on": dt.date(2025, 4, 2), "days_overdue": 14, "obligation": None,
         "reference": None, "topics": None},
        {"kind": "escalation_office", "act": True, "task_id": 4, "title": "Kế hoạch 2025",
         "unit_name": unit["name"], "happened_on": today, "label": "Hạn gửi báo cáo",
         "due_on": dt.date(2025, 3, 31), "days_overdue": 1, "obligation": "kế hoạch",
         "reference": None, "topics": None},
        {"kind": "quota_not_met", "act": True, "task_id": None, "title": "",
         "unit_name": unit["name"], "happened_on": today, "label": None, "due_on": None,
         "days_overdue": None, "obligation": None, "year": 2025,
         "reference": None, "topics": None},
        {"kind": "outline_resubmitted", "act": True, "task_id": 5, "title": "Đề tài B",
         "unit_name": unit["name"], "happened_on": today, "label": None, "due_on": None,
         "days_overdue": None, "obligation": None,
         "reference": None, "topics": None},
        {"kind": "task_registered", "act": False, "task_id": 6, "title": "Đề tài C",
         "unit_name": unit["name"], "happened_on": today, "label": None, "due_on": None,
         "days_overdue": None, "obligation": None,
         "reference": None, "topics": None},
        {"kind": "accepted", "act": False, "task_id": 7, "title": "Đề tài D",
         "unit_name": unit["name"], "happened_on": today, "label": "Nghiệm thu",
         "due_on": None, "days_overdue": None, "obligation": None,
         "reference": None, "topics": None},
        {"kind": "report_submitted", "act": True, "task_id": 8, "title": "Báo cáo 2025",
         "unit_name": unit["name"], "happened_on": today, "label": None, "due_on": None,
         "days_overdue": None, "obligation": "báo cáo kết quả xét duyệt đề cương năm 2025",
         "reference": "25/BC-BVDK", "topics": [
             {"id": 12, "title": "Đề tài A", "pi_name": "ThS.BS Nguyễn Thị Hoa",
              "noun": "đề tài", "awaiting": False, "reached": True,
              "result": "Phê duyệt đề cương", "on": dt.date(2025, 4, 10),
              "decision_no": "15/QĐ-BVDK", "grade": None, "due_on": None}]},
    ]
    ctx["digest"]["acts"] = 5
    ctx["letter"] = {"day": today, "count": 2, "sections": [
        {"kind": "reminder", "heading": "V/v nhắc hạn (mẫu)", "text": "Nội dung thứ nhất.\n",
         "html": "<p>Nội dung thứ nhất.</p>", "role": "to"},
        {"kind": "obligation_requested", "heading": "V/v đề nghị gửi báo cáo (mẫu)",
         "text": "Nội dung thứ hai.\n", "html": "<p>Nội dung thứ hai.</p>", "role": "cc"}]}
    ctx["plan"] = cfg.plan_reference or "Kế hoạch (mẫu)"
    return ctx


def _people(cfg: MailConfig, unit_name: str) -> dict[str, dict[str, Any]]:
    """One sample reader per role, as `notifications.recipients` resolves them: the investigator
    and the council member with a title, the head without one, the contact and an unknown
    addressee with no name at all."""
    return {
        "pi": {"role": "pi", "name": "Nguyễn Thị Hoa", "title": "ThS.BS",
               "email": "hoa@example.vn", "unit_name": unit_name},
        "unit_head": {"role": "unit_head", "name": "Trần Văn Minh", "title": "BS.CKII",
                      "email": "minh@example.vn", "unit_name": unit_name},
        "unit_contact": {"role": "unit_contact", "name": "", "title": "",
                         "email": "khth@example.vn", "unit_name": unit_name},
        "office": {"role": "office", "name": cfg.office["department"], "title": "",
                   "email": "office@example.vn", "unit_name": ""},
        "council": {"role": "council", "name": "Lê Thị Lan", "title": "PGS.TS",
                    "email": "lan@example.vn", "unit_name": ""},
        "addressed": {"role": "addressed", "name": "", "title": "",
                      "email": "lanhdao@example.vn", "unit_name": ""},
    }


def all_samples(cfg: MailConfig, catalog: Catalog) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for kind in catalog.kinds:
        variants = [True] if kind.startswith("obligation_") else [False, True]
        out[kind] = [sample_context(cfg, catalog, kind, "vi", obligation=v) for v in variants]
    return out
