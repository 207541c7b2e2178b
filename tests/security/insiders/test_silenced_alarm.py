"""Insiders, finding 5: a volunteer silencing the alarm of a person on the road.

The attack: an infiltrated volunteer assigned to a case at the crossing puts it on hold (or
dismisses, snoozes, steps back, moves the window), and the urgent check-in that would have
raised the alarm is gone without a word. Now a hold from the road needs the coordinator and
keeps the check-ins; every other cancellation tells the coordinators and is audited; and a
case held on the road keeps its silence limit.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessEvent, Action
from casework import scheduling, workflow
from casework.models import (
    Case,
    CaseEvent,
    EventKind,
    Notification,
    Reminder,
    ReminderKind,
    ReminderState,
    Stage,
)
from casework.services import cases as case_services
from casework.services import reminders as reminder_services
from casework.services import retention
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

CHECK_IN = {
    Stage.CROSSING: ReminderKind.CROSSING_CHECK_IN,
    Stage.IN_TRANSIT: ReminderKind.TRANSIT_CHECK_IN,
}
ROAD_HOLD = (
    "Only the team&#x27;s coordinator can put a case on hold while the person is on the road."
)


@pytest.fixture
def second_coordinator(team):
    return UserFactory(username="coordinator2", role=Role.COORDINATOR, teams=[team])


def road_case(stage, *, team, volunteer, coordinator, entered_hours_ago=1):
    """A case the coordinator sent on the road `entered_hours_ago`, with its urgent
    check-in pending, assigned to the volunteer."""
    now = timezone.now()
    entered = now - timedelta(hours=entered_hours_ago)
    case = CaseFactory(
        team=team,
        assignee=volunteer,
        coordinator=coordinator,
        stage=stage,
        stage_entered_at=entered,
        risk_reviewed_at=now,
        destination_country="GE",
        route_summary="Bus to the border.",
        readiness_confirmed=True,
        crossing_window_start=now + timedelta(hours=1),
        crossing_window_end=now + timedelta(hours=5),
    )
    CaseEvent.objects.create(
        case=case, kind=EventKind.STAGE, to_stage=stage, created_at=entered, version=1
    )
    scheduling.on_stage_entered(case, coordinator)
    return case


@pytest.fixture
def crossing(team, volunteer, coordinator):
    return road_case(Stage.CROSSING, team=team, volunteer=volunteer, coordinator=coordinator)


def check_in(case):
    return Reminder.objects.get(case=case, kind__in=scheduling.CHECK_IN_KINDS)


def told(case):
    """Who was told that an urgent check-in of the case was cancelled."""
    notes = Notification.objects.filter(kind=ReminderKind.CHECK_IN_CANCELLED)
    assert all(note.urgent and note.subject == case.reference for note in notes)
    return {note.user.username for note in notes}


def audited(case):
    events = AccessEvent.objects.filter(action=Action.CHECK_IN_CANCELLED, target_ref=case.reference)
    return [event.actor.username if event.actor else None for event in events]


def fresh(case):
    case.refresh_from_db()
    return case


# --- The hold -----------------------------------------------------------------------------


@pytest.mark.parametrize("stage", [Stage.IN_TRANSIT, Stage.CROSSING], ids=str)
def test_a_volunteer_cannot_put_a_case_on_the_road_on_hold(
    stage, volunteer_client, volunteer, coordinator, team
):
    case = road_case(stage, team=team, volunteer=volunteer, coordinator=coordinator)
    response = volunteer_client.post(
        reverse("casework:case_move", args=[case.reference]),
        {"version": case.version, "to_stage": Stage.ON_HOLD, "reason": "Waiting a bit"},
    )
    assert response.status_code == 400
    assert ROAD_HOLD in response.content.decode()
    assert fresh(case).stage == stage
    assert check_in(case).state == ReminderState.PENDING
    assert check_in(case).kind == CHECK_IN[stage]


def test_the_case_page_tells_the_volunteer_why_the_hold_is_refused(volunteer_client, crossing):
    page = volunteer_client.get(reverse("casework:case_detail", args=[crossing.reference]))
    assert ROAD_HOLD in page.content.decode()


def test_the_coordinators_hold_keeps_the_check_in_and_tells_no_one(
    coordinator_client, crossing, second_coordinator
):
    response = coordinator_client.post(
        reverse("casework:case_move", args=[crossing.reference]),
        {"version": crossing.version, "to_stage": Stage.ON_HOLD, "reason": "Border closed"},
    )
    assert response.status_code == 302
    assert (fresh(crossing).stage, crossing.held_from) == (Stage.ON_HOLD, Stage.CROSSING)
    # A hold pauses our work, not the person's journey: the alarm still stands.
    assert check_in(crossing).state == ReminderState.PENDING
    assert told(crossing) == set() and audited(crossing) == []


def test_a_check_in_kept_on_hold_still_alarms_and_raises_lost_contact(
    crossing, coordinator, volunteer, settings
):
    settings.LOST_CONTACT_HOURS = {**settings.LOST_CONTACT_HOURS, "crossing": 0}
    case_services.case_transition(
        case=crossing,
        to_stage=Stage.ON_HOLD,
        by=coordinator,
        expected_version=crossing.version,
        reason="Border closed",
    )
    made = scheduling.dispatch_due(now=check_in(crossing).due_at + timedelta(minutes=1))
    alarmed = Notification.objects.filter(pk__in=made, kind=ReminderKind.CROSSING_CHECK_IN)
    assert {note.user for note in alarmed} == {coordinator, volunteer}
    assert fresh(crossing).is_lost_contact


# --- Every other way an urgent check-in goes, and who hears of it ---------------------------


def test_a_volunteer_dismissing_an_urgent_check_in_tells_the_coordinator(
    volunteer_client, crossing, second_coordinator
):
    url = reverse("casework:reminder_change", args=[crossing.reference, check_in(crossing).pk])
    response = volunteer_client.post(url, {"action": "dismiss", "reason": "Not needed"})
    assert response.status_code == 302
    assert check_in(crossing).state == ReminderState.CANCELLED
    # The case's coordinator, who approved the crossing; not the whole team, not the actor.
    assert told(crossing) == {"coordinator1"}
    assert audited(crossing) == ["volunteer1"]


def test_a_volunteer_snoozing_an_urgent_check_in_tells_the_coordinator(volunteer_client, crossing):
    url = reverse("casework:reminder_change", args=[crossing.reference, check_in(crossing).pk])
    later = (timezone.localtime() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    response = volunteer_client.post(url, {"action": "snooze", "until": later, "reason": "Later"})
    assert response.status_code == 302
    assert told(crossing) == {"coordinator1"}
    assert audited(crossing) == ["volunteer1"]


def test_a_volunteer_stepping_back_from_the_crossing_tells_the_coordinator(
    volunteer_client, crossing
):
    response = volunteer_client.post(
        reverse("casework:case_move", args=[crossing.reference]),
        {"version": crossing.version, "to_stage": Stage.PLANNING, "reason": "Plan failed"},
    )
    assert response.status_code == 302
    assert check_in(crossing).state == ReminderState.CANCELLED
    assert told(crossing) == {"coordinator1"}
    assert audited(crossing) == ["volunteer1"]


def test_a_refused_dismissal_changes_nothing_and_tells_no_one(volunteer_client, crossing):
    url = reverse("casework:reminder_change", args=[crossing.reference, check_in(crossing).pk])
    response = volunteer_client.post(url, {"action": "dismiss", "reason": ""})
    assert response.status_code == 400
    assert check_in(crossing).state == ReminderState.PENDING
    assert told(crossing) == set() and audited(crossing) == []


def dismiss(case, by):
    reminder_services.reminder_dismiss(reminder=check_in(case), by=by, reason="x")


def snooze_later(case, by):
    reminder = check_in(case)
    reminder_services.reminder_snooze(
        reminder=reminder, by=by, until=reminder.due_at + timedelta(hours=1), reason="x"
    )


def snooze_sooner(case, by):
    reminder = check_in(case)
    reminder_services.reminder_snooze(
        reminder=reminder, by=by, until=reminder.due_at - timedelta(hours=1), reason="x"
    )


def window(case, by, hours):
    case_services.case_update(
        case=fresh(case),
        by=by,
        expected_version=case.version,
        changes={"crossing_window_end": case.crossing_window_end + timedelta(hours=hours)},
    )


def clear_window(case, by):
    case_services.case_update(
        case=fresh(case),
        by=by,
        expected_version=case.version,
        changes={"crossing_window_start": None, "crossing_window_end": None},
    )


def move(stage, **extra):
    def moving(case, by):
        case_services.case_transition(
            case=fresh(case), to_stage=stage, by=by, expected_version=case.version, **extra
        )

    return moving


def back_from_hold(case, by):
    move(Stage.ON_HOLD, reason="x")(case, by)
    move(Stage.CROSSING)(case, by)


def record_check_in(case, by):
    case_services.case_note_add(case=case, by=by, kind=EventKind.CHECK_IN, text="We are safe")


def acknowledge_missed(case, by):
    scheduling.dispatch_due(now=check_in(case).due_at)
    reminder_services.reminder_dismiss(reminder=check_in(case), by=by, reason="Called them")


# (what the volunteer does, on a case in which stage, is it a cancellation)
PATHS = [
    ("dismiss", Stage.CROSSING, dismiss, True),
    ("snooze later", Stage.CROSSING, snooze_later, True),
    ("snooze sooner", Stage.CROSSING, snooze_sooner, False),
    ("window later", Stage.CROSSING, lambda case, by: window(case, by, 24), True),
    ("window sooner", Stage.CROSSING, lambda case, by: window(case, by, -1), False),
    ("window removed", Stage.CROSSING, clear_window, True),
    ("step back", Stage.CROSSING, move(Stage.PREPARATION, reason="x"), True),
    ("step back", Stage.IN_TRANSIT, move(Stage.PLANNING, reason="x"), True),
    ("dismiss", Stage.IN_TRANSIT, dismiss, True),
    ("arrival", Stage.CROSSING, move(Stage.ARRIVED), False),
    ("check-in", Stage.CROSSING, record_check_in, False),
    ("check-in", Stage.IN_TRANSIT, record_check_in, False),
    ("acknowledge missed", Stage.CROSSING, acknowledge_missed, False),
]


@pytest.mark.parametrize(
    ("stage", "action", "cancels"),
    [(stage, action, cancels) for _name, stage, action, cancels in PATHS],
    ids=[f"{name}-{stage}" for name, stage, _action, cancels in PATHS],
)
def test_every_way_a_volunteer_ends_an_urgent_check_in(
    stage, action, cancels, team, volunteer, coordinator
):
    case = road_case(stage, team=team, volunteer=volunteer, coordinator=coordinator)
    action(case, volunteer)
    assert told(case) == ({"coordinator1"} if cancels else set())
    assert audited(case) == (["volunteer1"] if cancels else [])


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("forward to crossing", move(Stage.CROSSING)),
        ("step back to transit", move(Stage.IN_TRANSIT, reason="x")),
        ("back from hold", lambda case, by: back_from_hold(case, by)),
    ],
)
def test_a_coordinators_move_that_schedules_the_next_check_in_cancels_nothing(
    name, action, team, volunteer, coordinator, second_coordinator
):
    stage = Stage.IN_TRANSIT if name == "forward to crossing" else Stage.CROSSING
    case = road_case(stage, team=team, volunteer=volunteer, coordinator=coordinator)
    action(case, coordinator)
    assert Reminder.objects.filter(
        case=case, kind__in=scheduling.CHECK_IN_KINDS, state=ReminderState.PENDING
    ).exists()
    assert told(case) == set() and audited(case) == []


def test_a_coordinator_cancelling_tells_the_other_coordinators_not_themselves(
    crossing, coordinator, second_coordinator
):
    move(Stage.CLOSED, outcome="detained")(crossing, coordinator)
    assert told(crossing) == {"coordinator2"}
    assert audited(crossing) == ["coordinator1"]


def test_the_only_coordinator_cancelling_is_still_audited(crossing, coordinator):
    dismiss(crossing, coordinator)
    assert told(crossing) == set()
    assert audited(crossing) == ["coordinator1"]


def test_a_case_coordinator_who_left_the_team_is_not_the_one_told(
    crossing, volunteer, coordinator, second_coordinator, team
):
    coordinator.teams.remove(team)
    dismiss(crossing, volunteer)
    assert told(crossing) == {"coordinator2"}


def test_an_erasure_that_closes_a_crossing_case_is_audited_as_a_cancellation(crossing, coordinator):
    retention.case_erase(case=crossing, by=coordinator, reason="The person asked by phone")
    assert audited(crossing) == ["coordinator1"]


def test_the_notification_carries_the_reference_only(crossing, volunteer, coordinator):
    crossing.person.legal_name = "Fakename Secretov"
    crossing.person.save()
    dismiss(crossing, volunteer)
    note = Notification.objects.get(kind=ReminderKind.CHECK_IN_CANCELLED)
    assert (note.user, note.subject, note.urgent) == (coordinator, crossing.reference, True)
    assert "Fakename" not in str(note.__dict__)


# --- Lost contact keeps running on hold ------------------------------------------------------


def hold(case, by):
    move(Stage.ON_HOLD, reason="Waiting at a safe house")(case, by)


def test_a_case_held_from_transit_goes_silent_past_the_transit_limit(
    team, volunteer, coordinator, settings
):
    limit = workflow.rule(Stage.IN_TRANSIT).silence_limit // timedelta(hours=1)
    assert workflow.rule(Stage.ON_HOLD).silence_limit is None  # on hold is off by default
    case = road_case(Stage.IN_TRANSIT, team=team, volunteer=volunteer, coordinator=coordinator)
    Reminder.objects.filter(case=case, kind=ReminderKind.TRANSIT_CHECK_IN).delete()
    hold(case, coordinator)
    scheduling.dispatch_due(now=timezone.now() + timedelta(hours=limit - 2))
    assert not fresh(case).is_lost_contact
    made = scheduling.dispatch_due(now=timezone.now() + timedelta(hours=limit + 1))
    assert fresh(case).is_lost_contact
    lost = Notification.objects.filter(pk__in=made, kind=ReminderKind.LOST_CONTACT)
    assert {note.user for note in lost} == {volunteer, coordinator}


def test_the_hold_restarts_no_silence_clock(team, volunteer, coordinator, settings):
    limit = workflow.rule(Stage.CROSSING).silence_limit // timedelta(hours=1)
    case = road_case(
        Stage.CROSSING,
        team=team,
        volunteer=volunteer,
        coordinator=coordinator,
        entered_hours_ago=limit - 1,
    )
    Reminder.objects.filter(case=case, kind=ReminderKind.CROSSING_CHECK_IN).delete()
    hold(case, coordinator)
    scheduling.dispatch_due(now=timezone.now() + timedelta(hours=2))
    assert fresh(case).is_lost_contact


def test_a_contact_on_hold_restarts_the_silence(team, volunteer, coordinator, settings):
    limit = workflow.rule(Stage.CROSSING).silence_limit // timedelta(hours=1)
    case = road_case(
        Stage.CROSSING,
        team=team,
        volunteer=volunteer,
        coordinator=coordinator,
        entered_hours_ago=limit - 1,
    )
    Reminder.objects.filter(case=case, kind=ReminderKind.CROSSING_CHECK_IN).delete()
    hold(case, coordinator)
    case_services.case_note_add(case=fresh(case), by=volunteer, kind=EventKind.CONTACT, text="")
    scheduling.dispatch_due(now=timezone.now() + timedelta(hours=2))
    assert not fresh(case).is_lost_contact


def test_a_case_held_before_the_road_keeps_the_hold_silence_rule(
    team, volunteer, coordinator, settings
):
    case = CaseFactory(team=team, assignee=volunteer, stage=Stage.PLANNING)
    hold(case, coordinator)
    Case.objects.filter(pk=case.pk).update(stage_entered_at=timezone.now() - timedelta(days=90))
    scheduling.dispatch_due(now=timezone.now() + timedelta(days=90))
    assert not fresh(case).is_lost_contact
