"""The council rules that need no database: members, outcomes, the event a result fires, and the
stored values matching the words shown for them."""

from __future__ import annotations

import pytest

from engine.councils import (
    MemberInput,
    OutcomeInput,
    check_members,
    check_outcome,
    choose_event,
    parse_member,
)
from storage import councils as stored
from workflows.councilterms import LABELS, verdict
from workflows.errors import InputError
from workflows.registry import Registry


def test_every_stored_value_has_its_words() -> None:
    assert tuple(LABELS["stage"]) == stored.STAGES
    assert tuple(LABELS["role"]) == stored.ROLES
    assert tuple(LABELS["result"]) == stored.RESULTS
    assert tuple(LABELS["grade"]) == stored.GRADES
    assert tuple(LABELS["issuer"]) == stored.ISSUERS


def test_a_member_is_typed_email_colon_role_in_vietnamese_or_english() -> None:
    assert parse_member(" a@b.vn:Chu-tich ") == MemberInput("a@b.vn", "chair")
    assert parse_member("a@b.vn:phan_bien").role == "reviewer"
    with pytest.raises(InputError, match="expected EMAIL:ROLE"):
        parse_member("a@b.vn")


def test_a_council_has_one_chair_one_secretary_and_each_person_once() -> None:
    chair, secretary = MemberInput("a@b.vn", "chair"), MemberInput("c@b.vn", "secretary")
    check_members([chair, secretary, MemberInput("d@b.vn", "member")])
    with pytest.raises(InputError, match="exactly one secretary"):
        check_members([chair])
    with pytest.raises(InputError, match="named twice"):
        check_members([chair, secretary, MemberInput("A@b.vn", "member")])


@pytest.mark.parametrize(("result", "grade", "score", "expected"), [
    ("passed", "xuat-sac", "9,5", ("passed", "excellent", 9.5)),
    ("revise", None, None, ("revise", None, None)),
    ("revise", "dat", "", ("revise", "pass", None)),
    ("khong-dat", None, "40", ("failed", None, 40.0)),
])
def test_an_outcome_is_read_as_stored(result: str, grade: str | None, score: str | None,
                                      expected: tuple[object, ...]) -> None:
    assert check_outcome(OutcomeInput(1, result, grade=grade, score=score)) == expected


@pytest.mark.parametrize("score", ["nan", "inf", "-1", "100.5", "mười"])
def test_a_score_is_a_number_from_0_to_100(score: str) -> None:
    with pytest.raises(InputError, match="expected a number 0–100"):
        check_outcome(OutcomeInput(1, "revise", score=score))


def test_the_result_fires_the_workflows_event_the_state_allows() -> None:
    wf = Registry().get("unit_task")
    assert choose_event(wf, "in_progress", "passed") == "accept"
    assert choose_event(wf, "acceptance_failed", "revise") == "accept"
    assert choose_event(wf, "in_progress", "failed") == "fail_acceptance"
    assert choose_event(wf, "acceptance_failed", "failed") == "fail_reevaluation"
    # From a state none allows: the first, so that the engine refuses it in its own words.
    assert choose_event(wf, "proposed", "failed") == "fail_acceptance"
    assert verdict("failed", None) == "Không đạt" and verdict("passed", "good") == "Khá"
