"""A silent worker is noticed by the web app: a banner on the admins' pages, one alert per
outage, the health page. The worker cannot report its own death."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from audit.models import InsiderAlert
from casework.models import Heartbeat
from casework.scheduling import dispatch_due, heartbeat
from casework.tasks import worker_heartbeat

pytestmark = pytest.mark.django_db

BANNER = "The background worker has not answered for"


def last_heard(minutes: int) -> None:
    Heartbeat.objects.update_or_create(
        name="worker", defaults={"seen_at": timezone.now() - timedelta(minutes=minutes)}
    )


def silence_alerts():
    return InsiderAlert.objects.filter(kind=InsiderAlert.Kind.WORKER_SILENT)


def test_an_admin_is_told_on_every_page_when_the_worker_is_silent(admin_client_verified):
    last_heard(minutes=12)
    for name in ("dashboard:home", "accounts:members", "dashboard:health"):
        page = admin_client_verified.get(reverse(name)).content.decode()
        assert BANNER in page, name
        assert "12\xa0minutes" in page
    # One alert for the outage, however many pages show the banner.
    assert silence_alerts().count() == 1


def test_the_alert_reaches_the_admins_inbox_once_the_worker_is_back(
    admin_user, admin_client_verified
):
    last_heard(minutes=30)
    admin_client_verified.get(reverse("dashboard:home"))
    worker_heartbeat.apply()  # back
    dispatch_due()
    assert admin_user.notifications.filter(urgent=True).exists()
    assert BANNER not in admin_client_verified.get(reverse("dashboard:home")).content.decode()


def test_a_second_outage_raises_a_second_alert(admin_client_verified):
    start = timezone.now()
    last_heard(minutes=10)
    admin_client_verified.get(reverse("dashboard:home"))
    with time_machine.travel(start + timedelta(minutes=1)):
        heartbeat("worker")  # back
        admin_client_verified.get(reverse("dashboard:home"))
    with time_machine.travel(start + timedelta(minutes=8)):
        admin_client_verified.get(reverse("dashboard:home"))
    assert silence_alerts().count() == 2


def test_a_worker_heard_from_within_the_limit_raises_nothing(admin_client_verified, settings):
    settings.WORKER_SILENT_MINUTES = 5
    last_heard(minutes=4)
    assert BANNER not in admin_client_verified.get(reverse("dashboard:home")).content.decode()
    assert not silence_alerts().exists()


def test_a_fresh_install_whose_worker_never_answered_is_for_the_health_page(
    admin_client_verified,
):
    assert BANNER not in admin_client_verified.get(reverse("dashboard:home")).content.decode()
    health = admin_client_verified.get(reverse("dashboard:health")).content.decode()
    assert "never answered" in health
    assert not silence_alerts().exists()


def test_the_health_page_marks_a_silent_worker(admin_client_verified):
    last_heard(minutes=6)
    assert "stopped?" in admin_client_verified.get(reverse("dashboard:health")).content.decode()


def test_volunteers_see_no_banner_and_raise_no_alert(volunteer_client):
    last_heard(minutes=60)
    assert BANNER not in volunteer_client.get(reverse("dashboard:home")).content.decode()
    assert not silence_alerts().exists()
