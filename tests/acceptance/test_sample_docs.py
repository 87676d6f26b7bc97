"""What the newcomer reads stays true: the office guide's diagrams are the workflows' own, and
the documented sample config is valid as shipped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.app import build
from engine.settings import load_settings
from workflows.describe import diagram
from workflows.errors import InputError
from workflows.registry import Registry

ROOT = Path(__file__).parents[2]


def test_the_office_guide_diagrams_match_the_workflow_files() -> None:
    text = (ROOT / "docs/office-guide.md").read_text()
    blocks = dict(re.findall(r"\(`(\w+)`\)[^\n]*\n\n[^\n]*\n\n```mermaid\n(.*?)```", text,
                             re.S))
    registry = Registry()
    assert sorted(blocks) == sorted(registry.names())
    for name, block in blocks.items():
        assert block == diagram(registry.get(name), "mermaid", "vi"), name


def test_the_sample_config_is_valid_as_shipped(tmp_path: Path) -> None:
    settings = load_settings(env={"NCKH_DATA_DIR": str(tmp_path)},
                             config_file=str(ROOT / "deploy/nckh.toml"))
    assert settings.smtp_tls == "starttls" and settings.office_email
    app = build(settings, check_schema=False)  # every component validates its section
    app.close()


def test_a_bad_reports_section_stops_the_command_with_the_key_named(tmp_path: Path) -> None:
    config = tmp_path / "nckh.toml"
    config.write_text('[reports]\nformats = ["pdf"]\n')
    settings = load_settings(env={"NCKH_DATA_DIR": str(tmp_path)}, config_file=str(config))
    with pytest.raises(InputError, match=r"config \[reports\] formats: expected a list"):
        build(settings, check_schema=False)


def test_the_systemd_unit_runs_real_commands_and_does_not_restart_on_hopeless_exits() -> None:
    import configparser

    from engine.cli.main import COMMANDS
    from workflows.errors import Refused

    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy/nckh.service")
    service = unit["Service"]
    for key in ("ExecStartPre", "ExecStart"):
        binary, command = service[key].split()[:2]
        assert binary.endswith("/nckh") and command in COMMANDS, key
    assert service["KillSignal"] == "SIGTERM"
    hopeless = {int(code) for code in service["RestartPreventExitStatus"].split()}
    assert hopeless == {InputError.exit_code, Refused.exit_code}
