"""A small valid workflow definition and a catalogue of broken variants of it, shared by the
loader's tests and the CLI's bad-input catalogue."""

from __future__ import annotations

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


BAD: list[tuple[str, str, str, int, str]] = [
    ("unknown-milestone", edit("    to: done\n", "    to: done\n    milestone: finished\n"),
     "milestone: finished", 1, r"unknown milestone 'finished'; milestones: outline_approved"),
    ("milestone-reached-twice",
     edit("    to: done\n", "    to: done\n    milestone: accepted\n",
          edit("    to: in_progress\n    roles: [office, unit_head]\n",
               "    to: in_progress\n    roles: [office, unit_head]\n    milestone: accepted\n")),
     "milestone: accepted", 2, r"milestone 'accepted' is already reached by event 'start'"),
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
    ("keeps-deadline-not-a-self-loop",
     edit("    to: done\n", "    to: done\n    keeps_deadline: true\n"), "keeps_deadline: true", 1,
     r"event 'finish' keeps the deadline: it must go from a state to that same state"),
    ("keeps-deadline-not-a-boolean",
     edit("    to: done\n", "    to: done\n    keeps_deadline: 1\n"), "keeps_deadline: 1", 1,
     r"keeps_deadline must be true or false"),
    ("or-task-end-not-a-boolean",
     edit('before: "04-30"}', 'before: "04-30", or_task_end: yes-please}'),
     "or_task_end: yes-please", 1, r"or_task_end must be true or false"),
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
    ("void-state-not-final", edit('    labels: {vi: "Tạm dừng", en: "Suspended"}\n',
                                  '    labels: {vi: "Tạm dừng", en: "Suspended"}\n'
                                  "    void: true\n"),
     "void: true", 1, r"void state 'suspended' must be final: true"),
    ("void-not-a-flag", edit("    final: true", "    final: true\n    void: yes please"),
     "void: yes please", 1, r"void must be true or false"),
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


