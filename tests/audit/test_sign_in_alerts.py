"""A burst of failed sign-ins raises an alert for the admins (issue 24, item 10)."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import InsiderAlert
from tests.conftest import current_code
from tests.factories import PASSWORD, AuthenticatorFactory, UserFactory

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:verify")
ALERTS = reverse("audit:alerts")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_thresholds(settings):
    settings.SIGN_IN_FAILURES_PER_ACCOUNT = 6
    settings.SIGN_IN_FAILURES_ALL_ACCOUNTS = 12
    settings.SIGN_IN_FAILURE_MINUTES = 15


def wrong_password(username: str, address: str) -> None:
    Client().post(
        LOGIN, {"username": username, "password": "not the password"}, REMOTE_ADDR=address
    )


def failed_sign_in_alerts():
    return InsiderAlert.objects.filter(kind=InsiderAlert.Kind.FAILED_SIGN_INS)


def test_guessing_one_account_from_many_addresses_raises_one_alert(
    admin_client_verified, volunteer
):
    # Two guesses from each address: under the lock-out everywhere, over the alert in all.
    for number in range(6):
        wrong_password(volunteer.username, f"198.51.100.{number}")
        wrong_password(volunteer.username, f"198.51.100.{number}")
    alerts = list(failed_sign_in_alerts())
    assert len(alerts) == 1
    assert alerts[0].actor_id == volunteer.pk
    page = admin_client_verified.get(ALERTS).content.decode()
    assert "Many failed sign-ins in a short time" in page
    assert volunteer.username in page


def test_a_few_typos_raise_nothing(volunteer):
    for _ in range(3):
        wrong_password(volunteer.username, "203.0.113.7")
    assert not failed_sign_in_alerts().exists()


def test_wrong_codes_count_as_failed_sign_ins(volunteer):
    device = AuthenticatorFactory(user=volunteer)
    for number in range(4):
        client = Client()
        address = f"198.51.100.{number}"
        client.post(
            LOGIN, {"username": volunteer.username, "password": PASSWORD}, REMOTE_ADDR=address
        )
        wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
        for _ in range(2):
            client.post(VERIFY, {"code": wrong}, REMOTE_ADDR=address)
    assert failed_sign_in_alerts().filter(actor=volunteer).count() == 1


def test_trying_many_names_raises_an_alert_across_accounts(admin_client_verified, team):
    members = UserFactory.create_batch(4, teams=[team])
    names = [member.username for member in members] + [f"guess-{n}" for n in range(9)]
    for number, name in enumerate(names):
        wrong_password(name, f"192.0.2.{number}")
    alerts = list(failed_sign_in_alerts())
    assert len(alerts) == 1
    assert alerts[0].actor_id is None
    assert "across all accounts" in alerts[0].detail
    assert "across all accounts" in admin_client_verified.get(ALERTS).content.decode()
