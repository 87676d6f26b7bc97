"""Loading workflow files: every packaged definition loads, every invalid one names file:line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.workflow_samples import BAD, BASE, RESUME, edit, line_of  # noqa: F401
from workflows.errors import DefinitionError
from workflows.loader import load_file, load_text
from workflows.registry import PACKAGED_DIR, Registry
from workflows.yamlsrc import load_located

# A small valid workflow. Each bad case below edits one spot of it; the error must point at the
# line of that spot (found by a marker, so the numbers follow the text).







# (case id, edited text, marker of the line the error must name, nth occurrence, reason regex)


def test_the_base_of_the_bad_cases_is_itself_valid() -> None:
    wf = load_text(BASE, "<base>")
    assert wf.name == "demo"
    assert list(wf.states) == ["proposed", "in_progress", "suspended", "done"]
    assert wf.states["in_progress"].timers is not None


@pytest.mark.parametrize(("text", "marker", "nth", "reason"),
                         [pytest.param(*case[1:], id=case[0]) for case in BAD])
def test_an_invalid_definition_is_rejected_with_file_line_and_reason(
        text: str, marker: str, nth: int, reason: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        load_text(text, "demo.yaml")
    err = caught.value
    assert err.file == "demo.yaml"
    assert re.search(reason, err.reason), err.reason
    assert err.line == line_of(text, marker, nth), (err.line, err.reason)
    assert str(err) == f"demo.yaml:{err.line}: {err.reason}"


def test_an_empty_file_is_rejected_at_line_one() -> None:
    with pytest.raises(DefinitionError, match=r"^demo.yaml:1: empty file$"):
        load_text("", "demo.yaml")


def test_a_file_whose_name_differs_from_the_workflow_name_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(BASE, encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    assert caught.value.line == 1
    assert "workflow name 'demo' must match its file name 'other'" in caught.value.reason


def test_a_file_that_is_not_utf8_is_rejected_without_a_line(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_bytes(BASE.encode("cp1258", errors="replace").replace(b"Quy", b"\xff\xfe"))
    with pytest.raises(DefinitionError, match=r"demo.yaml: not UTF-8 text$"):
        load_file(path)


def test_a_missing_file_is_reported_as_not_found(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"nope.yaml: file not found$"):
        load_file(tmp_path / "nope.yaml")


@pytest.mark.parametrize("path", sorted(PACKAGED_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_packaged_definition_loads(path: Path) -> None:
    wf = load_file(path)
    assert wf.name == path.stem
    assert wf.initial in wf.states
    assert len(wf.sha256) == 64
    for state in wf.states.values():
        assert state.labels.vi and state.labels.en
    for event in wf.events.values():
        assert event.labels.vi and event.labels.en


@pytest.mark.parametrize("name", ["unit_task", "province_task", "initiative"])
def test_the_main_path_events_are_the_same_in_every_task_workflow(name: str) -> None:
    wf = Registry().get(name)
    main_path = [("approve_outline", "proposed", "outline_approved", {"office", "council"}),
                 ("start", "outline_approved", "in_progress", {"unit_head", "office"}),
                 ("accept", "in_progress", "accepted", {"council", "office"}),
                 ("publish", "accepted", "published", {"pi", "unit_head", "office"})]
    for event, source, dest, roles in main_path:
        ev = wf.events[event]
        assert source in ev.sources and ev.dest == dest and set(ev.roles) == roles
    assert wf.events["publish"].one_of == (("url", "reference"),)
    for side in ("request_revision", "resubmit", "reject", "fail_acceptance", "extend",
                 "suspend", "resume", "cancel"):
        assert side in wf.events
    for needs_reason in ("reject", "cancel", "suspend", "extend", "request_revision"):
        assert wf.events[needs_reason].reason == "required"


def test_the_registry_maps_task_levels_to_workflows() -> None:
    reg = Registry()
    assert reg.for_level("province").name == "province_task"
    assert {"unit_task", "province_task", "initiative"} <= set(reg.names())


def test_a_yaml_duplicate_key_is_refused_at_its_second_occurrence() -> None:
    text = "a:\n  b: 1\n  c: 2\n  b: 3\n"
    with pytest.raises(DefinitionError) as caught:
        load_located(text, "x.yaml")
    assert (caught.value.line, caught.value.reason) == (4, "duplicate key 'b' in a")


def test_a_yaml_duplicate_top_level_key_is_named_as_such() -> None:
    with pytest.raises(DefinitionError, match=r"^x.yaml:3: duplicate key 'a' in top level$"):
        load_located("a: 1\nb: 2\na: 3\n", "x.yaml")


def test_yaml_locations_point_at_keys_and_list_items() -> None:
    doc = load_located("top:\n  items:\n    - one\n    - two\n  other: {k: v}\n", "x.yaml")
    assert doc.line(("top", "items")) == 2
    assert doc.line(("top", "items", 1)) == 4
    assert doc.line(("top", "other", "k")) == 5
    assert doc.line(("top", "missing", "deeper")) == 1  # falls back to the nearest parent


def test_yaml_dates_stay_text_for_the_validator() -> None:
    doc = load_located("when: 2025-04-30\n", "x.yaml")
    assert doc.data == {"when": "2025-04-30"}
