"""Every move between every pair of stages, against the table in casework/workflow.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casework.models import CaseEvent, EventKind, Stage
from casework.workflow import (
    COORDINATOR_ENTRY,
    FORWARD,
    ON_THE_ROAD,
    move_problems,
    targets_from,
)
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

ALL = list(Stage)


def ready_case(stage: Stage, **overrides):
    """A case at `stage` with every requirement of every stage met."""
    now = timezone.now()
    case = CaseFactory(
        stage=stage,
        stage_entered_at=now - timedelta(hours=1),
        held_from=Stage.PLANNING if stage == Stage.ON_HOLD else "",
        risk_reviewed_at=now,
        destination_country="GE",
        route_summary="Train, then bus.",
        readiness_confirmed=True,
        crossing_window_start=now,
        crossing_window_end=now + timedelta(hours=6),
        assignee=UserFactory(),
        **overrides,
    )
    CaseEvent.objects.create(case=case, kind=EventKind.CHECK_IN, version=1)
    return case


def expected_allowed(source: Stage, target: Stage) -> bool:
    if source == Stage.CLOSED:
        return False
    if target == Stage.CLOSED:
        return True
    if source == Stage.ON_HOLD:
        return target == Stage.PLANNING  # back to where it was held from
    if target == Stage.ON_HOLD:
        return True
    if target not in FORWARD:
        return False
    return FORWARD.index(target) <= FORWARD.index(source) + 1 and target != source


@pytest.mark.parametrize("target", ALL, ids=str)
@pytest.mark.parametrize("source", ALL, ids=str)
def test_every_move_for_a_coordinator_with_everything_ready(source, target):
    case = ready_case(source)
    problems = move_problems(
        case, target, is_coordinator=True, reason="plan changed", outcome="safe"
    )
    assert (problems == []) is expected_allowed(source, target), problems
    assert (target in targets_from(case)) is expected_allowed(source, target)


@pytest.mark.parametrize("target", sorted(COORDINATOR_ENTRY), ids=str)
def test_a_volunteer_cannot_enter_the_risky_stages_or_close(target):
    source = {Stage.IN_TRANSIT: Stage.PREPARATION, Stage.CROSSING: Stage.IN_TRANSIT}.get(
        target, Stage.FOLLOW_UP
    )
    case = ready_case(source)
    problems = move_problems(case, target, is_coordinator=False, reason="x", outcome="safe")
    assert "Only the team's coordinator can approve this move." in problems


ROAD_HOLD = "Only the team's coordinator can put a case on hold while the person is on the road."


@pytest.mark.parametrize("source", FORWARD, ids=str)
def test_a_volunteer_puts_a_case_on_hold_except_while_the_person_is_on_the_road(source):
    case = ready_case(source)
    problems = move_problems(case, Stage.ON_HOLD, is_coordinator=False, reason="waiting")
    assert problems == ([ROAD_HOLD] if source in ON_THE_ROAD else [])


@pytest.mark.parametrize(
    ("stage", "missing", "message"),
    [
        (Stage.NEW, {"assignee": None}, "Needs an assignee first."),
        (Stage.SCREENING, {"risk_reviewed_at": None}, "Needs risk flags reviewed first."),
        (Stage.PLANNING, {"destination_country": ""}, "Needs a destination country first."),
        (Stage.PLANNING, {"route_summary": ""}, "Needs a route summary first."),
        (Stage.PREPARATION, {"readiness_confirmed": False}, "Needs the readiness checklist first."),
        (Stage.IN_TRANSIT, {"crossing_window_end": None}, "Needs a planned crossing window first."),
    ],
)
def test_a_stage_cannot_be_left_before_its_work_is_done(stage, missing, message):
    case = ready_case(stage)
    for name, value in missing.items():
        setattr(case, name, value)
    target = FORWARD[FORWARD.index(stage) + 1]
    assert message in move_problems(case, target, is_coordinator=True)


def test_screening_needs_a_category():
    case = ready_case(Stage.SCREENING)
    case.person.category = ""
    assert "Needs a category first." in move_problems(case, Stage.PLANNING, is_coordinator=True)


def test_arrived_needs_an_arrival_check_in():
    case = ready_case(Stage.ARRIVED)
    case.events.all().delete()
    assert "Needs an arrival check-in first." in move_problems(
        case, Stage.FOLLOW_UP, is_coordinator=True
    )


def test_a_step_back_needs_a_reason():
    case = ready_case(Stage.CROSSING)
    assert "Give a reason for this move." in move_problems(
        case, Stage.PLANNING, is_coordinator=True
    )
    assert move_problems(case, Stage.PLANNING, is_coordinator=True, reason="route closed") == []


def test_closing_needs_an_outcome():
    case = ready_case(Stage.SCREENING)
    assert "Choose an outcome to close the case." in move_problems(
        case, Stage.CLOSED, is_coordinator=True
    )


def test_a_closed_case_goes_nowhere():
    assert targets_from(ready_case(Stage.CLOSED)) == []
