"""Notifications for what others do: assignments, moves, edits and mentions, each a row
with a kind and a case reference, and an e-mail copy only of the kinds a person chose."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from casework.models import (
    CaseEvent,
    EmailState,
    EventKind,
    Notification,
    NotificationKind,
    ReminderKind,
    RouteLeg,
    Stage,
)
from casework.notifications import notify
from casework.tasks import send_due_emails
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(team, volunteer, coordinator):
    return CaseFactory(team=team, assignee=volunteer, coordinator=coordinator)


def url(name, case):
    return reverse(f"casework:{name}", args=[case.reference])


def told(user) -> list[tuple[str, str]]:
    return list(Notification.objects.filter(user=user).values_list("kind", "subject"))


# Who is told ---------------------------------------------------------------------------


def test_the_assignee_is_told_when_a_coordinator_assigns_them(
    coordinator_client, coordinator, volunteer, team
):
    case = CaseFactory(team=team)
    response = coordinator_client.post(
        url("case_assign", case), {"version": case.version, "assignee": volunteer.pk}
    )
    assert response.status_code == 302
    assert told(volunteer) == [(NotificationKind.ASSIGNED, case.reference)]
    assert told(coordinator) == []


def test_a_reassignment_tells_the_new_assignee(coordinator_client, case, team):
    other = UserFactory(role=Role.VOLUNTEER, teams=[team])
    response = coordinator_client.post(
        url("case_assign", case), {"version": case.version, "assignee": other.pk}
    )
    assert response.status_code == 302
    assert told(other) == [(NotificationKind.ASSIGNED, case.reference)]


def test_nobody_is_told_of_what_they_did_themselves(volunteer_client, coordinator_client, team):
    coordinator = coordinator_client.get(reverse("casework:inbox")).wsgi_request.user
    volunteer = volunteer_client.get(reverse("casework:inbox")).wsgi_request.user
    taken = CaseFactory(team=team)
    assert volunteer_client.post(url("case_take", taken)).status_code == 302
    mine = CaseFactory(team=team, coordinator=coordinator)
    coordinator_client.post(
        url("case_assign", mine), {"version": mine.version, "assignee": coordinator.pk}
    )
    mine.refresh_from_db()
    coordinator_client.post(
        url("case_move", mine), {"version": mine.version, "to_stage": Stage.SCREENING}
    )
    assert told(volunteer) == [] and told(coordinator) == []


def test_a_move_by_the_coordinator_tells_the_assignee(coordinator_client, coordinator, case):
    response = coordinator_client.post(
        url("case_move", case), {"version": case.version, "to_stage": Stage.ON_HOLD, "reason": "w"}
    )
    assert response.status_code == 302
    assert told(case.assignee) == [(NotificationKind.CASE_MOVED, case.reference)]
    assert told(coordinator) == []


def test_an_edit_by_the_assignee_tells_the_coordinator(volunteer_client, volunteer, case):
    data = {
        "version": case.version,
        "person-legal_name": "Testname Fakeovich",
        "person-category": "awol",
        "person-preferred_language": "ru",
        "case-destination_country": "ge",
    }
    assert volunteer_client.post(url("case_edit", case), data).status_code == 302
    assert told(case.coordinator) == [(NotificationKind.CASE_EDITED, case.reference)]
    assert told(volunteer) == []
    # The row carries the kind and the reference, nothing of what changed.
    assert "Testname" not in str(Notification.objects.values().get())


def test_an_assignee_who_left_the_team_is_not_told(coordinator_client, volunteer, team, case):
    volunteer.teams.remove(team)
    coordinator_client.post(
        url("case_move", case), {"version": case.version, "to_stage": Stage.ON_HOLD, "reason": "w"}
    )
    assert told(volunteer) == []


# Mentions ------------------------------------------------------------------------------


def test_a_mention_tells_someone_who_may_see_the_case(volunteer_client, coordinator, case):
    response = volunteer_client.post(
        url("case_timeline_add", case),
        {"kind": EventKind.NOTE, "text": "Called back, @coordinator1. Please look."},
    )
    assert response.status_code == 302
    assert told(coordinator) == [(NotificationKind.MENTIONED, case.reference)]
    # The row names the case only: not the note's words.
    assert "Called back" not in str(Notification.objects.values().get())


@pytest.mark.parametrize("handle", ["volunteer2", "nobody_by_that_name"])
def test_a_mention_of_someone_who_may_not_see_the_case_is_refused_and_the_text_kept(
    volunteer_client, other_volunteer, case, handle
):
    text = f"Ask @{handle} about the crossing on Tuesday"
    response = volunteer_client.post(
        url("case_timeline_add", case), {"kind": EventKind.NOTE, "text": text}
    )
    assert response.status_code == 400
    page = response.content.decode()
    # The same answer whether the account exists in another team or not at all.
    assert f"@{handle} cannot be mentioned here: only people who may see this case can." in page
    assert f"{text}</textarea>" in page
    assert not Notification.objects.exists()
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.NOTE).exists()


def test_an_email_address_in_a_note_is_not_a_mention(volunteer_client, case):
    response = volunteer_client.post(
        url("case_timeline_add", case),
        {"kind": EventKind.NOTE, "text": "Wrote to volunteer2@example.org"},
    )
    assert response.status_code == 302
    assert not Notification.objects.exists()


def test_the_note_form_offers_only_the_people_who_may_see_the_case(
    volunteer_client, other_volunteer, other_team, team, case
):
    UserFactory(username="south_lead", role=Role.COORDINATOR, teams=[other_team])
    helper = UserFactory(username="leg_helper", role=Role.VOLUNTEER, teams=[team])
    RouteLeg.objects.create(case=case, position=1, volunteer=helper)
    page = volunteer_client.get(url("case_detail", case)).content.decode()
    assert "You can mention: @coordinator1, @volunteer1." in page
    for hidden in ("@volunteer2", "@south_lead", "@leg_helper"):
        assert hidden not in page
    # ...and whoever the form does not offer, the service refuses.
    response = volunteer_client.post(
        url("case_timeline_add", case), {"kind": EventKind.NOTE, "text": "@leg_helper ok?"}
    )
    assert response.status_code == 400
    assert not Notification.objects.exists()


# E-mail copies by kind ----------------------------------------------------------------


def test_an_email_copy_waits_only_for_the_kinds_chosen(
    volunteer, volunteer_client, coordinator_client, case
):
    volunteer.email_notifications = True
    volunteer.notification_email = "volunteer@example.org"
    volunteer.save()
    response = volunteer_client.post(
        reverse("accounts:profile"),
        {
            "language": "",
            "email_notifications": "on",
            "notification_email": "volunteer@example.org",
            "email_kinds": [NotificationKind.ASSIGNED, ReminderKind.CROSSING_CHECK_IN],
        },
    )
    assert response.status_code == 302
    case.assignee = None
    case.save()
    coordinator_client.post(
        url("case_assign", case), {"version": case.version, "assignee": volunteer.pk}
    )
    case.refresh_from_db()
    coordinator_client.post(
        url("case_move", case), {"version": case.version, "to_stage": Stage.ON_HOLD, "reason": "w"}
    )
    states = dict(Notification.objects.filter(user=volunteer).values_list("kind", "email_state"))
    assert states == {
        NotificationKind.ASSIGNED: EmailState.PENDING,
        NotificationKind.CASE_MOVED: EmailState.NOT_WANTED,
    }


def test_the_copy_names_the_kind_and_the_case_and_nothing_else(
    volunteer, coordinator_client, team, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    volunteer.email_notifications = True
    volunteer.notification_email = "volunteer@example.org"
    volunteer.save()
    case = CaseFactory(team=team)
    case.person.legal_name = "Fakename Secretov"
    case.person.save()
    coordinator_client.post(
        url("case_assign", case), {"version": case.version, "assignee": volunteer.pk}
    )
    assert send_due_emails() == 1
    (message,) = mail.outbox
    assert message.subject == f"[SP] A case was assigned to you: {case.reference}"
    assert "/inbox/" in message.body
    assert "Fakename" not in message.subject + message.body
    assert "coordinator1" not in message.subject + message.body  # nor who did it


def test_a_kind_turned_off_after_the_row_was_made_is_not_sent(volunteer, case, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    volunteer.email_notifications = True
    volunteer.notification_email = "volunteer@example.org"
    volunteer.save()
    (pk,) = notify([volunteer], kind=NotificationKind.MENTIONED, subject=case.reference)
    volunteer.email_kinds_off = [NotificationKind.MENTIONED]
    volunteer.save()
    assert send_due_emails() == 0
    assert mail.outbox == []
    assert Notification.objects.get(pk=pk).email_state == EmailState.NOT_WANTED


def test_the_settings_page_shows_the_kinds_in_groups_checked_as_chosen(volunteer, volunteer_client):
    volunteer.email_kinds_off = [NotificationKind.CASE_EDITED]
    volunteer.save()
    page = volunteer_client.get(reverse("accounts:profile")).content.decode()
    assert page.index("My cases") < page.index("A case was assigned to you")
    assert page.index("Security") < page.index("Security alert")
    assert 'value="assigned" id="id_email_kinds_0_0" checked' in page
    assert 'value="case_edited" id="id_email_kinds_0_2">' in page


def test_whoever_had_copies_on_before_gets_every_kind(volunteer):
    from casework.notifications import wants_email

    volunteer.email_notifications = True
    volunteer.save()
    volunteer.refresh_from_db()
    assert volunteer.email_kinds_off == []
    assert all(wants_email(volunteer, kind) for kind in NotificationKind.values)


# The inbox -----------------------------------------------------------------------------


def note(user, kind, subject, **fields):
    return Notification.objects.create(user=user, kind=kind, subject=subject, **fields)


def test_the_inbox_groups_by_case_and_puts_urgent_first(volunteer, volunteer_client):
    earlier = timezone.now() - timedelta(hours=2)
    note(volunteer, NotificationKind.CASE_EDITED, "C-2026-00001")
    note(volunteer, NotificationKind.ASSIGNED, "C-2026-00001")
    note(volunteer, ReminderKind.CROSSING_CHECK_IN, "C-2026-00002", urgent=True, created_at=earlier)
    note(volunteer, ReminderKind.GRANT_DECIDED, "G-2026-00003")
    page = volunteer_client.get(reverse("casework:inbox")).content.decode()
    assert "4 unread" in page
    groups = page.split('<section class="panel inbox-group')[1:]
    assert len(groups) == 3
    # The urgent group first though its row is the oldest; then the newest.
    urgent, other, first = groups
    assert f'<a href="{reverse("casework:case_detail", args=["C-2026-00002"])}">' in urgent
    assert urgent.count(">urgent</strong>") == 2  # the group and its row, in words
    assert "Account and security" in other and "G-2026-00003" in other
    # Each case's rows under its heading, linked once, by the heading.
    assert "A case of yours was changed" in first and "A case was assigned to you" in first
    assert first.count('href="/cases/C-2026-00001/"') == 1


def test_a_group_is_marked_read_at_once_and_only_that_group(
    volunteer, volunteer_client, coordinator
):
    note(volunteer, NotificationKind.CASE_EDITED, "C-2026-00001")
    note(volunteer, NotificationKind.ASSIGNED, "C-2026-00001")
    kept = note(volunteer, NotificationKind.ASSIGNED, "C-2026-00002")
    alert = note(volunteer, ReminderKind.SECURITY_ALERT, "A-17")
    theirs = note(coordinator, NotificationKind.ASSIGNED, "C-2026-00001")
    read = reverse("casework:inbox_read")
    assert volunteer_client.post(read, {"group": "C-2026-00001"}).status_code == 302
    unread = set(Notification.objects.filter(read_at__isnull=True).values_list("pk", flat=True))
    assert unread == {kept.pk, alert.pk, theirs.pk}
    volunteer_client.post(read, {"group": "other"})
    volunteer_client.post(read, {"id": kept.pk})
    unread = set(Notification.objects.filter(read_at__isnull=True).values_list("pk", flat=True))
    assert unread == {theirs.pk}


def test_the_inbox_reads_the_same_queries_for_ten_rows_or_five_hundred(
    volunteer, volunteer_client, django_assert_max_num_queries
):
    # Every page's own (session, user, second factor, roles, teams, unread count), then the
    # groups counted, one page of them, and their newest rows.
    budget = 6 + 3
    for number in range(3):
        for _ in range(3):
            note(volunteer, NotificationKind.CASE_EDITED, f"C-2026-{number:05d}")
    with django_assert_max_num_queries(budget):
        assert volunteer_client.get(reverse("casework:inbox")).status_code == 200
    Notification.objects.bulk_create(
        Notification(
            user=volunteer,
            kind=NotificationKind.CASE_MOVED,
            subject=f"C-2026-{number:05d}",
            urgent=number % 7 == 0,
        )
        for number in range(40)
        for _ in range(12)
    )
    with django_assert_max_num_queries(budget):
        page = volunteer_client.get(reverse("casework:inbox")).content.decode()
    assert page.count('<section class="panel inbox-group') == 20
    assert "and 5 older" in page  # 15 rows in a group, 10 shown
    with django_assert_max_num_queries(budget):
        second = volunteer_client.get(reverse("casework:inbox") + "?page=2").content.decode()
    assert second.count('<section class="panel inbox-group') == 20
