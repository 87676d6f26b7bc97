"""Offices in the configuration (`[[offices]]`, an obligation's or a workflow's `office`): what is
accepted, and every bad entry refused in one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.app import read_config, with_routes
from engine.settings import load_settings
from notifications.offices import DEFAULT_KEY
from workflows.errors import DefinitionError, InputError
from workflows.loader import load_text
from workflows.registry import PACKAGED_DIR, Registry

OFFICES = """
[[offices]]
key = "ke_hoach_tai_chinh"
name = "Phòng Kế hoạch – Tài chính"
email = "KHTC@syt.example.vn"
head_name = "Phan Thị Thanh"
head_title = "Trưởng phòng"
obligations = ["unit_plan"]

[[offices]]
key = "so_khcn"
name = "Sở Khoa học và Công nghệ"
email = "qlkh@skhcn.example.vn"
cc_levels = ["province"]
"""


def mail(tmp_path: Path, text: str, workflows: Path | None = None):  # type: ignore[no-untyped-def]
    path = tmp_path / "nckh.toml"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(env={"NCKH_DATA_DIR": str(tmp_path), "NCKH_CONFIG": str(path),
                                  "NCKH_OFFICE_EMAIL": "pnvy@syt.example.vn"})
    return with_routes(read_config(settings), Registry(workflows))


def refused(tmp_path: Path, text: str, workflows: Path | None = None) -> str:
    with pytest.raises(InputError) as exc:
        mail(tmp_path, text, workflows)
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_a_config_without_offices_has_the_default_office_alone(tmp_path: Path) -> None:
    cfg = mail(tmp_path, "")
    assert list(cfg.offices) == [DEFAULT_KEY]
    assert cfg.office_for("unit_task", "unit_plan")["email"] == "pnvy@syt.example.vn"
    assert cfg.copies_for("province") == []


def test_offices_route_obligations_and_copy_levels(tmp_path: Path) -> None:
    cfg = mail(tmp_path, OFFICES)
    assert list(cfg.offices) == [DEFAULT_KEY, "ke_hoach_tai_chinh", "so_khcn"]
    plan = cfg.office_for("unit_report", "unit_plan")
    assert (plan["department"], plan["email"]) == ("Phòng Kế hoạch – Tài chính",
                                                   "khtc@syt.example.vn")
    assert cfg.office_for("unit_report", "annual_report")["key"] == DEFAULT_KEY
    assert [o["key"] for o in cfg.copies_for("province")] == ["so_khcn"]
    assert cfg.copies_for("unit") == []


def test_an_obligation_may_name_its_office(tmp_path: Path) -> None:
    cfg = mail(tmp_path, OFFICES.replace('obligations = ["unit_plan"]', "") + """
[[scheduler.obligations]]
key = "six_month_report"
due = "07-05"
office = "ke_hoach_tai_chinh"
""")
    assert cfg.routes.obligations == {"six_month_report": "ke_hoach_tai_chinh"}


@pytest.mark.parametrize(("text", "expected"), [
    ('[[scheduler.obligations]]\nkey = "unit_plan"\ndue = "03-31"\noffice = "khtc"\n',
     "obligation 'unit_plan' names office 'khtc', which is not configured"),
    (OFFICES.replace('key = "so_khcn"', 'key = "ke_hoach_tai_chinh"'),
     "invalid [[offices]] 'ke_hoach_tai_chinh': this key is used twice"),
    (OFFICES.replace('key = "so_khcn"', f'key = "{DEFAULT_KEY}"'),
     f"'{DEFAULT_KEY}' is the default office, described by [mail]"),
    (OFFICES.replace("qlkh@skhcn.example.vn", "qlkh@@skhcn"), "[[offices]] 'so_khcn' email"),
    (OFFICES.replace("qlkh@skhcn.example.vn", "khtc@syt.example.vn"),
     "email khtc@syt.example.vn is already office 'ke_hoach_tai_chinh'"),
    (OFFICES.replace('key = "so_khcn"', 'key = "Sở KHCN"'), "key 'Sở KHCN': use lower-case"),
    (OFFICES.replace('cc_levels = ["province"]', 'cc_levels = ["tinh"]'), "cc_levels"),
    (OFFICES.replace('cc_levels', 'cc_level'), "unknown field 'cc_level'"),
    (OFFICES.replace('email = "qlkh@skhcn.example.vn"\n', ""), "'email' is required"),
    (OFFICES.replace('["unit_plan"]', '["unit_pln"]'), "no obligation 'unit_pln'"),
    (OFFICES.replace('cc_levels = ["province"]', 'obligations = ["unit_plan"]'),
     "obligation 'unit_plan' is given to two offices"),
])
def test_a_bad_office_is_refused_in_one_line(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in refused(tmp_path, text)


def test_offices_written_as_one_table_are_refused(tmp_path: Path) -> None:
    assert "[[offices]]" in refused(tmp_path, '[offices]\nkey = "x"\n')


def test_a_workflow_names_its_office_and_an_unknown_one_is_refused(tmp_path: Path) -> None:
    flows = tmp_path / "workflows"
    flows.mkdir()
    for path in PACKAGED_DIR.glob("*.yaml"):
        (flows / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    province = flows / "province_task.yaml"
    text = province.read_text(encoding="utf-8")
    province.write_text(text.replace("level: province\n", "level: province\noffice: so_khcn\n"),
                        encoding="utf-8")
    assert mail(tmp_path, OFFICES, flows).routes.workflows == {"province_task": "so_khcn"}
    message = refused(tmp_path, "", flows)
    assert message.startswith("workflow 'province_task' names office 'so_khcn', which is not "
                              "configured")


def test_the_loader_reads_a_workflows_office_as_a_plain_key() -> None:
    source = (PACKAGED_DIR / "unit_task.yaml").read_text(encoding="utf-8")
    wf = load_text(source.replace("level: unit\n", "level: unit\noffice: nghiep_vu_y\n"),
                   "<test>")
    assert wf.office == "nghiep_vu_y"
    assert load_text(source, "<test>").office is None
    with pytest.raises(DefinitionError, match="office key"):
        load_text(source.replace("level: unit\n", "level: unit\noffice: Sở KH\n"), "<test>")
