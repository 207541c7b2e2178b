"""Merging two cases of one person, through the pages a coordinator uses, and undoing it."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessEvent, Action
from casework.models import (
    Case,
    CaseEvent,
    CaseMerge,
    EventKind,
    Notification,
    NotificationKind,
    Outcome,
    Person,
    PersonIndex,
    Reminder,
    ReminderKind,
    ReminderState,
    RouteLeg,
    Stage,
)
from casework.services import retention
from casework.services.cases import PERSON_FIELDS, case_assign, case_note_add, case_update
from casework.services.reminders import follow_up_set
from casework.services.routes import leg_add
from intake.models import IntakeRequest
from intake.selectors import possible_duplicates
from intake.services import intake_accept, intake_log
from tests.conftest import verified_client
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

KEPT_HANDLE = "@quiet_heron_41"
FOLDED_PHONE = "+7 900 314-15-92"
FOLDED_EMAIL = "heron.fortyone@example.org"
KEPT_NOTE = "Prefers calls after nine in the evening"
FOLDED_NOTE = "Asked again from a neighbour phone"
FOLDED_LEG = "Fictionville bus station"
FOLLOW_UP = "Ask whether the papers arrived"


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def opened(by, team, contact: str, details: dict, assignee) -> Case:
    """A case as triage opens one: from a request, assigned, its details filled in."""
    request = intake_log(
        by=assignee, team=team, channel="telegram", received_at=timezone.now(), contact=contact
    )
    case = intake_accept(request=request, by=by)
    case_assign(case=case, assignee=assignee, by=by, expected_version=case.version)
    case = fresh(case)
    case_update(case=case, by=by, expected_version=case.version, changes=details)
    return fresh(case)


@pytest.fixture
def folded_volunteer(team):
    return UserFactory(username="volunteer3", role=Role.VOLUNTEER, teams=[team])


@pytest.fixture
def kept(coordinator, volunteer, team) -> Case:
    case = opened(
        coordinator,
        team,
        KEPT_HANDLE,
        {"legal_name": "Fakeperson Heronov", "messenger_handles": KEPT_HANDLE},
        volunteer,
    )
    case_note_add(case=case, by=volunteer, kind=EventKind.NOTE, text=KEPT_NOTE)
    return fresh(case)


@pytest.fixture
def folded(coordinator, folded_volunteer, team) -> Case:
    case = opened(
        coordinator,
        team,
        FOLDED_PHONE,
        {
            "legal_name": "F. Heronov",
            "phone": FOLDED_PHONE,
            "email": FOLDED_EMAIL,
            "route_summary": "Bus, then on foot",
            "flag_wanted": True,
        },
        folded_volunteer,
    )
    case_note_add(case=case, by=folded_volunteer, kind=EventKind.NOTE, text=FOLDED_NOTE)
    leg_add(
        case=case,
        by=coordinator,
        expected_version=case.version,
        details={"origin": FOLDED_LEG, "destination": "Otterburg"},
    )
    follow_up_set(
        case=fresh(case),
        by=folded_volunteer,
        due_at=timezone.now() + timedelta(days=2),
        note=FOLLOW_UP,
    )
    return fresh(case)


def merge_url(case: Case) -> str:
    return reverse("casework:case_merge", args=[case.reference])


def confirm(client, here: Case, other: Case, keep: str = "this", **changes):
    data = {
        "other": other.reference,
        "keep": keep,
        "version": fresh(here).version,
        "other_version": fresh(other).version,
        "confirm": "True",
        **changes,
    }
    return client.post(merge_url(here), data)


def merged(client, kept: Case, folded: Case):
    response = confirm(client, kept, folded)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def snapshot(*cases: Case) -> dict:
    """Every row a merge moves or changes, as a user would notice it: where each timeline
    entry, leg, reminder, request and index is, the people's details and the cases' state
    (the merge's own timeline entries and the versions apart)."""
    ids = [case.pk for case in cases]
    people = [fresh(case).person_id for case in cases]
    return {
        "events": sorted(
            CaseEvent.objects.filter(case__in=ids)
            .exclude(kind=EventKind.MERGE)
            .values_list("pk", "case_id", "version")
        ),
        "legs": sorted(
            RouteLeg.objects.filter(case__in=ids).values_list("pk", "case_id", "position")
        ),
        "reminders": sorted(
            Reminder.objects.filter(case__in=ids).values_list(
                "pk", "case_id", "subject", "state", "closed_at"
            )
        ),
        "requests": sorted(IntakeRequest.objects.filter(case__in=ids).values_list("pk", "case_id")),
        "indexes": sorted(
            PersonIndex.objects.filter(person__in=people).values_list(
                "pk", "person_id", "source", "kind", "digest"
            )
        ),
        "people": [
            {name: getattr(person, name) for name in PERSON_FIELDS}
            for person in Person.objects.filter(pk__in=people).order_by("pk")
        ],
        "cases": [
            (
                case.stage,
                case.stage_entered_at,
                case.outcome,
                case.held_from,
                case.merged_into_id,
                case.route_summary,
                case.destination_country,
                case.flag_wanted,
                case.assignee_id,
            )
            for case in Case.objects.filter(pk__in=ids).order_by("pk")
        ],
    }


def test_the_case_page_offers_merging_to_the_coordinator_only(
    kept, coordinator_client, volunteer_client
):
    page = reverse("casework:case_detail", args=[kept.reference])
    assert merge_url(kept) in coordinator_client.get(page).content.decode()
    assert merge_url(kept) not in volunteer_client.get(page).content.decode()
    assert volunteer_client.get(merge_url(kept)).status_code == 403


def test_both_cases_are_shown_side_by_side_before_anything_moves(kept, folded, coordinator_client):
    before = snapshot(kept, folded)
    response = coordinator_client.post(merge_url(kept), {"other": folded.reference.lower()})
    html = response.content.decode()
    assert response.status_code == 200
    assert kept.reference in html and folded.reference in html
    assert "volunteer3" in html  # the other case's assignee
    assert 'id="confirm-merge"' in html
    # No more than the case page's header shows: no details of either person.
    assert FOLDED_PHONE not in html and "Heronov" not in html
    assert snapshot(kept, folded) == before


def test_merging_combines_timelines_legs_reminders_requests_and_contacts(
    kept, folded, coordinator_client, coordinator, volunteer, team
):
    folded_requests = list(folded.intake_requests.values_list("pk", flat=True))
    response = merged(coordinator_client, kept, folded)
    assert response["Location"] == reverse("casework:case_detail", args=[kept.reference])

    older = reverse("casework:case_timeline_older", args=[kept.reference])
    page = coordinator_client.get(response["Location"]).content.decode()
    page += coordinator_client.get(older).content.decode()
    # The folded timeline reads on the kept case: moved rows still decrypt.
    assert FOLDED_NOTE in page and KEPT_NOTE in page
    assert f"{folded.reference} merged into this case" in page
    assert FOLLOW_UP in page
    assert RouteLeg.objects.get(case=kept).origin == FOLDED_LEG
    assert set(fresh(kept).intake_requests.values_list("pk", flat=True)) >= set(folded_requests)
    assert Reminder.objects.filter(case=kept, kind=ReminderKind.FOLLOW_UP).get().subject == (
        kept.reference
    )

    # The kept person took what it did not know; what it knew stays.
    person = Person.objects.get(pk=kept.person_id)
    assert person.phone == FOLDED_PHONE and person.email == FOLDED_EMAIL
    assert person.legal_name == "Fakeperson Heronov"
    assert fresh(kept).route_summary == "Bus, then on foot" and fresh(kept).flag_wanted

    gone = fresh(folded)
    assert gone.merged_into_id == kept.pk and gone.is_closed
    assert gone.outcome == Outcome.DUPLICATE
    assert gone.events.filter(kind=EventKind.MERGE).exists()

    # A new request from the folded case's phone finds the kept case, not the folded one.
    again = intake_log(
        by=volunteer,
        team=team,
        channel="phone",
        received_at=timezone.now(),
        contact=FOLDED_PHONE,
    )
    found = [case.reference for case in possible_duplicates(again)["cases"]]
    assert found == [kept.reference]

    told = Notification.objects.get(kind=NotificationKind.CASE_MERGED)
    assert told.user.username == "volunteer3" and told.subject == folded.reference
    audited = AccessEvent.objects.filter(action=Action.CASES_MERGED)
    assert set(audited.values_list("target_ref", flat=True)) == {kept.reference, folded.reference}


def test_the_merged_case_is_listed_closed_and_marked_merged(kept, folded, coordinator_client):
    merged(coordinator_client, kept, folded)
    coordinator_client.get(reverse("casework:case_detail", args=[kept.reference]))  # its message
    listing = coordinator_client.get(reverse("casework:case_list"), {"stage": "closed"})
    row = listing.content.decode().split(folded.reference, 1)[1].split("</tr>", 1)[0]
    assert "merged" in row
    open_cases = coordinator_client.get(reverse("casework:case_list"), {"stage": kept.stage})
    assert folded.reference not in open_cases.content.decode()


def test_the_old_reference_says_where_it_went_to_those_who_see_the_kept_case(
    kept, folded, coordinator_client, volunteer_client, folded_volunteer, other_volunteer
):
    merged(coordinator_client, kept, folded)
    old = reverse("casework:case_detail", args=[folded.reference])
    for client in (coordinator_client, volunteer_client):  # the kept case's assignee too
        response = client.get(old)
        assert response.status_code == 200
        assert f"Merged into {kept.reference}" in response.content.decode()
    # The folded case's own volunteer is not on the kept case; another team's never was.
    for user in (folded_volunteer, other_volunteer):
        assert verified_client(user).get(old).status_code == 404
    # Nothing can be done on the folded case any more.
    note = reverse("casework:case_timeline_add", args=[folded.reference])
    assert coordinator_client.post(note, {"kind": "note", "text": "late"}).status_code == 404


def test_undo_puts_everything_back_exactly(kept, folded, coordinator_client):
    before = snapshot(kept, folded)
    merged(coordinator_client, kept, folded)
    assert snapshot(kept, folded) != before
    page = coordinator_client.get(reverse("casework:case_detail", args=[folded.reference]))
    assert "Undo the merge" in page.content.decode()

    response = coordinator_client.post(reverse("casework:case_merge_undo", args=[folded.reference]))
    assert response.status_code == 302
    assert snapshot(kept, folded) == before
    back = coordinator_client.get(response["Location"]).content.decode()
    back += coordinator_client.get(
        reverse("casework:case_timeline_older", args=[folded.reference])
    ).content.decode()
    assert FOLDED_NOTE in back and KEPT_NOTE not in back
    assert CaseMerge.objects.get().undone_at is not None
    assert AccessEvent.objects.filter(action=Action.MERGE_UNDONE).count() == 2


def test_undo_is_refused_once_the_nightly_purge_has_run(kept, folded, coordinator_client):
    merged(coordinator_client, kept, folded)
    retention.purge_expired_cases()
    after_purge = snapshot(kept, folded)
    response = coordinator_client.post(
        reverse("casework:case_merge_undo", args=[folded.reference]), follow=True
    )
    html = response.content.decode()
    assert "The nightly purge has run since" in html
    assert "can no longer be undone" in html
    assert snapshot(kept, folded) == after_purge
    assert fresh(folded).merged_into_id == kept.pk


def test_a_case_cannot_be_merged_with_itself(kept, coordinator_client):
    before = snapshot(kept)
    response = confirm(coordinator_client, kept, kept)
    assert response.status_code == 400
    assert "cannot be merged with itself" in response.content.decode()
    assert snapshot(kept) == before and not CaseMerge.objects.exists()


def test_a_case_on_legal_hold_is_not_merged(kept, folded, coordinator_client, coordinator):
    retention.legal_hold_set(case=folded, by=coordinator, reason="A lawyer asked us to keep it")
    before = snapshot(kept, folded)
    response = confirm(coordinator_client, kept, folded)
    html = response.content.decode()
    assert response.status_code == 400
    assert f"{folded.reference} is on legal hold" in html and "cannot be merged:" in html
    assert snapshot(kept, folded) == before and not CaseMerge.objects.exists()


def test_a_stale_page_merges_nothing(kept, folded, coordinator_client, coordinator):
    version = fresh(folded).version
    case_note_add(case=kept, by=coordinator, kind=EventKind.NOTE, text="meanwhile")
    case_update(
        case=fresh(folded),
        by=coordinator,
        expected_version=version,
        changes={"notes": "changed meanwhile"},
    )
    before = snapshot(kept, folded)
    response = confirm(coordinator_client, kept, folded, other_version=version)
    assert response.status_code == 409
    assert "changed since this page was opened" in response.content.decode()
    assert snapshot(kept, folded) == before and not CaseMerge.objects.exists()


def test_another_teams_coordinator_gets_404_and_changes_nothing(kept, folded, other_team):
    attacker = verified_client(
        UserFactory(username="coordinator2", role=Role.COORDINATOR, teams=[other_team])
    )
    before = snapshot(kept, folded)
    assert attacker.get(merge_url(kept)).status_code == 404
    assert confirm(attacker, kept, folded).status_code == 404
    undo = reverse("casework:case_merge_undo", args=[folded.reference])
    assert attacker.post(undo).status_code == 404
    assert snapshot(kept, folded) == before and not CaseMerge.objects.exists()


def test_naming_another_teams_case_reads_as_a_missing_one(kept, coordinator_client, other_team):
    theirs = CaseFactory(team=other_team)
    answers = []
    for reference in (theirs.reference, "C-2026-99999"):
        response = coordinator_client.post(merge_url(kept), {"other": reference})
        assert response.status_code == 400
        html = response.content.decode()
        assert f"There is no case {reference} that you can see" in html
        answers.append(re.sub(r'value="[A-Za-z0-9]{64}"', "", html.replace(reference, "REF")))
    assert answers[0] == answers[1]
    assert not CaseMerge.objects.exists()


def test_cases_of_two_teams_are_refused_with_a_word_on_transfers(kept, other_team, coordinator):
    coordinator.teams.add(other_team)
    theirs = CaseFactory(team=other_team)
    client = verified_client(coordinator)
    before = snapshot(kept, theirs)
    response = confirm(client, kept, theirs)
    assert response.status_code == 400
    assert "in different teams" in response.content.decode()
    assert snapshot(kept, theirs) == before


def test_the_stage_reminders_of_the_folded_case_do_not_fire_on_the_kept_one(
    kept, folded, coordinator_client
):
    overdue = Reminder.objects.filter(
        case=folded, kind=ReminderKind.STAGE_OVERDUE, state=ReminderState.PENDING
    )
    ids = list(overdue.values_list("pk", flat=True))
    merged(coordinator_client, kept, folded)
    assert not Reminder.objects.filter(pk__in=ids, state=ReminderState.PENDING).exists()
    coordinator_client.post(reverse("casework:case_merge_undo", args=[folded.reference]))
    assert Reminder.objects.filter(pk__in=ids, state=ReminderState.PENDING).count() == len(ids)


def test_merging_stays_within_a_fixed_number_of_queries(
    kept, folded, coordinator_client, coordinator, django_assert_max_num_queries
):
    for number in range(15):
        case_note_add(case=folded, by=coordinator, kind=EventKind.NOTE, text=f"note {number}")
    with django_assert_max_num_queries(40):
        coordinator_client.get(merge_url(kept))
    with django_assert_max_num_queries(40):
        coordinator_client.post(merge_url(kept), {"other": folded.reference})
    with django_assert_max_num_queries(80):
        merged(coordinator_client, kept, folded)
    with django_assert_max_num_queries(30):
        coordinator_client.get(reverse("casework:case_detail", args=[folded.reference]))
    with django_assert_max_num_queries(80):
        coordinator_client.post(reverse("casework:case_merge_undo", args=[folded.reference]))


def test_a_merged_case_cannot_be_merged_again(kept, folded, coordinator, team, coordinator_client):
    merged(coordinator_client, kept, folded)
    third = CaseFactory(team=team)
    response = coordinator_client.post(merge_url(third), {"other": folded.reference})
    assert response.status_code == 400
    assert "There is no case" in response.content.decode()
    assert fresh(third).stage == Stage.NEW


def test_erasing_the_kept_case_erases_the_folded_persons_details_too(
    kept, folded, coordinator_client, coordinator
):
    merged(coordinator_client, kept, folded)
    response = coordinator_client.post(
        reverse("casework:case_erase", args=[kept.reference]),
        {"reason": "Asked on the known Signal number", "confirm": "on"},
    )
    assert response.status_code == 302
    for case in (kept, folded):
        gone = fresh(case)
        assert gone.is_purged
        person = Person.objects.get(pk=gone.person_id)
        assert (person.phone, person.email, person.legal_name) == ("", "", "")
    assert not PersonIndex.objects.exists()
