"""An admin contains a compromised account: locked, signed out, second factor gone, and
every case and request it touched since a chosen time handed to their coordinators."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuthenticatorDevice, BackupCodeDevice, Containment, User
from accounts.roles import Role
from accounts.second_factor import backup_codes_issue, second_factor_verify
from audit.log import record
from audit.models import AccessEvent, Action
from casework.models import Notification, Reminder, ReminderKind
from casework.scheduling import dispatch_due
from tests.conftest import current_code, verified_client
from tests.factories import PASSWORD, CaseFactory, IntakeRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
DASHBOARD = reverse("dashboard:home")
WRONG = "That username and password do not match"


def contain_url(user: User) -> str:
    return reverse("casework:account_contain", args=[user.pk])


def moment(when) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def touch(user, target, action, *, at=None):
    """An audit row as the views write it, optionally dated in the past (the log refuses
    UPDATE on PostgreSQL, so the clock is moved instead)."""
    kind = "request" if target.reference.startswith("R-") else "case"
    with time_machine.travel(at or timezone.now(), tick=False):
        return record(
            action,
            actor=user,
            target_type=kind,
            target_ref=target.reference,
            team_id=target.team_id,
        )


def contain(client, user, *, since, reason="Phished through a fake login page"):
    return client.post(contain_url(user), {"since": moment(since), "reason": reason})


@pytest.fixture
def since():
    return timezone.now() - timedelta(days=2)


def test_the_confirmation_page_asks_and_changes_nothing(admin_client_verified, volunteer):
    page = admin_client_verified.get(contain_url(volunteer))
    assert page.status_code == 200
    assert "Contain volunteer1" in page.content.decode()
    volunteer.refresh_from_db()
    assert volunteer.is_active and not Containment.objects.exists()


def test_a_contained_accounts_open_session_is_sent_to_sign_in(admin_client_verified, volunteer):
    laptop = verified_client(volunteer)
    assert laptop.get(DASHBOARD).status_code == 200
    response = contain(admin_client_verified, volunteer, since=timezone.now() - timedelta(days=1))
    assert response.status_code == 302
    response = laptop.get(DASHBOARD)
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_neither_password_old_code_nor_backup_code_lets_it_back_in(
    admin_client_verified, volunteer
):
    device = AuthenticatorDevice.objects.create(user=volunteer, name="app", confirmed=True)
    old_code = current_code(device)
    backup = backup_codes_issue(user=volunteer)[0]
    contain(admin_client_verified, volunteer, since=timezone.now() - timedelta(days=1))

    response = Client().post(LOGIN, {"username": "volunteer1", "password": PASSWORD})
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert not AuthenticatorDevice.objects.filter(user=volunteer).exists()
    assert not BackupCodeDevice.objects.filter(user=volunteer).exists()
    assert second_factor_verify(user=volunteer, code=old_code) is None
    assert second_factor_verify(user=volunteer, code=backup) is None


def test_sign_in_refuses_it_with_the_words_of_a_wrong_password(admin_client_verified, volunteer):
    UserFactory(username="bystander", role=Role.VOLUNTEER)
    contain(admin_client_verified, volunteer, since=timezone.now() - timedelta(days=1))
    contained = Client().post(LOGIN, {"username": "volunteer1", "password": PASSWORD})
    mistyped = Client().post(LOGIN, {"username": "bystander", "password": "not it at all"})
    assert contained.context["form"].errors == mistyped.context["form"].errors


def test_reactivating_without_a_new_password_does_not_reopen_it(admin_client_verified, volunteer):
    contain(admin_client_verified, volunteer, since=timezone.now() - timedelta(days=1))
    User.objects.filter(pk=volunteer.pk).update(is_active=True)
    response = Client().post(LOGIN, {"username": "volunteer1", "password": PASSWORD})
    assert WRONG in response.content.decode()


def test_a_contained_admin_cannot_reach_the_django_admin(admin_client_verified):
    other_admin = UserFactory(username="admin2", role=Role.ADMIN, is_staff=True)
    their_session = verified_client(other_admin)
    assert their_session.get(reverse("admin:index")).status_code == 200
    contain(admin_client_verified, other_admin, since=timezone.now() - timedelta(days=1))
    response = their_session.get(reverse("admin:index"))
    assert response.status_code == 302
    assert their_session.get(reverse("admin:axes_accessattempt_changelist")).status_code == 302


def test_it_lists_exactly_what_the_account_touched_since_then(
    admin_client_verified, volunteer, other_volunteer, team, since
):
    before, viewed, changed, others = CaseFactory.create_batch(4, team=team)
    request = IntakeRequestFactory(team=team, logged_by=volunteer)
    touch(volunteer, before, Action.CASE_VIEWED, at=since - timedelta(hours=1))
    touch(volunteer, viewed, Action.CASE_VIEWED, at=since + timedelta(hours=1))
    touch(volunteer, viewed, Action.CASE_VIEWED)
    touch(volunteer, changed, Action.CASE_VIEWED)
    touch(volunteer, changed, Action.CASE_MOVED)
    touch(volunteer, request, Action.REQUEST_VIEWED)
    touch(other_volunteer, others, Action.CASE_VIEWED)
    record(Action.LOGIN, actor=volunteer, target_type="user", target_ref=str(volunteer.pk))

    response = contain(admin_client_verified, volunteer, since=since)
    containment = Containment.objects.get()
    assert response.url == reverse("casework:containment_detail", args=[containment.pk])
    page = admin_client_verified.get(response.url)
    listed = [row.touched.reference for row in page.context["affected"]]
    assert sorted(listed) == sorted([viewed.reference, changed.reference, request.reference])
    html = page.content.decode()
    assert before.reference not in html and others.reference not in html
    changed_row = next(
        r for r in page.context["affected"] if r.touched.reference == changed.reference
    )
    assert changed_row.touched.actions == [Action.CASE_VIEWED, Action.CASE_MOVED]
    assert (containment.case_count, containment.request_count) == (2, 1)


def test_the_list_stays_the_same_when_reopened_later(admin_client_verified, volunteer, team, since):
    case = CaseFactory(team=team)
    touch(volunteer, case, Action.CASE_VIEWED)
    contain(admin_client_verified, volunteer, since=since)
    containment = Containment.objects.get()
    # Written after the containment (a request already in flight): not part of its list.
    touch(volunteer, CaseFactory(team=team), Action.CASE_VIEWED)
    page = admin_client_verified.get(reverse("casework:containment_detail", args=[containment.pk]))
    assert [row.touched.reference for row in page.context["affected"]] == [case.reference]
    listing = admin_client_verified.get(reverse("casework:containment_list")).content.decode()
    assert "volunteer1" in listing


def test_each_affected_case_and_request_gets_a_task_for_its_coordinators(
    admin_client_verified, volunteer, coordinator, team, other_team, since
):
    other_coordinator = UserFactory(role=Role.COORDINATOR, teams=[other_team])
    case = CaseFactory(team=team)
    far_case = CaseFactory(team=other_team)
    request = IntakeRequestFactory(team=team, logged_by=volunteer)
    for target in (case, far_case):
        touch(volunteer, target, Action.CASE_VIEWED)
    touch(volunteer, request, Action.REQUEST_TRIAGED)
    contain(admin_client_verified, volunteer, since=since)

    tasks = Reminder.objects.filter(kind=ReminderKind.REASSESS)
    assert sorted(tasks.values_list("subject", flat=True)) == sorted(
        [case.reference, far_case.reference, request.reference]
    )
    assert tasks.get(subject=case.reference).case == case
    dispatch_due()
    told = set(
        Notification.objects.filter(kind=ReminderKind.REASSESS).values_list("user", "subject")
    )
    assert told == {
        (coordinator.pk, case.reference),
        (coordinator.pk, request.reference),
        (other_coordinator.pk, far_case.reference),
    }


def test_the_task_waits_on_the_case_page_until_acknowledged(
    admin_client_verified, volunteer, coordinator, team, since
):
    case = CaseFactory(team=team)
    touch(volunteer, case, Action.CASE_VIEWED)
    contain(admin_client_verified, volunteer, since=since)
    dispatch_due()
    page = verified_client(coordinator).get(reverse("casework:case_detail", args=[case.reference]))
    html = page.content.decode()
    assert "Re-assess: a compromised account touched this" in html
    assert "Account volunteer1 was contained" in html
    task = Reminder.objects.get(kind=ReminderKind.REASSESS)
    url = reverse("casework:reminder_change", args=[case.reference, task.pk])
    verified_client(coordinator).post(url, {"action": "dismiss", "reason": "Route changed"})
    task.refresh_from_db()
    assert task.state == "done" and task.acknowledged_by == coordinator


def test_a_contained_coordinator_is_not_told(admin_client_verified, coordinator, team, since):
    fellow = UserFactory(role=Role.COORDINATOR, teams=[team])
    case = CaseFactory(team=team)
    touch(coordinator, case, Action.CASE_VIEWED)
    contain(admin_client_verified, coordinator, since=since)
    dispatch_due()
    told = set(Notification.objects.values_list("user", flat=True))
    assert told == {fellow.pk}


def test_containing_is_audited(admin_client_verified, admin_user, volunteer, since):
    contain(admin_client_verified, volunteer, since=since)
    event = AccessEvent.objects.get(action=Action.ACCOUNT_CONTAINED)
    assert event.actor == admin_user
    assert (event.target_type, event.target_ref) == ("user", str(volunteer.pk))
    assert event.reason == "Phished through a fake login page"


def test_an_admin_cannot_contain_their_own_account(admin_client_verified, admin_user, since):
    page = admin_client_verified.get(contain_url(admin_user))
    assert "You cannot contain your own account" in page.content.decode()
    response = contain(admin_client_verified, admin_user, since=since, reason="Typed with care")
    assert response.status_code == 400
    html = response.content.decode()
    assert "You cannot contain your own account" in html
    assert "Typed with care" in html and moment(since) in html
    admin_user.refresh_from_db()
    assert admin_user.is_active and not Containment.objects.exists()


def test_since_in_the_future_is_refused_and_nothing_typed_is_lost(admin_client_verified, volunteer):
    later = timezone.now() + timedelta(days=1)
    response = contain(admin_client_verified, volunteer, since=later, reason="Laptop stolen")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose a moment in the past" in html
    assert "Laptop stolen" in html and moment(later) in html
    volunteer.refresh_from_db()
    assert volunteer.is_active


def test_a_reason_is_required(admin_client_verified, volunteer, since):
    response = contain(admin_client_verified, volunteer, since=since, reason="   ")
    assert response.status_code == 400
    assert "Say why the account is believed compromised." in response.content.decode()


@pytest.mark.parametrize("persona", ["coordinator_client", "volunteer_client"])
def test_only_admins_contain_accounts(request, persona, volunteer, other_volunteer, since):
    client = request.getfixturevalue(persona)
    assert client.get(contain_url(other_volunteer)).status_code == 403
    assert contain(client, other_volunteer, since=since).status_code == 403
    other_volunteer.refresh_from_db()
    assert other_volunteer.is_active
    assert client.get(reverse("casework:containment_list")).status_code == 403


def test_the_result_page_shows_references_not_people(admin_client_verified, volunteer, team, since):
    case = CaseFactory(team=team)
    touch(volunteer, case, Action.CASE_VIEWED)
    contain(admin_client_verified, volunteer, since=since)
    page = admin_client_verified.get(
        reverse("casework:containment_detail", args=[Containment.objects.get().pk])
    ).content.decode()
    assert case.reference in page
    assert case.person.codename not in page


def test_the_result_page_queries_do_not_grow_with_the_list(
    admin_client_verified, volunteer, team, since, django_assert_max_num_queries
):
    for case in CaseFactory.create_batch(3, team=team):
        touch(volunteer, case, Action.CASE_VIEWED)
    contain(admin_client_verified, volunteer, since=since)
    small = reverse("casework:containment_detail", args=[Containment.objects.get().pk])
    with django_assert_max_num_queries(15) as few:
        admin_client_verified.get(small)
    count = len(few.captured_queries)  # read now: every request empties the query log
    other = UserFactory(role=Role.VOLUNTEER, teams=[team])
    for case in CaseFactory.create_batch(30, team=team):
        touch(other, case, Action.CASE_VIEWED)
        touch(other, case, Action.CASE_CHANGED)
    contain(admin_client_verified, other, since=since)
    big = reverse("casework:containment_detail", args=[Containment.objects.latest("pk").pk])
    with django_assert_max_num_queries(count):
        response = admin_client_verified.get(big)
    assert len(response.context["affected"]) == 30


def test_the_member_list_offers_containment_to_admins_only(
    admin_client_verified, coordinator_client, volunteer
):
    assert (
        contain_url(volunteer)
        in admin_client_verified.get(reverse("accounts:members")).content.decode()
    )
    assert (
        contain_url(volunteer)
        not in coordinator_client.get(reverse("accounts:members")).content.decode()
    )
