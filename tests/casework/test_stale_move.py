"""A move sent from an outdated case page gets the notice edits get ("Someone else changed
this case"), not the workflow's "cannot move from On hold to On hold" (issue 19 item 5).

Two people open the same case page; one moves the case, the other sends a move from the
page they still have. Every form that posts to case_move is covered: the move form and the
one-tap button of "What is next".
"""

import re

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AccessEvent, Action
from casework.models import Case, EventKind, Stage
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

NOTICE = "Someone else changed this case after you opened it."


@pytest.fixture
def case(volunteer, team):
    return CaseFactory(team=team, assignee=volunteer)


def move_forms(client: Client, case: Case) -> list[dict[str, str]]:
    """The hidden fields of every form on the case page that posts to case_move."""
    page = client.get(reverse("casework:case_detail", args=[case.reference]))
    assert page.status_code == 200
    action = re.escape(reverse("casework:case_move", args=[case.reference]))
    forms = re.findall(
        rf'<form method="post" action="{action}">(.*?)</form>', page.content.decode(), re.S
    )
    hidden = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')
    return [
        {name: value for name, value in hidden.findall(form) if name != "csrfmiddlewaretoken"}
        for form in forms
    ]


def moved_twice(case: Case) -> bool:
    events = case.events.filter(kind=EventKind.STAGE).count()
    audited = AccessEvent.objects.filter(action=Action.CASE_MOVED, target_ref=case.reference)
    return events != 1 or audited.count() != 1


def test_a_hold_sent_from_an_outdated_page_gets_the_conflict_notice(
    volunteer_client, coordinator_client, case
):
    mine = move_forms(volunteer_client, case)[-1]  # the move form, below "What is next"
    theirs = move_forms(coordinator_client, case)[-1]
    assert mine["version"] == theirs["version"] == str(case.version)
    first = coordinator_client.post(
        reverse("casework:case_move", args=[case.reference]),
        {**theirs, "to_stage": Stage.ON_HOLD, "reason": "Coordinator put it on hold"},
    )
    assert first.status_code == 302

    second = volunteer_client.post(
        reverse("casework:case_move", args=[case.reference]),
        {**mine, "to_stage": Stage.ON_HOLD, "reason": "Waiting for documents"},
    )

    assert second.status_code == 409
    page = second.content.decode()
    assert NOTICE in page
    assert "cannot move from" not in page
    assert "coordinator1" in page  # who moved it
    assert '<span class="stage stage-on_hold">On hold</span>' in page  # where it is now
    assert "Waiting for documents" in page  # what was typed is kept
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.stage == Stage.ON_HOLD
    assert fresh.version == case.version + 1
    assert not moved_twice(case)
    # The page shown carries the case's version now: the next send is judged on its merits.
    assert f'name="version" value="{fresh.version}"' in page


def test_a_one_tap_move_from_an_outdated_page_gets_the_conflict_notice(
    volunteer_client, coordinator_client, case
):
    mine = move_forms(volunteer_client, case)[0]  # "Move to Screening" under "What is next"
    theirs = move_forms(coordinator_client, case)[0]
    assert mine == theirs == {"version": str(case.version), "to_stage": Stage.SCREENING}
    url = reverse("casework:case_move", args=[case.reference])
    assert coordinator_client.post(url, theirs).status_code == 302

    second = volunteer_client.post(url, mine)

    assert second.status_code == 409
    page = second.content.decode()
    assert NOTICE in page and "cannot move from" not in page
    assert Case.objects.get(pk=case.pk).stage == Stage.SCREENING
    assert not moved_twice(case)


def test_a_move_from_a_current_page_to_the_stage_it_is_in_is_still_refused_as_such(
    volunteer_client, case
):
    """Not a conflict: the page is current, the move is what is wrong."""
    response = volunteer_client.post(
        reverse("casework:case_move", args=[case.reference]),
        {"version": case.version, "to_stage": Stage.NEW},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This case cannot move from New to New." in page
    assert NOTICE not in page
