"""What the benchmarked pages (tests/bench/pages_size.py) may ask the database, counted.

Every page pays for the session, the user, their authenticator, their roles and
permissions (one query), their teams and the navigation's unread count; what each page
adds is listed beside its budget. A query added by mistake fails here, before `make bench`.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit import log
from audit.models import Action
from casework.models import CaseEvent, EventKind, Stage
from casework.services import cases as case_services
from intake.services import intake_log
from tests.factories import CaseFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

EVERY_PAGE = 6  # session, user, authenticator, roles and permissions, teams, unread count
ADMIN_PAGE = EVERY_PAGE + 1  # + the worker's heartbeat (dashboard.health)
AUDIT_WRITE = 1  # the event (a plain INSERT; the sealer chains it later, audit/log.py)
# A service's transaction runs inside the test's as a savepoint (in production, BEGIN and
# COMMIT). A page's own audit write adds nothing here: it asks for no savepoint.
SAVEPOINT = 2


@pytest.fixture
def cases(team, volunteer):
    made = [
        CaseFactory(
            team=team,
            assignee=volunteer if number % 2 else None,
            flag_dependants=True,
            stage_entered_at=timezone.now() - timedelta(hours=number),
        )
        for number in range(30)
    ]
    CaseEvent.objects.bulk_create(
        CaseEvent(case=made[0], kind=EventKind.NOTE, actor=volunteer, text="n") for _ in range(50)
    )
    return made


def test_case_list(coordinator_client, cases, django_assert_max_num_queries):
    # + the team members one may filter by, break-glass grants, the count, the page's
    # ids, its rows
    url = reverse("casework:case_list") + "?risk=flag_dependants"
    with django_assert_max_num_queries(EVERY_PAGE + 5):
        assert coordinator_client.get(url).status_code == 200
    with django_assert_max_num_queries(EVERY_PAGE + 5):
        assert coordinator_client.get(url + "&page=2").status_code == 200


def test_case_page(coordinator_client, cases, django_assert_max_num_queries):
    # + the case (break-glass grants inside), its viewing recorded with the insider rule's
    # two look-ups (seen within the hour? if not, how many cases were), route legs,
    # reminders, the members one may assign, the people one may mention in a note, a
    # transfer and an approval request waiting, the timeline's newest entries and how many
    # older ones wait behind them (an index-only count, asked when the newest fill the
    # page: the summary says "42 older entries", which users like; reading 9 rows would
    # only say that there are some), the documents (one query, whatever their number) and
    # the requests behind the case, for their conversation (two more when one came through
    # a channel: the newest messages and a count of the rest, whatever their number).
    # The older entries are read when the fold is opened.
    url = reverse("casework:case_detail", args=[cases[0].reference])
    with django_assert_max_num_queries(EVERY_PAGE + 1 + AUDIT_WRITE + 2 + 8 + 1 + 1):
        assert coordinator_client.get(url).status_code == 200


def test_case_page_reads_no_more_for_a_longer_timeline(
    coordinator_client, cases, volunteer, django_assert_max_num_queries
):
    # The same budget at 50 events and at 250 (past the timeline's limit of 200).
    CaseEvent.objects.bulk_create(
        CaseEvent(case=cases[0], kind=EventKind.NOTE, actor=volunteer, text="n") for _ in range(200)
    )
    url = reverse("casework:case_detail", args=[cases[0].reference])
    with django_assert_max_num_queries(EVERY_PAGE + 1 + AUDIT_WRITE + 2 + 8 + 1 + 1):
        page = coordinator_client.get(url).content.decode()
    assert page.count('<li class="event ') == 8
    assert "192 older entries" in page


def test_older_timeline_entries(coordinator_client, cases, django_assert_max_num_queries):
    # + the case (break-glass grants inside, no person's details), its viewing recorded
    # with the insider rule's look-up (seen within the hour: the case page was), the
    # entries. As a fragment for htmx: no navigation, so no unread count either.
    url = reverse("casework:case_timeline_older", args=[cases[0].reference])
    coordinator_client.get(reverse("casework:case_detail", args=[cases[0].reference]))
    with django_assert_max_num_queries(EVERY_PAGE + 1 + AUDIT_WRITE + 1 + 1):
        assert coordinator_client.get(url).status_code == 200
    with django_assert_max_num_queries(EVERY_PAGE - 1 + 1 + AUDIT_WRITE + 1 + 1):
        assert coordinator_client.get(url, headers={"HX-Request": "true"}).status_code == 200


def test_stage_move(coordinator_client, cases, django_assert_max_num_queries):
    # + the case; in one transaction: the version claimed with the move, the coordinators'
    # urgent item about an approval asked of the old version retired (it lapsed), the
    # stage's reminders cancelled and scheduled, the assignee who may still see it told
    # (read, then their notification written), the timeline event, the audit write. No
    # unread count: it answers with a redirect, not a page.
    case = cases[1]
    url = reverse("casework:case_move", args=[case.reference])
    data = {"version": case.version, "to_stage": Stage.ON_HOLD, "reason": "Waiting"}
    with django_assert_max_num_queries(EVERY_PAGE - 1 + 1 + SAVEPOINT + 5 + 2 + AUDIT_WRITE):
        assert coordinator_client.post(url, data).status_code == 302


def test_intake_submit(coordinator_client, django_assert_max_num_queries):
    # + the teams to log into (with their names, for the form); in one transaction: the
    # reference, the request, its contact's blind index, the triage reminder, the audit write
    data = {
        "channel": "phone",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "contact": "+7 912 555-11-22",
        "message": "A request",
    }
    # The year's first request makes the year's reference counter; the budget is the next's.
    assert coordinator_client.post(reverse("intake:new"), data).status_code == 302
    with django_assert_max_num_queries(EVERY_PAGE - 1 + 1 + SAVEPOINT + 4 + AUDIT_WRITE):
        assert coordinator_client.post(reverse("intake:new"), data).status_code == 302


def test_duplicate_search(
    coordinator_client, volunteer, team, other_team, django_assert_max_num_queries
):
    # + the request, its viewing recorded with the insider rule's two look-ups; in the
    # report's transaction: its contact's digests, the people they match (and on which
    # kind of contact), suspected provocations, matching cases
    # and requests, the request locked, the probe recorded (with its two look-ups) for the
    # other team, which of its cases were told already, that team's coordinators, and per
    # case told its reminder and notifications; and the files attached to the request
    # (one query, whatever their number)
    UserFactory(role=Role.COORDINATOR, teams=[other_team])
    matching = []
    for owner_team in (team, other_team, other_team):
        person = PersonFactory(phone="+7 912 555-11-22")
        case_services.person_indexes_refresh(person)
        matching.append(CaseFactory(team=owner_team, person=person))
    logged = intake_log(
        by=volunteer,
        team=team,
        channel="phone",
        received_at=timezone.now(),
        contact="+7 912 555-11-22",
    )
    url = reverse("intake:detail", args=[logged.reference])
    viewed = EVERY_PAGE + 1 + AUDIT_WRITE + 2
    report = SAVEPOINT + 5 + 1 + AUDIT_WRITE + 2 + 1
    with django_assert_max_num_queries(viewed + report + 1 + 2 * 2 + 1):
        page = coordinator_client.get(url).content.decode()
    ours, *theirs = (case.reference for case in matching)
    assert ours in page and not any(reference in page for reference in theirs)
    assert "A possible match exists in another team" in page
    # Seen and probed within the hour already (one look-up each), and told: the probe is
    # still recorded, nobody is told again.
    with django_assert_max_num_queries(viewed - 1 + report - 1 + 1):
        coordinator_client.get(url)


def test_audit_search(admin_client_verified, coordinator, django_assert_max_num_queries):
    # + the events; no teams (an admin reads none)
    for number in range(60):
        log.record(Action.CASE_MOVED, actor=coordinator, target_ref=f"C-2026-{number:05d}")
    url = reverse("audit:events") + "?actor=coordinator1&action=case_moved"
    with django_assert_max_num_queries(ADMIN_PAGE - 1 + 1):
        page = admin_client_verified.get(url).content.decode()
    assert page.count('<td data-label="#">') == 50
