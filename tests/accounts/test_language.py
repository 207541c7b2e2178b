"""Each user picks the interface language in their profile; without a choice the browser's
language is used, before and after sign-in."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from casework import scheduling
from casework.tasks import send_due_emails
from tests.conftest import verified_client
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

DASHBOARD_EN = "<h1>Dashboard</h1>"
DASHBOARD_RU = "<h1>Обзор</h1>"


def dashboard(client, accept_language):
    return client.get(reverse("dashboard:home"), HTTP_ACCEPT_LANGUAGE=accept_language)


def test_without_a_choice_the_browser_language_is_used(volunteer_client):
    assert DASHBOARD_RU in dashboard(volunteer_client, "ru-RU,ru;q=0.9").content.decode()
    assert DASHBOARD_EN in dashboard(volunteer_client, "en-GB,en;q=0.9").content.decode()


def test_the_choice_in_the_profile_wins_over_the_browser(volunteer, volunteer_client):
    page = volunteer_client.get(reverse("accounts:profile"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Русский" in page.content.decode()  # each language is named in itself

    response = volunteer_client.post(
        reverse("accounts:profile"), {"language": "ru"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.language == "ru"
    response = dashboard(volunteer_client, "en-GB,en;q=0.9")
    assert DASHBOARD_RU in response.content.decode()
    assert response["Content-Language"] == "ru"

    volunteer_client.post(reverse("accounts:profile"), {"language": ""})
    assert DASHBOARD_EN in dashboard(volunteer_client, "en-GB").content.decode()


def test_one_users_choice_does_not_change_anothers(volunteer, coordinator):
    volunteer.language = "ru"
    volunteer.save(update_fields=["language"])
    assert DASHBOARD_RU in dashboard(verified_client(volunteer), "en").content.decode()
    assert DASHBOARD_EN in dashboard(verified_client(coordinator), "en").content.decode()


def test_an_unknown_language_is_refused_and_the_rest_kept(volunteer, volunteer_client):
    response = volunteer_client.post(
        reverse("accounts:profile"),
        {"language": "xx", "email_notifications": "on", "notification_email": "me@example.org"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert 'value="me@example.org"' in page
    volunteer.refresh_from_db()
    assert volunteer.language == ""


def test_the_sign_in_page_follows_the_browser(client):
    page = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert 'lang="ru"' in page


def test_email_copies_are_written_in_the_users_language(volunteer, team, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    volunteer.language = "ru"
    volunteer.notification_email = "volunteer@example.org"
    volunteer.email_notifications = True
    volunteer.save()
    case = CaseFactory(team=team, assignee=volunteer)
    scheduling.follow_up_schedule(case, volunteer, timezone.now(), "")
    scheduling.dispatch_due()
    assert send_due_emails() == 1
    assert mail.outbox[0].subject == f"[SP] Напоминание: {case.reference}"


def test_settings_saved_is_said_in_the_language_just_chosen(volunteer, volunteer_client):
    response = volunteer_client.post(
        reverse("accounts:profile"), {"language": "ru"}, HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    page = response.content.decode()
    assert "Настройки сохранены." in page
    assert "Settings saved." not in page

    response = volunteer_client.post(
        reverse("accounts:profile"), {"language": "en"}, HTTP_ACCEPT_LANGUAGE="ru", follow=True
    )
    page = response.content.decode()
    assert "Settings saved." in page
    assert "Настройки сохранены." not in page
