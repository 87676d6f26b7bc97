"""The words of a task's funding (nguồn kinh phí), pure so reports and shells share them: the
sources as stored with their labels, and an amount as people read it ("150.000.000 đ")."""

from __future__ import annotations

# As stored (storage/taskextras.py holds the column; engine/taskextras.py the rules).
FUNDING_SOURCES = ("recurrent", "provincial_fund", "unit", "other")
LABELS = {
    "recurrent": {"vi": "Ngân sách sự nghiệp", "en": "Recurrent budget"},
    "provincial_fund": {"vi": "Quỹ KH&CN tỉnh", "en": "Provincial S&T fund"},
    "unit": {"vi": "Đơn vị tự chủ", "en": "The unit's own funds"},
    "other": {"vi": "Khác", "en": "Other"},
}


def shown_amount(amount: int) -> str:
    """150000000 -> "150.000.000 đ"."""
    return f"{amount:,}".replace(",", ".") + " đ"


def funding_text(source: str | None, amount: int | None, lang: str = "vi") -> str:
    """"150.000.000 đ (Quỹ KH&CN tỉnh)", either part alone, or "" when nothing is recorded."""
    label = LABELS[source][lang] if source in LABELS else source
    if amount is None:
        return label or ""
    return shown_amount(amount) + (f" ({label})" if label else "")
