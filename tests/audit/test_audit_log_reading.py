"""Reading the audit log as an admin: names, folded repeats, the export (issue 24, 10)."""

import re
from html import unescape

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from audit import log
from audit.models import AccessEvent, Action
from tests.conftest import verified_client
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db
TIMES = "\N{MULTIPLICATION SIGN}"
DASH = "\N{EN DASH}"
EVENTS = reverse("audit:events")
EXPORT = reverse("audit:export")


def rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr[^>]*>.*?</tr>", body, re.S)


def test_an_account_that_is_the_target_is_named_not_numbered(
    admin_client_verified, admin_user, volunteer
):
    log.record(
        Action.DEVICE_RESET, actor=admin_user, target_type="user", target_ref=str(volunteer.pk)
    )
    row = rows(admin_client_verified.get(EVENTS).content.decode())[0]
    assert f'data-label="Target">{volunteer.username}</td>' in row
    assert f">{volunteer.pk}<" not in row.split('data-label="#"')[1].split("</td>", 1)[1]


def test_views_of_one_case_by_one_person_within_a_minute_are_one_row(
    admin_client_verified, volunteer, coordinator
):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(5):
            log.record(
                Action.CASE_VIEWED, actor=volunteer, target_type="case", target_ref="C-2026-00042"
            )
            clock.shift(10)
        # A minute and more later, another row; another person, another row.
        clock.shift(60)
        log.record(
            Action.CASE_VIEWED, actor=volunteer, target_type="case", target_ref="C-2026-00042"
        )
        log.record(
            Action.CASE_VIEWED, actor=coordinator, target_type="case", target_ref="C-2026-00042"
        )
    shown = rows(admin_client_verified.get(EVENTS, {"action": "case_viewed"}).content.decode())
    assert len(shown) == 3
    folded = shown[2]
    assert "Case viewed" in folded and f"{TIMES}5" in folded
    views = list(AccessEvent.objects.filter(action=Action.CASE_VIEWED).order_by("seq"))
    first, last = views[0], views[4]
    assert f"{first.seq}{DASH}{last.seq}" in folded
    assert folded.count("<time") == 2  # from the first view to the last
    assert TIMES not in shown[0] and TIMES not in shown[1]
    assert AccessEvent.objects.filter(action=Action.CASE_VIEWED).count() == 7  # all still stored


def test_views_of_different_cases_are_not_folded(admin_client_verified, volunteer):
    for number in range(3):
        log.record(
            Action.CASE_VIEWED,
            actor=volunteer,
            target_type="case",
            target_ref=f"C-2026-0000{number}",
        )
    shown = rows(admin_client_verified.get(EVENTS, {"action": "case_viewed"}).content.decode())
    assert len(shown) == 3


def test_the_export_button_sends_the_filters_as_typed(admin_client_verified):
    page = admin_client_verified.get(EVENTS, {"actor": "someone"}).content.decode()
    form = re.search(r'<form method="get" class="filters".*?</form>', page, re.S)[0]
    # Inside the filter form, so what is typed now goes with it, not what was last applied.
    assert f'formaction="{EXPORT}"' in form
    assert 'name="actor"' in form


def test_the_export_holds_only_the_filtered_events_with_names(
    admin_client_verified, admin_user, volunteer, coordinator
):
    log.record(Action.CASE_VIEWED, actor=volunteer, target_ref="C-2026-00033")
    log.record(Action.CASE_VIEWED, actor=coordinator, target_ref="C-2026-00044")
    log.record(
        Action.DEVICE_RESET, actor=admin_user, target_type="user", target_ref=str(volunteer.pk)
    )
    response = admin_client_verified.get(
        EXPORT, {"actor": volunteer.username, "target": "", "action": ""}
    )
    body = b"".join(response.streaming_content).decode()
    assert "C-2026-00033" in body
    assert "C-2026-00044" not in body
    everything = admin_client_verified.get(EXPORT, {"action": "device_reset"})
    lines = b"".join(everything.streaming_content).decode().splitlines()
    assert len(lines) == 2
    assert f",{volunteer.pk},{volunteer.username}," in lines[1]


def test_the_export_asks_for_a_fresh_confirmation_and_keeps_the_filters(admin_user, volunteer):
    from config.step_up import STEP_UP_AT

    client = verified_client(admin_user)
    session = client.session
    session[STEP_UP_AT] = 0
    session.save()
    response = client.get(EXPORT, {"actor": volunteer.username})
    assert response.status_code == 302
    assert "actor%3D" in response.url or "actor=" in unescape(response.url)


def test_the_audit_page_asks_the_same_queries_however_many_accounts_and_events(
    admin_client_verified, admin_user, team, django_assert_max_num_queries
):
    def events_about(users):
        for user in users:
            log.record(
                Action.DEVICE_RESET, actor=admin_user, target_type="user", target_ref=str(user.pk)
            )
            log.record(
                Action.CASE_VIEWED, actor=user, target_type="case", target_ref="C-2026-00001"
            )

    events_about(UserFactory.create_batch(2, teams=[team]))
    with time_machine.travel(timezone.now(), tick=False):
        with django_assert_max_num_queries(12) as few:
            admin_client_verified.get(EVENTS)
        events_about(UserFactory.create_batch(40, teams=[team]))
        with django_assert_max_num_queries(len(few.captured_queries)):
            page = admin_client_verified.get(EVENTS).content.decode()
    assert len(rows(page)) == 50


def test_a_coordinators_case_history_folds_and_names_too(coordinator, volunteer, team):
    case = CaseFactory(team=team)
    for _ in range(3):
        log.record(
            Action.CASE_VIEWED,
            actor=volunteer,
            target_type="case",
            target_ref=case.reference,
            team_id=team.pk,
        )
    page = verified_client(coordinator).get(reverse("casework:case_history", args=[case.reference]))
    assert page.status_code == 200
    assert f"{TIMES}3" in page.content.decode()
