"""A small province with three council members (chair, secretary, reviewer): what the council
tests and the council-mail tests share. Plain helpers (no pytest magic)."""

from __future__ import annotations

from pathlib import Path

from engine.app import App, build
from engine.councils import MemberInput
from tests.conftest import local, make_settings
from tests.scheduling import small_province

PI = "pi.a@syt.example.vn"
CHAIR, SECRETARY, REVIEWER = ("chu.tich@syt.example.vn", "thu.ky@syt.example.vn",
                              "phan.bien@syt.example.vn")
MEMBERS = (MemberInput(CHAIR, "chair"), MemberInput(SECRETARY, "secretary"),
           MemberInput(REVIEWER, "reviewer"))


def council_app(db_url: str, tmp_path: Path) -> App:
    """Units A and B, the office, and the three council members, registered on 20/12/2024."""
    app = build(make_settings(db_url, tmp_path))
    t0 = local(2024, 12, 20)
    small_province(app, t0, codes=("A", "B"))
    for email, name in ((CHAIR, "PGS.TS Nguyễn Văn Chủ"), (SECRETARY, "ThS Lê Thị Ký"),
                        (REVIEWER, "TS Trần Phản")):
        app.engine.add_person(email=email, name=name, role="council", now=t0)
    return app
