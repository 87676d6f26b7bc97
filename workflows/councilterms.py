"""The words of councils and their outcomes (hội đồng, nghiệm thu, công nhận), in Vietnamese and
English: roles, results, grades, who recognises, the stages; and the one-cell verdict a report
prints. Pure data: engine/councils.py keeps the rules, storage/councils.py the stored values
(the keys here).
"""

from __future__ import annotations

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "role": {"chair": {"vi": "Chủ tịch", "en": "Chair"},
             "secretary": {"vi": "Thư ký", "en": "Secretary"},
             "reviewer": {"vi": "Phản biện", "en": "Reviewer"},
             "member": {"vi": "Ủy viên", "en": "Member"}},
    "result": {"passed": {"vi": "Đạt", "en": "Passed"},
               "revise": {"vi": "Đạt, phải chỉnh sửa, bổ sung", "en": "Passed with revisions"},
               "failed": {"vi": "Không đạt", "en": "Failed"}},
    "grade": {"excellent": {"vi": "Xuất sắc", "en": "Excellent"},
              "good": {"vi": "Khá", "en": "Good"},
              "pass": {"vi": "Đạt", "en": "Pass"}},
    "issuer": {"department": {"vi": "Sở Y tế", "en": "Department of Health"},
               "sector_council": {"vi": "Hội đồng KHCN ngành", "en": "Sector science council"}},
    "stage": {"outline": {"vi": "Hội đồng xét duyệt đề cương", "en": "Outline review council"},
              "acceptance": {"vi": "Hội đồng nghiệm thu", "en": "Acceptance council"}},
    "word": {"council": {"vi": "Hội đồng", "en": "Councils"},
             "decision": {"vi": "Quyết định thành lập", "en": "Established by"},
             "members": {"vi": "Thành viên", "en": "Members"},
             "outcome": {"vi": "Kết quả", "en": "Outcome"},
             "grade": {"vi": "Xếp loại", "en": "Grade"},
             "score": {"vi": "Điểm", "en": "Score"},
             "held_on": {"vi": "Ngày họp", "en": "Meeting day"},
             "minutes": {"vi": "Biên bản", "en": "Minutes"},
             "recognition": {"vi": "Công nhận kết quả", "en": "Recognition"},
             "none": {"vi": "Chưa có", "en": "None yet"}},
}


def verdict(result: str, grade: str | None, lang: str = "vi") -> str:
    """The outcome in one cell: the grade when there is one (Xuất sắc, Khá, Đạt), else the
    result (Đạt, phải chỉnh sửa, bổ sung; Không đạt)."""
    if grade is not None:
        return LABELS["grade"][grade][lang]
    return LABELS["result"][result][lang]
