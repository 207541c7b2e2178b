"""A fresh install checks its audit chain when Celery beat starts (issue 24, item 10)."""

import re
from datetime import timedelta

import pytest
import time_machine
from celery.signals import beat_init
from django.urls import reverse
from django.utils import timezone

from audit.log import record
from audit.models import AccessEvent, Action
from config.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks_run_here():
    """The task the beat start queues runs in this process, against this test's database."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def chain_check(client) -> str:
    html = client.get(reverse("dashboard:home")).content.decode()
    health = html.split('id="audit-health"', 1)[1].split("</section>", 1)[0]
    found = re.search(r"<dt>Chain check</dt>\s*<dd>(.*?)</dd>", health, re.S)
    return re.sub(r"<[^>]+>", "", found[1]).strip()


def checks() -> int:
    return AccessEvent.objects.filter(action=Action.AUDIT_VERIFIED).count()


def test_a_fresh_install_says_when_its_chain_was_checked_once_beat_starts(
    tasks_run_here, admin_client_verified, admin_user
):
    record(Action.LOGIN, actor=admin_user, target_type="user", target_ref=str(admin_user.pk))
    assert chain_check(admin_client_verified) == "no check recorded yet"
    beat_init.send(sender=None)
    assert checks() == 1
    assert chain_check(admin_client_verified).startswith("intact, checked")


def test_a_beat_restart_after_a_recent_check_does_not_check_again(tasks_run_here):
    beat_init.send(sender=None)
    beat_init.send(sender=None)
    assert checks() == 1


def test_a_beat_back_after_a_day_checks_at_once(tasks_run_here):
    beat_init.send(sender=None)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        beat_init.send(sender=None)
    assert checks() == 2
