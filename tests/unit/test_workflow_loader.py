"""Loading workflow files: every packaged definition loads, every invalid one names file:line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workflows.errors import DefinitionError
from workflows.loader import load_file, load_text
from workflows.registry import PACKAGED_DIR, Registry
from workflows.yamlsrc import load_located

# A small valid workflow. Each bad case below edits one spot of it; the error must point at the
# line of that spot (found by a marker, so the numbers follow the text).
BASE = """\
name: demo
version: 1
level: unit
labels: {vi: "Quy trình thử", en: "Demo"}
initial: proposed
states:
  proposed:
    labels: {vi: "Đã đề xuất", en: "Proposed"}
    deadline: {before: "04-30"}
  in_progress:
    labels: {vi: "Đang thực hiện", en: "In progress"}
    deadline:
      within: 30d
    timers:
      on_overdue: {after: 90, fire: suspend}
  suspended:
    labels: {vi: "Tạm dừng", en: "Suspended"}
  done:
    labels: {vi: "Hoàn thành", en: "Done"}
    final: true
events:
  start:
    labels: {vi: "Bắt đầu", en: "Start"}
    from: proposed
    to: in_progress
    roles: [office, unit_head]
  suspend:
    labels: {vi: "Tạm dừng", en: "Suspend"}
    from: in_progress
    to: suspended
    roles: [office, system]
    reason: required
  resume:
    labels: {vi: "Tiếp tục", en: "Resume"}
    from: suspended
    to: in_progress
    roles: [office]
  finish:
    labels: {vi: "Kết thúc", en: "Finish"}
    from: in_progress
    to: done
    roles: [office]
    fields:
      until: {type: date}
"""


def edit(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, f"marker {old!r} must occur once"
    return text.replace(old, new)


def line_of(text: str, marker: str, nth: int = 1) -> int:
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if marker in line]
    return hits[nth - 1]


RESUME = """  resume:
    labels: {vi: "Tiếp tục", en: "Resume"}
    from: suspended
    to: in_progress
    roles: [office]
