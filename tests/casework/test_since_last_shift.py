"""'Since your last shift': what others changed on your cases since your previous sign-in."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from casework.models import CaseEvent, EventKind, Stage
from tests.accounts.test_login import VERIFY, sign_in
from tests.conftest import current_code, verified_client
from tests.factories import AuthenticatorFactory, CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("casework:since_last_shift")


def event(case, actor, when, kind=EventKind.NOTE, **fields):
    return CaseEvent.objects.create(case=case, actor=actor, kind=kind, created_at=when, **fields)


def away_since(user, hours=10):
    since = timezone.now() - timedelta(hours=hours)
    User.objects.filter(pk=user.pk).update(previous_login=since)
    return since


def test_a_volunteer_sees_what_others_did_on_their_cases_and_nothing_else(
    team, volunteer, coordinator, other_volunteer
):
    since = away_since(volunteer)
    mine = CaseFactory(team=team, assignee=volunteer)
    not_mine = CaseFactory(team=team, assignee=UserFactory(role=Role.VOLUNTEER, teams=[team]))
    other_teams = CaseFactory(team=other_volunteer.teams.get(), assignee=other_volunteer)
    after = since + timedelta(hours=1)
    event(mine, coordinator, after, EventKind.STAGE, from_stage="new", to_stage="screening")
    event(mine, None, after, EventKind.LOST_CONTACT, detail="lost contact raised")
    event(mine, volunteer, after, EventKind.EDIT, detail="Ownedit marker")
    event(mine, coordinator, since - timedelta(hours=1), EventKind.EDIT, detail="Before marker")
    event(not_mine, coordinator, after, EventKind.EDIT, detail="Notmine marker")
    event(other_teams, other_volunteer, after, EventKind.EDIT, detail="Otherteam marker")

    page = verified_client(volunteer).get(PAGE)

    assert page.status_code == 200
    html = page.content.decode()
    assert mine.reference in html
    assert "Screening" in html
    assert "2 changes" in html
    for absent in ("Ownedit", "Before marker", "Notmine", "Otherteam", not_mine.reference):
        assert absent not in html


def test_a_coordinator_sees_their_teams_cases(team, volunteer, coordinator, other_volunteer):
    away_since(coordinator)
    case = CaseFactory(team=team, assignee=volunteer)
    elsewhere = CaseFactory(team=other_volunteer.teams.get(), assignee=other_volunteer)
    event(case, volunteer, timezone.now(), EventKind.NOTE)
    event(elsewhere, other_volunteer, timezone.now(), EventKind.NOTE)
    html = verified_client(coordinator).get(PAGE).content.decode()
    assert case.reference in html
    assert elsewhere.reference not in html


def test_notes_are_counted_but_their_text_is_not_shown(team, volunteer, coordinator):
    away_since(volunteer)
    case = CaseFactory(team=team, assignee=volunteer)
    event(case, coordinator, timezone.now(), EventKind.NOTE, text="Secretnote Qw")
    html = verified_client(volunteer).get(PAGE).content.decode()
    assert case.reference in html
    assert "Secretnote" not in html


def test_nothing_changed_says_so(volunteer):
    away_since(volunteer)
    page = verified_client(volunteer).get(PAGE)
    assert "Nothing changed on your cases while you were away." in page.content.decode()


def test_admins_have_no_cases_to_follow(admin_user):
    assert verified_client(admin_user).get(PAGE).status_code == 403


def test_the_dashboard_links_to_it(volunteer_client):
    assert PAGE in volunteer_client.get(reverse("dashboard:home")).content.decode()


@pytest.mark.parametrize("cases", [2, 12])
def test_the_page_costs_the_same_queries_for_few_and_many_cases(
    team, coordinator, volunteer, cases, django_assert_max_num_queries
):
    away_since(coordinator)
    now = timezone.now()
    for _ in range(cases):
        case = CaseFactory(team=team, assignee=volunteer, stage=Stage.SCREENING)
        for minutes in range(3):
            event(case, volunteer, now - timedelta(minutes=minutes))
    client = verified_client(coordinator)
    with django_assert_max_num_queries(8):
        page = client.get(PAGE)
    assert page.content.decode().count("3 changes") == cases


def test_signing_in_keeps_the_sign_in_before_as_the_last_shift(client, volunteer):
    device = AuthenticatorFactory(user=volunteer)
    earlier = timezone.now() - timedelta(days=2)
    User.objects.filter(pk=volunteer.pk).update(signed_in_at=earlier, previous_login=None)

    sign_in(client, volunteer.username)
    # The password alone is not a shift: a wrong code leaves both times alone.
    client.post(VERIFY, {"code": "000000"})
    volunteer.refresh_from_db()
    assert (volunteer.signed_in_at, volunteer.previous_login) == (earlier, None)

    device.refresh_from_db()
    device.throttle_reset()  # the wrong code made the next one wait a few seconds
    client.post(VERIFY, {"code": current_code(device)})
    volunteer.refresh_from_db()
    assert volunteer.previous_login == earlier
    assert volunteer.signed_in_at > earlier
    page = client.get(PAGE)
    assert page.status_code == 200
    assert earlier.strftime("%Y") in page.content.decode()
