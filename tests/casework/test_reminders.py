"""Reminders: scheduled with the change that causes them, sent once, alarms that stay."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from casework import scheduling, workflow
from casework.models import (
    EventKind,
    Notification,
    Reminder,
    ReminderKind,
    ReminderState,
    Stage,
)
from casework.services import cases as case_services
from casework.tasks import send_due_emails
from intake.services import intake_accept, intake_log
from tests.conftest import verified_client
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(volunteer, coordinator, team):
    now = timezone.now()
    return CaseFactory(
        team=team,
        assignee=volunteer,
        coordinator=coordinator,
        stage=Stage.IN_TRANSIT,
        risk_reviewed_at=now,
        destination_country="GE",
        route_summary="r",
        readiness_confirmed=True,
        crossing_window_start=now + timedelta(hours=1),
        crossing_window_end=now + timedelta(hours=5),
    )


def pending(case, kind):
    return Reminder.objects.filter(case=case, kind=kind, state=ReminderState.PENDING)


def move(case, stage, by, **extra):
    case.refresh_from_db()
    return case_services.case_transition(
        case=case, to_stage=stage, by=by, expected_version=case.version, **extra
    )


def test_opening_a_case_schedules_its_first_overdue_reminder(coordinator, team):
    request = intake_log(
        by=coordinator, team=team, channel="phone", received_at=timezone.now(), contact="@a"
    )
    case = intake_accept(request=request, by=coordinator)
    reminder = pending(case, ReminderKind.STAGE_OVERDUE).get()
    expected = timezone.now() + workflow.rule(Stage.NEW).time_limit
    assert abs(reminder.due_at - expected) < timedelta(seconds=30)


def test_leaving_a_stage_cancels_its_reminder_and_the_next_stage_gets_one(case, coordinator):
    move(case, Stage.ON_HOLD, coordinator, reason="wait")
    first = Reminder.objects.get(case=case, kind=ReminderKind.STAGE_OVERDUE)
    assert first.stage == Stage.ON_HOLD
    move(case, Stage.IN_TRANSIT, coordinator)
    first.refresh_from_db()
    assert first.state == ReminderState.CANCELLED
    assert pending(case, ReminderKind.STAGE_OVERDUE).get().stage == Stage.IN_TRANSIT


def test_closing_schedules_nothing(case, coordinator):
    move(case, Stage.CLOSED, coordinator, outcome="safe")
    assert not Reminder.objects.filter(case=case, state=ReminderState.PENDING).exists()


def test_an_overdue_stage_tells_the_assignee_once(case, coordinator, volunteer, settings):
    # Held while in transit, the case keeps that stage's silence limit, which would raise
    # lost contact long before the hold is overdue: this test is about the overdue alone.
    settings.LOST_CONTACT_HOURS = {**settings.LOST_CONTACT_HOURS, "in_transit": 0}
    move(case, Stage.ON_HOLD, coordinator, reason="wait")
    reminder = pending(case, ReminderKind.STAGE_OVERDUE).get()
    assert scheduling.dispatch_due(now=reminder.due_at - timedelta(minutes=1)) == []
    made = scheduling.dispatch_due(now=reminder.due_at)
    assert scheduling.dispatch_due(now=reminder.due_at + timedelta(hours=1)) == []
    note = Notification.objects.get(pk__in=made)
    assert (note.user, note.subject, note.urgent) == (volunteer, case.reference, False)
    reminder.refresh_from_db()
    assert reminder.state == ReminderState.SENT


def test_entering_crossing_schedules_an_urgent_check_in_after_the_window(
    case, coordinator, settings
):
    move(case, Stage.CROSSING, coordinator)
    check_in = pending(case, ReminderKind.CROSSING_CHECK_IN).get()
    assert check_in.urgent
    assert check_in.due_at == case.crossing_window_end + timedelta(
        hours=settings.CROSSING_GRACE_HOURS
    )


def test_a_check_in_cancels_the_crossing_alarm(case, coordinator, volunteer):
    move(case, Stage.CROSSING, coordinator)
    case_services.case_note_add(case=case, by=volunteer, kind=EventKind.CHECK_IN, text="safe")
    assert not pending(case, ReminderKind.CROSSING_CHECK_IN).exists()
    assert Reminder.objects.get(case=case, kind=ReminderKind.CROSSING_CHECK_IN).state == "done"


def test_arriving_cancels_the_crossing_alarm(case, coordinator, volunteer):
    move(case, Stage.CROSSING, coordinator)
    move(case, Stage.ARRIVED, volunteer)
    assert not pending(case, ReminderKind.CROSSING_CHECK_IN).exists()


def reminder_texts(case) -> list[str]:
    return [event.text for event in case.events.filter(kind=EventKind.REMINDER)]


def test_a_missed_crossing_check_in_alarms_coordinator_and_assignee_until_acknowledged(
    case, coordinator, volunteer
):
    move(case, Stage.CROSSING, coordinator)
    due = pending(case, ReminderKind.CROSSING_CHECK_IN).get().due_at
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        # Hours later than the fixtures' sessions: sign in afresh.
        coordinator_client = verified_client(coordinator)
        made = scheduling.dispatch_due()
        notes = Notification.objects.filter(pk__in=made)
        assert {note.user for note in notes} == {coordinator, volunteer}
        assert all(note.urgent for note in notes)
        dashboard = coordinator_client.get(reverse("dashboard:home")).content.decode()
        alarms = dashboard.split('id="alarms"', 1)[1].split("</section>", 1)[0]
        assert "Crossing check-in missed" in alarms and case.reference in alarms
        # Still there an hour later: an alarm waits for a person, not for time.
    with time_machine.travel(due + timedelta(hours=2), tick=False):
        coordinator_client = verified_client(coordinator)
        volunteer_client = verified_client(volunteer)
        assert case.reference in volunteer_client.get(reverse("dashboard:home")).content.decode()
        alarm = Reminder.objects.get(case=case, kind=ReminderKind.CROSSING_CHECK_IN)
        url = reverse("casework:reminder_change", args=[case.reference, alarm.pk])
        refused = volunteer_client.post(url, {"action": "dismiss", "reason": ""})
        assert refused.status_code == 400
        volunteer_client.post(url, {"action": "dismiss", "reason": "Called: they are safe."})
        dashboard = coordinator_client.get(reverse("dashboard:home")).content.decode()
        assert "Crossing check-in missed" not in dashboard
    assert "Called: they are safe." in reminder_texts(case)


def test_in_transit_check_ins_repeat_and_a_missed_one_escalates(
    case, coordinator, volunteer, settings
):
    settings.TRANSIT_CHECK_IN_HOURS = 12
    move(case, Stage.ON_HOLD, coordinator, reason="wait")
    move(case, Stage.IN_TRANSIT, coordinator)
    first = pending(case, ReminderKind.TRANSIT_CHECK_IN).get()
    case_services.case_note_add(case=case, by=volunteer, kind=EventKind.CHECK_IN, text="")
    second = pending(case, ReminderKind.TRANSIT_CHECK_IN).get()
    assert second.pk != first.pk and second.due_at >= first.due_at
    made = scheduling.dispatch_due(now=second.due_at)
    assert Notification.objects.filter(pk__in=made, urgent=True, user=coordinator).exists()


def test_an_untriaged_request_tells_the_teams_coordinators(volunteer, coordinator, team, settings):
    request = intake_log(
        by=volunteer, team=team, channel="phone", received_at=timezone.now(), contact="@w"
    )
    reminder = Reminder.objects.get(kind=ReminderKind.UNTRIAGED_INTAKE)
    assert reminder.subject == request.reference
    made = scheduling.dispatch_due(
        now=request.received_at + timedelta(hours=settings.INTAKE_TRIAGE_LIMIT_HOURS)
    )
    assert [note.user for note in Notification.objects.filter(pk__in=made)] == [coordinator]


def test_triage_closes_the_untriaged_reminder(volunteer, team):
    request = intake_log(
        by=volunteer, team=team, channel="phone", received_at=timezone.now(), contact="@t"
    )
    intake_accept(request=request, by=volunteer)
    assert Reminder.objects.get(kind=ReminderKind.UNTRIAGED_INTAKE).state == ReminderState.DONE


def test_a_volunteer_sets_a_follow_up_and_is_reminded(volunteer, volunteer_client, case):
    when = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = volunteer_client.post(
        reverse("casework:follow_up", args=[case.reference]),
        {"due_at": when, "note": "ask about the passport"},
    )
    assert response.status_code == 302
    reminder = pending(case, ReminderKind.FOLLOW_UP).get()
    assert reminder.recipient == volunteer
    made = scheduling.dispatch_due(now=reminder.due_at)
    # Two days in transit without a word also raises lost contact: only the follow-up here.
    follow_up = Notification.objects.get(pk__in=made, kind=ReminderKind.FOLLOW_UP)
    assert follow_up.user == volunteer


def test_a_follow_up_in_the_past_is_refused_and_kept(volunteer_client, case):
    when = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = volunteer_client.post(
        reverse("casework:follow_up", args=[case.reference]),
        {"due_at": when, "note": "typed note"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose a time in the future." in page
    assert "typed note" in page
    assert not pending(case, ReminderKind.FOLLOW_UP).exists()


def test_snooze_needs_a_reason_and_is_recorded(volunteer_client, case, coordinator):
    move(case, Stage.ON_HOLD, coordinator, reason="wait")
    reminder = pending(case, ReminderKind.STAGE_OVERDUE).get()
    url = reverse("casework:reminder_change", args=[case.reference, reminder.pk])
    later = (timezone.localtime() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    refused = volunteer_client.post(url, {"action": "snooze", "until": later, "reason": ""})
    assert refused.status_code == 400
    assert "Give a reason: it goes on the timeline." in refused.content.decode()
    volunteer_client.post(url, {"action": "snooze", "until": later, "reason": "Court date moved"})
    reminder.refresh_from_db()
    assert reminder.due_at > timezone.now() + timedelta(days=29)
    assert "Court date moved" in reminder_texts(case)


def test_another_teams_reminder_cannot_be_touched(case, other_volunteer):
    reminder = scheduling.follow_up_schedule(case, case.assignee, timezone.now(), "")
    client = verified_client(other_volunteer)
    url = reverse("casework:reminder_change", args=[case.reference, reminder.pk])
    assert client.post(url, {"action": "dismiss", "reason": "x"}).status_code == 404


def test_the_inbox_counts_unread_and_marks_read(volunteer, volunteer_client, case):
    case.person.legal_name = "Fakename Secretov"
    case.person.save()
    reminder = scheduling.follow_up_schedule(case, volunteer, timezone.now(), "private words")
    scheduling.dispatch_due()
    page = volunteer_client.get(reverse("casework:inbox")).content.decode()
    assert case.reference in page
    assert '<span class="count">1</span><span class="visually-hidden"> unread</span>' in page
    assert "Fakename" not in page and "private words" not in page
    volunteer_client.post(reverse("casework:inbox_read"))
    assert 'class="count"' not in volunteer_client.get(reverse("casework:inbox")).content.decode()
    assert reminder.notifications.get().read_at is not None


def test_an_email_copy_carries_a_reference_and_a_link_only_and_goes_once(volunteer, case, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    volunteer.notification_email = "volunteer@example.org"
    volunteer.email_notifications = True
    volunteer.save()
    case.person.legal_name = "Fakename Secretov"
    case.person.save()
    scheduling.follow_up_schedule(case, volunteer, timezone.now(), "private words")
    scheduling.dispatch_due()
    assert send_due_emails() == 1
    assert send_due_emails() == 0  # the next run finds it sent
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert case.reference in message.subject
    assert "/inbox/" in message.body
    for secret in ("Fakename", "private words"):
        assert secret not in message.subject + message.body


def test_the_health_page_is_for_admins(admin_client_verified, volunteer_client):
    scheduling.heartbeat("dispatcher")
    page = admin_client_verified.get(reverse("dashboard:health"))
    assert page.status_code == 200
    assert "Reminder dispatcher" in page.content.decode()
    assert volunteer_client.get(reverse("dashboard:health")).status_code == 403


def test_pages_keep_working_when_the_broker_is_unreachable(volunteer_client, case, volunteer):
    from config.celery import app

    # Only what changes is put back: updating the whole conf from a copy of itself writes
    # every setting under its namespaced name too, which then shadows later changes.
    saved = {name: app.conf[name] for name in ("broker_url", "broker_write_url")}
    app.conf.broker_url = app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    try:
        for url in [
            reverse("dashboard:home"),
            reverse("casework:case_detail", args=[case.reference]),
            reverse("casework:inbox"),
            reverse("intake:queue"),
        ]:
            assert volunteer_client.get(url).status_code == 200
        response = volunteer_client.post(
            reverse("casework:case_timeline_add", args=[case.reference]),
            {"kind": EventKind.CHECK_IN, "text": "ok"},
        )
        assert response.status_code == 302
    finally:
        for name, value in saved.items():
            app.conf[name] = value


def test_dispatch_handles_many_reminders_in_batches(team, volunteer):
    cases = [CaseFactory(team=team, assignee=volunteer) for _ in range(3)]
    now = timezone.now()
    Reminder.objects.bulk_create(
        Reminder(
            kind=ReminderKind.STAGE_OVERDUE, due_at=now, case=c, team=team, subject=c.reference
        )
        for c in cases * 5
    )
    made = scheduling.dispatch_due(now=now, batch=4)
    assert len(made) == 15
    assert not Reminder.objects.filter(state=ReminderState.PENDING).exists()


def test_coordinators_are_told_when_nobody_is_assigned(team, coordinator):
    case = CaseFactory(team=team)
    UserFactory(role=Role.VOLUNTEER, teams=[team])
    Reminder.objects.create(
        kind=ReminderKind.STAGE_OVERDUE,
        due_at=timezone.now(),
        case=case,
        team=team,
        subject=case.reference,
    )
    made = scheduling.dispatch_due()
    assert [n.user for n in Notification.objects.filter(pk__in=made)] == [coordinator]


def test_a_case_reminder_that_lost_its_case_tells_the_coordinators(team, coordinator):
    # Made for a case, but without one (however it happened): the dispatcher tells the
    # team's coordinators instead of failing the whole batch on it, night after night.
    Reminder.objects.create(
        kind=ReminderKind.LOST_CONTACT, due_at=timezone.now(), team=team, subject="C-0001"
    )
    made = scheduling.dispatch_due()
    assert [n.user for n in Notification.objects.filter(pk__in=made)] == [coordinator]


def test_urgent_unread_notifications_come_first(volunteer, volunteer_client, case):
    from casework.models import Notification as Note

    plain = Note.objects.create(user=volunteer, kind=ReminderKind.FOLLOW_UP, subject="C-2026-00001")
    urgent = Note.objects.create(
        user=volunteer,
        kind=ReminderKind.CROSSING_CHECK_IN,
        subject="C-2026-00002",
        urgent=True,
        created_at=timezone.now() - timedelta(hours=1),
    )
    page = volunteer_client.get(reverse("casework:inbox")).content.decode()
    assert page.index(urgent.subject) < page.index(plain.subject)