"""

# (case id, edited text, marker of the line the error must name, nth occurrence, reason regex)
BAD: list[tuple[str, str, str, int, str]] = [
    ("unknown-destination-state", edit("    to: done", "    to: finished"),
     "to: finished", 1, r"unknown state 'finished' in event 'finish'"),
    ("unknown-source-state-in-list", edit("    from: suspended", "    from: [suspended, paused]"),
     "from: [suspended, paused]", 1, r"unknown state 'paused' in event 'resume'"),
    ("unknown-initial-state", edit("initial: proposed", "initial: drafted"),
     "initial: drafted", 1, r"unknown state 'drafted' as initial state"),
    ("unreachable-state",
     edit("  done:\n", '  orphan:\n    labels: {vi: "Mồ côi", en: "Orphan"}\n  done:\n'),
     "  orphan:", 1, r"state 'orphan' is unreachable from 'proposed'"),
    ("duplicate-event", edit("  finish:\n", RESUME + "  finish:\n"),
     "  resume:", 2, r"duplicate key 'resume' in events"),
    ("duplicate-key-inside-an-event", edit("    roles: [office]\n  finish:",
                                           "    roles: [office]\n    roles: [council]\n  finish:"),
     "roles: [council]", 1, r"duplicate key 'roles' in events/resume"),
    ("duplicate-state", edit("  done:\n", "  suspended:\n    labels: {vi: \"X\", en: \"X\"}\n"
                                          "  done:\n"),
     "  suspended:", 2, r"duplicate key 'suspended' in states"),
    ("non-final-dead-end", edit(RESUME, ""),
     "  suspended:", 1, r"state 'suspended' is a dead end: give it an event out or mark it final"),
    ("final-state-with-exits", edit("    from: suspended", "    from: [suspended, done]"),
     "  done:", 1, r"final state 'done' has outgoing events: resume"),
    ("unknown-role", edit("roles: [office, unit_head]", "roles: [office, dean]"),
     "roles: [office, dean]", 1, r"unknown role 'dean'; roles are office, council"),
    ("unknown-single-role", edit("    roles: [office]\n  finish:", "    roles: rector\n  finish:"),
     "roles: rector", 1, r"unknown role 'rector'"),
    ("bad-date-february-30", edit('before: "04-30"', 'before: "02-30"'),
     'before: "02-30"', 1, r"bad date '02-30': no such day of the year"),
    ("bad-date-month-13", edit('before: "04-30"', 'before: "13-01"'),
     'before: "13-01"', 1, r"bad date '13-01': no such day of the year"),
    ("bad-date-february-29", edit('before: "04-30"', 'before: "02-29"'),
     'before: "02-29"', 1, r"bad date '02-29': it does not exist in most years"),
    ("bad-date-format", edit('before: "04-30"', 'before: "30/4"'),
     'before: "30/4"', 1, r"bad date '30/4': expected MM-DD"),
    ("bad-duration-unit", edit("within: 30d", "within: 30x"),
     "within: 30x", 1, r"bad duration '30x': expected e.g. 90d, 10wd or 3mo"),
    ("bad-duration-zero", edit("within: 30d", "within: 0d"),
     "within: 0d", 1, r"bad duration '0d'"),
    ("deadline-with-both-rules",
     edit("      within: 30d", '      within: 30d\n      before: "05-01"'),
     "    deadline:", 2, r"deadline needs exactly one of 'before' \(MM-DD\) or 'within'"),
    ("unknown-field-type", edit("{type: date}", "{type: datetime}"),
     "{type: datetime}", 1, r"unknown field type 'datetime'; expected one of text, date"),
    ("deadline-from-not-a-date-field",
     edit("      until: {type: date}\n", "      until: {type: text}\n    deadline_from: until\n"),
     "deadline_from: until", 1, r"deadline_from 'until' must name a date field"),
    ("deadline-from-unknown-field", edit("      until: {type: date}\n",
                                         "      until: {type: date}\n    deadline_from: when\n"),
     "deadline_from: when", 1, r"deadline_from 'when' must name a date field"),
    ("on-overdue-event-not-allowed-for-system", edit("roles: [office, system]", "roles: [office]"),
     "fire: suspend", 1, r"on_overdue event 'suspend' must allow role 'system'"),
    ("on-overdue-unknown-event", edit("fire: suspend", "fire: pause"),
     "fire: pause", 1, r"on_overdue fires unknown event 'pause'"),
    ("on-overdue-event-not-from-the-state", edit("fire: suspend", "fire: start"),
     "fire: start", 1, r"on_overdue event 'start' must allow role 'system'"),
    ("on-overdue-event-that-cannot-fire-from-the-state",
     edit("fire: suspend", "fire: resume").replace("    roles: [office]\n  finish:",
                                                    "    roles: [office, system]\n  finish:"),
     "fire: resume", 1, r"on_overdue event 'resume' cannot fire from 'in_progress'"),
    ("timers-without-deadline", edit("    deadline:\n      within: 30d\n", ""),
     "    timers:", 1, r"state 'in_progress' has timers but no deadline"),
    ("final-state-with-deadline",
     edit("    final: true", "    final: true\n    deadline: {within: 5d}"),
     "deadline: {within: 5d}", 1, r"final state 'done' cannot have a deadline"),
    ("unknown-key-in-state", edit("    final: true", "    final: true\n    colour: red"),
     "colour: red", 1, r"unknown key 'colour' in state 'done'"),
    ("missing-labels-language", edit('labels: {vi: "Hoàn thành", en: "Done"}',
                                     'labels: {vi: "Hoàn thành"}'),
     'labels: {vi: "Hoàn thành"}', 1, r"labels need a non-empty 'en' text"),
    ("missing-required-top-key", edit("initial: proposed\n", ""),
     "name: demo", 1, r"missing required key 'initial'"),
    ("state-name-not-snake-case", edit("  suspended:\n", "  Suspended:\n").replace(
        "to: suspended", "to: Suspended").replace("from: suspended", "from: Suspended"),
     "  Suspended:", 1, r"state name 'Suspended' must be lower_snake_case"),
    ("reason-rule-misspelt", edit("    reason: required", "    reason: mandatory"),
     "reason: mandatory", 1, r"reason must be 'required' or 'optional'"),
    ("one-of-unknown-field", edit("      until: {type: date}\n",
                                  "      until: {type: date}\n    one_of: [[until, url]]\n"),
     "one_of: [[until, url]]", 1, r"one_of names unknown field 'url'"),
    ("escalation-to-system", edit("      on_overdue:", "      escalate: [{after: 1, to: system}]\n"
                                                      "      on_overdue:"),
     "escalate: [{after: 1, to: system}]", 1, r"unknown role 'system' to escalate to"),
    ("yaml-syntax-error", edit("    to: suspended", "    to: [suspended"),
     "roles: [office, system]", 1, r"YAML syntax"),
    # Anchors and aliases are refused before anything is built: nine levels of nine aliases (a
    # few hundred bytes) would expand into 9**9 values, and a self-reference never ends.
    ("yaml-anchor-and-alias", edit('    labels: {vi: "Đã đề xuất", en: "Proposed"}',
                                   '    labels: &p {vi: "Đã đề xuất", en: "Proposed"}').replace(
        '    labels: {vi: "Hoàn thành", en: "Done"}', "    labels: *p"),
     "labels: &p", 1, r"YAML anchor '&p' is not allowed in a workflow file"),
    ("yaml-alias-bomb", BASE + "lol: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"l{i}: &{b} [{', '.join(['*' + a] * 9)}]\n" for i, (a, b) in enumerate(
            zip("abcdefgh", "bcdefghi", strict=True))),
     "lol: &a", 1, r"YAML anchor '&a' is not allowed in a workflow file"),
    ("yaml-self-referencing-anchor", BASE + "loop: &s [*s]\n",
     "loop: &s", 1, r"YAML anchor '&s' is not allowed in a workflow file"),
    ("yaml-alias-without-anchor", edit("    roles: [office]\n    fields:", "    roles: *who\n"
                                                                          "    fields:"),
     "roles: *who", 1, r"YAML alias '\*who' is not allowed in a workflow file"),
]


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
