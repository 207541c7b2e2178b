"""A flood of forged webhook calls, through HTTP against the real view: the audit log takes
at most TELEGRAM_FORGED_AUDIT_PER_MINUTE of them a minute, the health page still shows how
many there were, the admins get one alert, and Telegram's own calls go on being taken."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action, ChainHead, InsiderAlert
from intake.models import Direction, ForgedWebhookCalls, IntakeRequest, Message
from intake.retention import telegram_updates_prune
from tests.concurrency import needs_postgres, run_together
from tests.dashboard.test_dashboard import fact
from tests.intake.telegram.conftest import post_update, update

pytestmark = pytest.mark.django_db

LIMIT = 10
REFUSED_LABEL = "Forged Telegram webhook calls refused \\(24 hours\\)"


@pytest.fixture
def start() -> datetime:
    """Five seconds into the next minute: the calls a test makes at once fall in one minute
    (the clock stands still), and signed-in sessions are not timed out meanwhile."""
    return timezone.now().replace(second=5, microsecond=0) + timedelta(minutes=1)


@pytest.fixture
def limit(settings):
    settings.TELEGRAM_FORGED_AUDIT_PER_MINUTE = LIMIT
    return LIMIT


def audited() -> int:
    return AccessEvent.objects.filter(
        action=Action.REFUSED, target_type="telegram", target_ref="webhook"
    ).count()


def flood_alerts() -> int:
    return InsiderAlert.objects.filter(kind=InsiderAlert.Kind.FORGED_WEBHOOK).count()


def forge(client, n: int) -> set[tuple[int, bytes]]:
    answers = set()
    for number in range(n):
        response = post_update(client, update(f"Forged {number}"), secret="not-the-secret")
        answers.add((response.status_code, response.content))
    return answers


def test_200_forged_calls_are_all_refused_and_at_most_the_limit_audited(
    client, team, bot_api, start, limit, admin_client_verified
):
    with time_machine.travel(start, tick=False):
        before = AccessEvent.objects.count()
        answers = forge(client, 100)
        # Telegram's own call, in the middle of the flood, is taken as ever.
        assert post_update(client, update("A real person writes")).status_code == 200
        answers |= forge(client, 100)

        assert answers == {(403, b"")}  # every forged call gets the same short answer
        assert audited() == limit
        assert AccessEvent.objects.count() - before <= limit + 2  # + the good call's events
        assert IntakeRequest.objects.get().message == "A real person writes"
        assert Message.objects.filter(direction=Direction.IN).count() == 1
        assert ForgedWebhookCalls.objects.get().calls == 200
        assert flood_alerts() == 1

        response = admin_client_verified.get(reverse("dashboard:health"))
        assert fact(response.content.decode(), REFUSED_LABEL) == "200"


def test_over_the_limit_a_forged_call_writes_nothing_but_its_count(
    client, team, bot_api, start, limit
):
    with time_machine.travel(start, tick=False):
        forge(client, limit + 1)  # the limit reached, and the alert raised
        with CaptureQueriesContext(connection) as queries:
            assert forge(client, 5) == {(403, b"")}
    touched = [query["sql"] for query in queries.captured_queries]
    assert not [sql for sql in touched if "audit_" in sql]  # no event, no chain head, no alert
    assert len(touched) == 5  # one upsert each
    assert audited() == limit
    assert not ChainHead.objects.filter(seq__gt=0).exists()


def test_each_minute_audits_up_to_the_limit_and_a_long_flood_alerts_once_an_hour(
    client, team, bot_api, start, limit, admin_client_verified
):
    for minute in range(3):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            forge(client, limit + 5)
    assert audited() == 3 * limit
    assert flood_alerts() == 1
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        forge(client, limit + 1)
    assert flood_alerts() == 2
    response = admin_client_verified.get(reverse("dashboard:health"))
    assert fact(response.content.decode(), REFUSED_LABEL) == str(4 * limit + 16)
    alert = InsiderAlert.objects.filter(kind=InsiderAlert.Kind.FORGED_WEBHOOK).first()
    assert (alert.actor, alert.event_seq) == (None, None)
    assert "not audited" in alert.detail


def test_a_few_forged_calls_are_each_audited_without_an_alert(client, team, bot_api, start, limit):
    with time_machine.travel(start, tick=False):
        forge(client, limit)
    assert audited() == limit
    assert flood_alerts() == 0


def test_the_counts_are_forgotten_with_the_update_ids(client, team, bot_api, start, limit):
    with time_machine.travel(start, tick=False):
        forge(client, 3)
    telegram_updates_prune(now=start + timedelta(days=2))
    assert ForgedWebhookCalls.objects.exists()
    telegram_updates_prune(now=start + timedelta(days=4))
    assert not ForgedWebhookCalls.objects.exists()


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_forged_calls_racing_never_pass_the_limit_nor_lose_a_count(team, bot_api, start, limit):
    def burst():
        return forge(Client(), 25)

    with time_machine.travel(start, tick=False):
        answers = run_together(burst, times=4)
    assert set().union(*answers) == {(403, b"")}
    assert audited() == limit
    assert ForgedWebhookCalls.objects.get().calls == 100
    assert flood_alerts() == 1
