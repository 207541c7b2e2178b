"""A contact or check-in logged at one tap can be taken back for a few minutes, by the one
who logged it, and by no one else or later."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from casework import scheduling, workflow
from casework.models import (
    Case,
    CaseEvent,
    EventKind,
    Reminder,
    ReminderKind,
    ReminderState,
    Stage,
    TimelineUndo,
)
from tests.conftest import verified_client
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(volunteer, coordinator, team):
    earlier = timezone.now() - timedelta(days=2)
    return CaseFactory(
        team=team,
        assignee=volunteer,
        coordinator=coordinator,
        stage=Stage.PLANNING,
        stage_entered_at=earlier,
        last_contact_at=earlier,
    )


def page(case):
    return reverse("casework:case_detail", args=[case.reference])


def tap(client, case, kind):
    """The one-tap button of the case page: "Log contact" or "Record check-in"."""
    url = reverse("casework:case_timeline_add", args=[case.reference])
    return client.post(url, {"kind": kind}, follow=True)


def undo_form(response) -> dict:
    """The undo button's form as the page offers it."""
    undo = response.context["undo"]
    assert undo is not None
    return {"undo": undo.pk, "version": response.context["case"].version}


def undo(client, case, data):
    url = reverse("casework:case_timeline_undo", args=[case.reference])
    return client.post(url, data, follow=True)


def fresh(case) -> Case:
    return Case.objects.get(pk=case.pk)


def test_a_logged_contact_offers_an_undo_that_puts_everything_back(volunteer_client, case):
    before = fresh(case).last_contact_at
    response = tap(volunteer_client, case, EventKind.CONTACT)
    page_text = response.content.decode()
    assert "Contact logged." in page_text
    assert "Contact logged by mistake? You can undo it until" in page_text
    assert fresh(case).last_contact_at > before

    response = undo(volunteer_client, case, undo_form(response))
    text = response.content.decode()
    assert "Undone: a logged contact." in text
    assert "by mistake?" not in text  # offered once
    assert fresh(case).last_contact_at == before
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.CONTACT).exists()
    assert CaseEvent.objects.filter(case=case, kind=EventKind.UNDONE).count() == 1
    assert AccessEvent.objects.filter(
        action=Action.CASE_NOTE_UNDONE, target_ref=case.reference
    ).exists()


def test_another_user_cannot_undo_someones_contact(volunteer_client, coordinator, case):
    """The coordinator works the case too, yet the undo is the volunteer's alone."""
    form = undo_form(tap(volunteer_client, case, EventKind.CONTACT))
    response = verified_client(coordinator).post(
        reverse("casework:case_timeline_undo", args=[case.reference]), form
    )
    assert response.status_code == 403
    assert CaseEvent.objects.filter(case=case, kind=EventKind.CONTACT).count() == 1
    assert TimelineUndo.objects.get().undone_at is None
    # Nor is it offered to them.
    assert verified_client(coordinator).get(page(case)).context["undo"] is None


def test_another_teams_volunteer_cannot_reach_the_undo(volunteer_client, other_volunteer, case):
    form = undo_form(tap(volunteer_client, case, EventKind.CONTACT))
    response = verified_client(other_volunteer).post(
        reverse("casework:case_timeline_undo", args=[case.reference]), form
    )
    assert response.status_code == 404
    assert CaseEvent.objects.filter(case=case, kind=EventKind.CONTACT).count() == 1


def test_an_undo_after_the_window_is_refused_with_a_clear_message(volunteer_client, case, settings):
    form = undo_form(tap(volunteer_client, case, EventKind.CONTACT))
    with time_machine.travel(timezone.now() + timedelta(minutes=settings.UNDO_MINUTES + 1)):
        response = undo(volunteer_client, case, form)
        assert response.context["undo"] is None
    assert "Too late to undo" in response.content.decode()
    assert CaseEvent.objects.filter(case=case, kind=EventKind.CONTACT).count() == 1
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.UNDONE).exists()


def test_an_undo_is_taken_once(volunteer_client, case):
    form = undo_form(tap(volunteer_client, case, EventKind.CONTACT))
    undo(volunteer_client, case, form)
    form["version"] = fresh(case).version
    response = undo(volunteer_client, case, form)
    assert "already taken back" in response.content.decode()
    assert CaseEvent.objects.filter(case=case, kind=EventKind.UNDONE).count() == 1


def test_an_undo_from_a_page_older_than_a_change_is_refused(volunteer_client, case):
    form = undo_form(tap(volunteer_client, case, EventKind.CONTACT))
    Case.objects.filter(pk=case.pk).update(version=case.version + 1)
    response = undo(volunteer_client, case, form)
    assert "nothing was undone" in response.content.decode()
    assert CaseEvent.objects.filter(case=case, kind=EventKind.CONTACT).count() == 1


def test_undoing_a_check_in_in_transit_reopens_the_one_it_answered(
    volunteer_client, volunteer, case, settings
):
    Case.objects.filter(pk=case.pk).update(stage=Stage.IN_TRANSIT)
    case.stage = Stage.IN_TRANSIT
    scheduling._schedule_transit_check_in(case, volunteer)
    waiting = Reminder.objects.get(kind=ReminderKind.TRANSIT_CHECK_IN)
    form = undo_form(tap(volunteer_client, case, EventKind.CHECK_IN))
    waiting.refresh_from_db()
    assert waiting.state == ReminderState.DONE
    following = Reminder.objects.get(
        kind=ReminderKind.TRANSIT_CHECK_IN, state=ReminderState.PENDING
    )

    undo(volunteer_client, case, form)
    waiting.refresh_from_db()
    following.refresh_from_db()
    assert waiting.state == ReminderState.PENDING
    assert following.state == ReminderState.CANCELLED
    # An undone check-in does not count as one.
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.CHECK_IN).exists()


def test_undoing_the_contact_that_cleared_lost_contact_raises_it_again(volunteer_client, case):
    limit = workflow.rule(Stage.PLANNING).silence_limit
    scheduling.dispatch_due(now=timezone.now() + limit)
    lost_since = fresh(case).lost_contact_at
    assert lost_since is not None
    form = undo_form(tap(volunteer_client, case, EventKind.CONTACT))
    assert fresh(case).lost_contact_at is None

    undo(volunteer_client, case, form)
    assert fresh(case).lost_contact_at == lost_since
    alarm = Reminder.objects.get(case=case, kind=ReminderKind.LOST_CONTACT)
    assert alarm.state != ReminderState.DONE


def test_a_note_offers_no_undo(volunteer_client, case):
    url = reverse("casework:case_timeline_add", args=[case.reference])
    response = volunteer_client.post(url, {"kind": "note", "text": "Called"}, follow=True)
    assert response.context["undo"] is None
