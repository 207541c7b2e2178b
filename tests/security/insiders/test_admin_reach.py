"""Finding 1: an admin reached personal data through Django's admin (a self-granted team
role, another user's password, a second-factor reset and signing in as them). Replayed
through HTTP against the real views."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import AccessChange, AccountLink, AuthenticatorDevice, User
from accounts.roles import Role
from audit.models import AccessEvent, Action
from casework.models import Notification, ReminderKind
from tests.conftest import verified_client
from tests.factories import PASSWORD, CaseFactory, UserFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a brand new passphrase of mine 7"


def _admin_routes(patterns=None, prefix=""):
    resolver = patterns if patterns is not None else get_resolver().url_patterns
    for entry in resolver:
        if isinstance(entry, URLResolver):
            yield from _admin_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            yield prefix + str(entry.pattern), entry.name


def test_the_django_admin_has_no_page_for_users_groups_teams_or_passwords(admin_user, volunteer):
    names = {name for route, name in _admin_routes() if route.startswith("admin/")}
    editing = [n for n in names if n.split("_")[0] in ("accounts", "auth") or "password" in n]
    # Django's own "change my password" page edits only the signed-in admin's password,
    # and it asks for the old one; nothing else touches a user, group or team.
    assert sorted(editing) == ["password_change", "password_change_done"]
    client = verified_client(admin_user)
    for path in (
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        f"/admin/accounts/user/{volunteer.pk}/change/",
        f"/admin/accounts/user/{volunteer.pk}/password/",
        "/admin/auth/group/",
        "/admin/accounts/team/",
        "/admin/accounts/team/add/",
    ):
        assert client.get(path).status_code == 404, path


def test_an_admin_cannot_put_itself_in_a_team_and_open_its_cases(admin_user, team, volunteer):
    case = CaseFactory(team=team, assignee=volunteer)
    client = verified_client(admin_user)
    for data in (
        {"kind": "add_team", "team": team.pk},
        {"kind": "add_role", "role": "coordinator"},
    ):
        response = client.post(reverse("casework:access_change_new", args=[admin_user.pk]), data)
        assert response.status_code == 400
        assert "You may not propose this change" in response.content.decode()
    assert not AccessChange.objects.exists()
    admin_user.refresh_from_db()
    assert not admin_user.teams.exists()
    assert client.get(reverse("casework:case_detail", args=[case.reference])).status_code == 404


def test_two_admins_cannot_give_an_admin_a_role_that_works_cases(admin_user, team):
    second = UserFactory(username="admin2", role=Role.ADMIN, is_staff=True)
    client = verified_client(second)
    url = reverse("casework:access_change_new", args=[admin_user.pk])
    response = client.post(url, {"kind": "add_role", "role": "coordinator"})
    assert "An admin works no cases" in response.content.decode()
    response = client.post(url, {"kind": "add_team", "team": team.pk})
    assert "Admins belong to no team" in response.content.decode()
    assert not AccessChange.objects.exists()


def test_a_team_takes_effect_only_when_its_coordinator_approves(
    admin_user, coordinator, other_volunteer, team
):
    admin = verified_client(admin_user)
    admin.post(
        reverse("casework:access_change_new", args=[other_volunteer.pk]),
        {"kind": "add_team", "team": team.pk},
    )
    change = AccessChange.objects.get()
    assert team.pk not in User.objects.get(pk=other_volunteer.pk).team_ids
    # The proposer cannot approve their own proposal.
    decide = reverse("casework:access_change_decide", args=[change.pk])
    assert admin.post(decide, {"decision": "approve"}).status_code == 403
    assert team.pk not in User.objects.get(pk=other_volunteer.pk).team_ids
    assert Notification.objects.filter(user=coordinator, kind=ReminderKind.GRANT).exists()

    verified_client(coordinator).post(decide, {"decision": "approve"})
    assert team.pk in User.objects.get(pk=other_volunteer.pk).team_ids
    actions = list(
        AccessEvent.objects.filter(target_ref=change.reference)
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [Action.GRANT_PROPOSED, Action.REFUSED, Action.GRANT_APPROVED]
    assert Notification.objects.filter(user=admin_user, kind=ReminderKind.GRANT_DECIDED).exists()


def test_nobody_approves_a_change_to_their_own_account(coordinator, team, admin_user):
    change = AccessChange.objects.create(
        target=coordinator, kind=AccessChange.Kind.REMOVE_TEAM, team=team, proposed_by=admin_user
    )
    decide = reverse("casework:access_change_decide", args=[change.pk])
    assert (
        verified_client(coordinator)
        .post(decide, {"decision": "refuse", "reason": "no"})
        .status_code
        == 403
    )
    change.refresh_from_db()
    assert change.is_pending


def test_a_refusal_needs_a_reason_and_is_in_the_chain(
    admin_user, coordinator, other_volunteer, team
):
    change = AccessChange.objects.create(
        target=other_volunteer, kind=AccessChange.Kind.ADD_TEAM, team=team, proposed_by=admin_user
    )
    client = verified_client(coordinator)
    decide = reverse("casework:access_change_decide", args=[change.pk])
    client.post(decide, {"decision": "refuse", "reason": ""})
    change.refresh_from_db()
    assert change.is_pending
    client.post(decide, {"decision": "refuse", "reason": "Not vetted yet"})
    change.refresh_from_db()
    assert change.state == AccessChange.State.REFUSED
    assert AccessEvent.objects.filter(
        action=Action.GRANT_REFUSED, target_ref=change.reference
    ).exists()


def _link_token(response) -> str:
    page = response.content.decode()
    marker = "/account/link/"
    start = page.index(marker) + len(marker)
    return page[start : page.index("/", start)]


def test_a_reset_gives_a_single_use_link_and_never_a_password(admin_user, volunteer):
    admin = verified_client(admin_user)
    response = admin.post(reverse("accounts:member_password_reset", args=[volunteer.pk]))
    token = _link_token(response)
    volunteer.refresh_from_db()
    # The old password and authenticator stop working at once: nobody holds a credential.
    assert not volunteer.check_password(PASSWORD)
    assert not volunteer.has_usable_password()
    assert not AuthenticatorDevice.objects.filter(user=volunteer).exists()
    assert (
        AccountLink.objects.filter(user=volunteer).values_list("digest", flat=True).get() != token
    )

    member = Client()
    page = member.get(reverse("accounts:link", args=[token]), follow=True)
    assert token not in page.request["PATH_INFO"]
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = member.post(reverse("accounts:link_set"), data)
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.check_password(NEW_PASSWORD)
    assert AccessEvent.objects.filter(
        action=Action.PASSWORD_CHANGED, actor=volunteer, target_ref=str(volunteer.pk)
    ).exists()
    # Used once: the same link does nothing a second time.
    again = Client()
    again.get(reverse("accounts:link", args=[token]))
    assert again.post(reverse("accounts:link_set"), data).status_code == 404
    # Signing in with the new password leads to enrolling a new authenticator.
    response = Client().post(
        reverse("accounts:login"), {"username": volunteer.username, "password": NEW_PASSWORD}
    )
    assert response["Location"].startswith(reverse("accounts:enrol"))


def test_an_expired_link_opens_nothing(admin_user, volunteer):
    response = verified_client(admin_user).post(
        reverse("accounts:member_password_reset", args=[volunteer.pk])
    )
    token = _link_token(response)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        member = Client()
        member.get(reverse("accounts:link", args=[token]))
        data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        assert member.post(reverse("accounts:link_set"), data).status_code == 404
    volunteer.refresh_from_db()
    assert not volunteer.check_password(NEW_PASSWORD)


def test_an_invited_member_gets_role_and_team_only_when_a_second_person_approves(
    admin_user, coordinator, team
):
    response = verified_client(admin_user).post(
        reverse("casework:member_invite"),
        {"username": "newcomer1", "role": "volunteer", "team": team.pk},
    )
    token = _link_token(response)
    newcomer = User.objects.get(username="newcomer1")
    assert not newcomer.has_usable_password()
    assert newcomer.roles == frozenset() and not newcomer.team_ids
    assert AccessChange.objects.filter(target=newcomer, state="pending").count() == 2
    member = Client()
    member.get(reverse("accounts:link", args=[token]))
    member.post(
        reverse("accounts:link_set"), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert User.objects.get(pk=newcomer.pk).check_password(NEW_PASSWORD)
    assert AccessEvent.objects.filter(action=Action.INVITE_COMPLETED, actor=newcomer).exists()
    # The team's coordinator approves both; then the newcomer is a volunteer of the team.
    client = verified_client(coordinator)
    for change in AccessChange.objects.filter(target=newcomer).order_by("pk"):
        client.post(
            reverse("casework:access_change_decide", args=[change.pk]), {"decision": "approve"}
        )
    newcomer = User.objects.get(pk=newcomer.pk)
    assert newcomer.roles == frozenset({Role.VOLUNTEER}) and newcomer.team_ids == {team.pk}


def test_every_password_change_is_in_the_chain(volunteer, volunteer_client):
    volunteer_client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert AccessEvent.objects.filter(action=Action.PASSWORD_CHANGED, actor=volunteer).exists()


def test_deactivating_ends_every_session(admin_user, volunteer, volunteer_client):
    verified_client(admin_user).post(reverse("accounts:member_deactivate", args=[volunteer.pk]))
    assert not User.objects.get(pk=volunteer.pk).is_active
    assert volunteer_client.get(reverse("dashboard:home")).status_code == 302
    assert AccessEvent.objects.filter(action=Action.ACCOUNT_DEACTIVATED).exists()


def test_a_contained_account_comes_back_only_with_two_admins_and_its_own_password(
    admin_user, volunteer
):
    second = UserFactory(username="admin2", role=Role.ADMIN, is_staff=True)
    User.objects.filter(pk=volunteer.pk).update(is_active=False)
    first = verified_client(admin_user)
    first.post(reverse("casework:access_change_new", args=[volunteer.pk]), {"kind": "reactivate"})
    change = AccessChange.objects.get(kind=AccessChange.Kind.REACTIVATE)
    decide = reverse("casework:access_change_decide", args=[change.pk])
    assert first.post(decide, {"decision": "approve"}).status_code == 403
    assert not User.objects.get(pk=volunteer.pk).is_active
    verified_client(second).post(decide, {"decision": "approve"})
    assert User.objects.get(pk=volunteer.pk).is_active
    response = first.post(reverse("accounts:member_password_reset", args=[volunteer.pk]))
    assert "/account/link/" in response.content.decode()


def test_a_coordinator_of_one_team_cannot_make_a_coordinator_of_another(
    coordinator, team, other_team, admin_user
):
    """Roles count in every team: two coordinators of North made a shared member a
    coordinator of South too, with nobody of South asked."""
    shared = UserFactory(username="shared1", role=Role.VOLUNTEER, teams=[team, other_team])
    second = UserFactory(username="coordinator9", role=Role.COORDINATOR, teams=[team])
    verified_client(coordinator).post(
        reverse("casework:access_change_new", args=[shared.pk]),
        {"kind": "add_role", "role": "coordinator"},
    )
    change = AccessChange.objects.get()
    decide = reverse("casework:access_change_decide", args=[change.pk])
    assert verified_client(second).post(decide, {"decision": "approve"}).status_code == 403
    assert Role.COORDINATOR not in User.objects.get(pk=shared.pk).roles
    verified_client(admin_user).post(decide, {"decision": "approve"})
    assert Role.COORDINATOR in User.objects.get(pk=shared.pk).roles
