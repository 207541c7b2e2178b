"""Admins review every break-glass open: who, which case, when, and (one at a time, on
request, audited) why; then mark it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from casework.models import BreakGlass
from tests.conftest import verified_client
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("casework:break_glass_reviews")


def grant(case, user, *, reason="Their coordinator is unreachable tonight", ago=0):
    opened = timezone.now() - timedelta(minutes=ago)
    return BreakGlass.objects.create(
        case=case, user=user, reason=reason, created_at=opened, expires_at=opened
    )


def review_url(item: BreakGlass) -> str:
    return reverse("casework:break_glass_review", args=[item.pk])


@pytest.fixture
def opened(coordinator, other_team):
    return grant(CaseFactory(team=other_team), coordinator)


def test_admin_sees_who_opened_which_case_when_and_asks_for_why(admin_client_verified, opened):
    page = admin_client_verified.get(QUEUE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "coordinator1" in html and opened.case.reference in html
    # The reason only when asked for (tests/security/insiders/test_hardening.py).
    assert "Their coordinator is unreachable tonight" not in html
    shown = admin_client_verified.post(reverse("casework:break_glass_reason", args=[opened.pk]))
    assert "Their coordinator is unreachable tonight" in shown.content.decode()
    assert opened.case.person.codename not in html + shown.content.decode()


@pytest.mark.parametrize("persona", ["coordinator_client", "volunteer_client"])
def test_only_admins_see_the_queue_or_review(request, persona, opened):
    client = request.getfixturevalue(persona)
    assert client.get(QUEUE).status_code == 403
    assert client.post(review_url(opened), {"comment": "fine"}).status_code == 403
    opened.refresh_from_db()
    assert opened.reviewed_at is None


def test_newest_unreviewed_first(admin_client_verified, coordinator, other_team):
    older = grant(CaseFactory(team=other_team), coordinator, ago=90)
    newer = grant(CaseFactory(team=other_team), coordinator, ago=5)
    queue = admin_client_verified.get(QUEUE).context["queue"]
    assert [item.pk for item in queue] == [newer.pk, older.pk]


def test_a_review_moves_it_to_the_reviewed_list_and_is_audited(
    admin_client_verified, admin_user, opened
):
    response = admin_client_verified.post(
        review_url(opened), {"comment": "Justified: night shift, called them after"}
    )
    assert response.status_code == 302
    opened.refresh_from_db()
    assert opened.reviewed_by == admin_user and opened.reviewed_at is not None
    assert opened.review_comment == "Justified: night shift, called them after"
    page = admin_client_verified.get(QUEUE)
    assert page.context["queue"] == []
    assert [item.pk for item in page.context["reviewed"]] == [opened.pk]
    event = AccessEvent.objects.get(action=Action.BREAK_GLASS_REVIEWED)
    assert event.actor == admin_user and event.target_ref == opened.case.reference
    assert event.target_type == "break_glass"


def test_the_comment_is_encrypted_at_rest(admin_client_verified, opened):
    admin_client_verified.post(review_url(opened), {"comment": "Qzreviewmarker justified"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT review_comment FROM casework_breakglass")
        (raw,) = cursor.fetchone()
    assert "Qzreviewmarker" not in raw


def test_a_review_needs_a_comment_and_keeps_nothing_lost(admin_client_verified, opened):
    response = admin_client_verified.post(review_url(opened), {"comment": "  "})
    assert response.status_code == 400
    assert "Write what you concluded" in response.content.decode()
    opened.refresh_from_db()
    assert opened.reviewed_at is None


def test_a_second_review_is_refused_and_the_comment_is_shown_again(admin_client_verified, opened):
    admin_client_verified.post(review_url(opened), {"comment": "First look"})
    other_admin = verified_client(UserFactory(role="admin", is_staff=True))
    response = other_admin.post(review_url(opened), {"comment": "Second look, typed"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Someone reviewed this break-glass already." in html
    assert "Second look, typed" in html
    opened.refresh_from_db()
    assert opened.review_comment == "First look"


def test_the_reason_is_not_on_the_audit_pages(admin_client_verified, opened):
    for url in (reverse("audit:events"), reverse("audit:alerts")):
        assert "unreachable tonight" not in admin_client_verified.get(url).content.decode()


def test_the_queue_queries_do_not_grow_with_grants(
    admin_client_verified, coordinator, other_team, django_assert_max_num_queries
):
    for _ in range(2):
        grant(CaseFactory(team=other_team), coordinator)
    with django_assert_max_num_queries(15) as few:
        admin_client_verified.get(QUEUE)
    count = len(few.captured_queries)
    for item in [grant(CaseFactory(team=other_team), coordinator) for _ in range(20)][:10]:
        admin_client_verified.post(review_url(item), {"comment": "ok"})
    with django_assert_max_num_queries(count):
        page = admin_client_verified.get(QUEUE)
    assert len(page.context["queue"]) == 12 and len(page.context["reviewed"]) == 10
