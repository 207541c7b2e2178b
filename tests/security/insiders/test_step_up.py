"""Finding 6: with a session cookie alone, a thief made a new authenticator, new backup
codes, a new notification e-mail, and more. Each now needs the password and a code from
the last five minutes."""

import time

import pytest
from django.urls import reverse

from accounts.models import AccessChange, AuthenticatorDevice, BackupCodeDevice, User
from audit.models import AccessEvent, Action
from casework.models import BreakGlass
from config.step_up import STEP_UP_AT
from tests.conftest import current_code, verified_client
from tests.factories import PASSWORD, CaseFactory

pytestmark = pytest.mark.django_db
STEP_UP = reverse("accounts:step_up")


def stolen(client):
    """The session as a thief holds it: signed in and verified, confirmed long ago."""
    session = client.session
    session[STEP_UP_AT] = int(time.time()) - 6 * 60
    session.save()
    return client


def sent_to_confirm(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(STEP_UP)


def test_a_stolen_session_cannot_replace_the_authenticator(volunteer, volunteer_client):
    client = stolen(volunteer_client)
    assert sent_to_confirm(client.get(reverse("accounts:enrol")))
    assert AuthenticatorDevice.objects.filter(user=volunteer).count() == 1


def test_a_stolen_session_cannot_make_new_backup_codes(volunteer, volunteer_client):
    client = stolen(volunteer_client)
    assert sent_to_confirm(client.post(reverse("accounts:backup_codes_new")))
    assert not BackupCodeDevice.objects.filter(user=volunteer).exists()


def test_a_stolen_session_cannot_redirect_the_e_mail_copies(volunteer, volunteer_client):
    client = stolen(volunteer_client)
    response = client.post(
        reverse("accounts:profile"),
        {"email_notifications": "on", "notification_email": "thief@example.org"},
    )
    assert response.status_code == 400
    assert "thief@example.org" in response.content.decode()  # kept as typed, not saved
    assert User.objects.get(pk=volunteer.pk).notification_email == ""
    # The language alone is no risk: it saves without a confirmation.
    assert client.post(reverse("accounts:profile"), {"language": "ru"}).status_code == 302


def test_a_stolen_session_cannot_change_the_password(volunteer, volunteer_client):
    client = stolen(volunteer_client)
    data = {"old_password": PASSWORD, "new_password1": "x" * 20, "new_password2": "x" * 20}
    assert sent_to_confirm(client.post(reverse("accounts:password_change"), data))
    assert User.objects.get(pk=volunteer.pk).check_password(PASSWORD)


@pytest.mark.parametrize(
    "page",
    [
        "casework:member_invite",
        "audit:export",
        "accounts:member_second_factor_reset",
        "accounts:member_password_reset",
        "casework:account_contain",
        "casework:access_change_new",
        "accounts:member_deactivate",
    ],
)
def test_an_admins_stolen_session_reaches_no_sensitive_page(admin_user, volunteer, page):
    client = stolen(verified_client(admin_user))
    args = [] if page in ("casework:member_invite", "audit:export") else [volunteer.pk]
    assert sent_to_confirm(client.get(reverse(page, args=args)))
    assert sent_to_confirm(client.post(reverse(page, args=args), {}))
    assert User.objects.get(pk=volunteer.pk).is_active
    assert not AccessChange.objects.exists()


def test_a_coordinators_stolen_session_cannot_break_glass(coordinator, other_team):
    case = CaseFactory(team=other_team)
    client = stolen(verified_client(coordinator))
    response = client.post(
        reverse("casework:break_glass"), {"reference": case.reference, "reason": "Curious"}
    )
    assert sent_to_confirm(response)
    assert not BreakGlass.objects.exists()


def test_a_stolen_session_cannot_decide_a_grant(admin_user, coordinator, other_volunteer, team):
    change = AccessChange.objects.create(
        target=other_volunteer, kind=AccessChange.Kind.ADD_TEAM, team=team, proposed_by=admin_user
    )
    client = stolen(verified_client(coordinator))
    decide = reverse("casework:access_change_decide", args=[change.pk])
    assert sent_to_confirm(client.post(decide, {"decision": "approve"}))
    change.refresh_from_db()
    assert change.is_pending


def test_the_password_and_a_fresh_code_open_the_page_for_five_minutes(volunteer, volunteer_client):
    client = stolen(volunteer_client)
    device = AuthenticatorDevice.objects.get(user=volunteer)
    response = client.post(
        STEP_UP, {"password": PASSWORD, "code": current_code(device), "next": "/account/enrol/"}
    )
    assert response["Location"] == "/account/enrol/"
    assert client.get(reverse("accounts:enrol")).status_code == 200
    assert AccessEvent.objects.filter(action=Action.STEP_UP, actor=volunteer).exists()


def test_a_wrong_password_or_stale_code_is_refused_audited_and_counted(volunteer, volunteer_client):
    client = stolen(volunteer_client)
    device = AuthenticatorDevice.objects.get(user=volunteer)
    wrong = client.post(STEP_UP, {"password": "guess", "code": current_code(device)})
    assert wrong.status_code == 400
    stale = client.post(STEP_UP, {"password": PASSWORD, "code": current_code(device, -5)})
    assert stale.status_code == 400
    assert "do not match" in stale.content.decode()
    assert sent_to_confirm(client.get(reverse("accounts:enrol")))
    assert AccessEvent.objects.filter(action=Action.STEP_UP_FAILED, actor=volunteer).count() == 2
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.filter(username=volunteer.username).exists()
