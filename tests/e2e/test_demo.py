"""The demo `make run` shows, as the demo coordinator first sees it, in Russian: a quiet
day with a few alarms, and a case page with no English on it."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from casework import scheduling
from casework.models import ApprovalRequest, ApprovalState
from tests.conftest import verified_client
from tests.e2e.conftest import shoot
from tests.e2e.test_accessibility import hand_session
from tests.e2e.test_russian_pages import LATIN_WORD, PROPER, english_words
from tests.e2e.words import Words
from tests.factories import role_group

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def w():
    return Words("ru")


@pytest.fixture
def demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    for role in Role:
        role_group(role)  # flushed with the tables by an earlier transactional test
    call_command("seed_demo", seed=3, stdout=StringIO(), stderr=StringIO())
    scheduling.dispatch_due()  # the worker's first minute
    coordinator = User.objects.get(username="demo-coordinator")
    coordinator.language = "ru"
    coordinator.save(update_fields=["language"])
    return coordinator


def test_the_demo_coordinator_starts_with_a_few_alarms(page, live_server, demo):
    hand_session(page, live_server, verified_client(demo))
    page.goto(f"{live_server.url}/")
    shoot(page, "80-demo-dashboard")
    unread = page.locator(".inbox-link .count")
    assert unread.count() == 1 and 1 <= int(unread.inner_text()) <= 12
    page.locator(".inbox-link").click()
    page.locator("section.inbox-group").first.wait_for()
    shoot(page, "81-demo-inbox")
    urgent = page.locator("section.inbox-group li.row.urgent").count()
    assert 1 <= urgent <= 5


def test_a_seeded_case_waiting_for_approval_reads_in_russian(page, live_server, demo):
    approval = ApprovalRequest.objects.select_related("case__person", "case__team").get(
        state=ApprovalState.PENDING, case__team__name="Demo team"
    )
    case = approval.case
    hand_session(page, live_server, verified_client(demo))
    page.goto(f"{live_server.url}{reverse('casework:case_detail', args=[case.reference])}")
    page.locator("#timeline").wait_for()
    shoot(page, "82-demo-case")
    people = User.objects.filter(teams=case.team).values_list("username", flat=True)
    data = " ".join(
        [
            case.reference,
            case.destination_country,
            case.team.name,
            case.person.codename,
            case.person.legal_name,
            *people,
        ]
    )
    allowed = PROPER | set(LATIN_WORD.findall(data)) | set(LATIN_WORD.findall(case.person.email))
    allowed |= set(LATIN_WORD.findall(case.person.messenger_handles))
    assert english_words(page.locator("body").inner_text(), allowed) == []
