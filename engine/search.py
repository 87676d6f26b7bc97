"""Finding tasks by what people remember of them: words of the title, the investigator's name, the
unit's code or name, a decision's number. The matching, pure: `storage.search` reads the rows of
the scope, this module folds and compares them. Who may search what is `engine.views`' decision.

Folding makes the search indifferent to case and to Vietnamese diacritics, both ways: "dai thao
duong" finds "Đái tháo đường", and "đái" finds a title typed without marks. Every word searched
must appear (as part of a word) in one of the fields; the fields each word was found in are
returned, so a page can say why a task came up.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from storage.search import SearchRow
from workflows.errors import InvalidData
from workflows.model import Workflow

# The history field the workflows record a decision's number in (approve_outline, accept).
DECISION_FIELD = "decision_no"
MAX_QUERY = 200
LIMIT = 100
FIELDS = ("title", "pi", "unit", "decision")


def _unmarked(char: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))


# Every Latin letter with marks (Vietnamese uses Latin-1, Latin Extended-A/B and the Extended
# Additional block) to its bare letter, and the combining marks themselves to nothing (text typed
# decomposed). "đ" is a letter of its own, not a "d" with a mark: it is mapped by hand. One
# `str.translate` then folds a title at C speed: a province's few thousand titles in milliseconds.
_FOLD: dict[int, str | None] = {
    cp: _unmarked(chr(cp)) for cp in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00))
    if _unmarked(chr(cp)) != chr(cp)}
_FOLD.update({cp: None for cp in range(0x300, 0x370)})
_FOLD.update({ord("đ"): "d", ord("Đ"): "D"})


def fold(text: str) -> str:
    """Lower case, no diacritics ("đ" becomes "d"), single spaces."""
    return " ".join(text.translate(_FOLD).casefold().split())


def terms(query: str) -> list[str]:
    """The folded words of a query; none for a blank one. Too long a query is refused."""
    if len(query) > MAX_QUERY:
        raise InvalidData(f"the search is {len(query)} characters long: at most {MAX_QUERY}",
                          field="q")
    return fold(query).split()


def decision_events(workflows: Iterable[Workflow]) -> list[str]:
    """The events that record a decision's number, by the workflows' own field lists."""
    return sorted({ev.name for wf in workflows for ev in wf.events.values()
                   if ev.field(DECISION_FIELD) is not None})


def matches(row: SearchRow, decisions: Sequence[str], words: Sequence[str],
            folded: dict[str, str] | None = None) -> list[str]:
    """The fields (of `FIELDS`) the words were found in if every word was found; else [].
    `folded`: folds already made (a unit's or an investigator's repeat over many rows)."""
    memo = {} if folded is None else folded

    def fold_once(text: str) -> str:
        found = memo.get(text)
        if found is None:
            found = memo[text] = fold(text)
        return found

    haystacks = {"title": fold(row.title),
                 "pi": fold_once(f"{row.pi_name} {row.pi_email}"),
                 "unit": fold_once(f"{row.unit_code} {row.unit_name}"),
                 "decision": fold(" ".join(decisions)) if decisions else ""}
    everything = "\n".join(haystacks.values())  # no word holds a newline: none spans two fields
    if not all(word in everything for word in words):
        return []
    found: list[str] = []
    for word in words:
        found += [name for name, text in haystacks.items() if word in text and name not in found]
    return [name for name in FIELDS if name in found]


def results(rows: Sequence[SearchRow], decisions: Mapping[int, Sequence[str]],
            words: Sequence[str], *, workflow: Callable[[int], Workflow], today: dt.date,
            lang: str, limit: int = LIMIT) -> dict[str, Any]:
    """The tasks matching every word, in the rows' order (newest year first): at most `limit`
    of them, with how many matched in all."""
    hits: list[dict[str, Any]] = []
    total = 0
    folded: dict[str, str] = {}
    for row in rows:
        fields = matches(row, decisions.get(row.id, ()), words, folded) if words else []
        if not fields:
            continue
        total += 1
        if len(hits) >= limit:
            continue
        wf = workflow(row.definition_id)
        state = wf.states.get(row.state)
        hits.append({
            "id": row.id, "title": row.title, "year": row.year, "level": row.level,
            "unit": row.unit_code, "unit_name": row.unit_name,
            "pi": row.pi_email, "pi_name": row.pi_name,
            "state": row.state, "state_label": state.labels.get(lang) if state else row.state,
            "due_on": row.due_on.isoformat() if row.due_on else None,
            "overdue": row.due_on is not None and row.due_on < today,
            "decisions": list(decisions.get(row.id, ())), "matched": fields,
        })
    return {"terms": list(words), "rows": hits, "total": total, "limit": limit}
