"""Handover within a team and transfer between teams, through the real views, as the
people doing them and as an attacker would try them."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessEvent, Action
from casework.models import (
    Case,
    CaseTransfer,
    EventKind,
    Notification,
    NotificationKind,
    Reminder,
    ReminderKind,
    ReminderState,
    RouteLeg,
    Stage,
    TransferState,
)
from tests.conftest import inbox_seen, verified_client
from tests.factories import (
    CaseFactory,
    IntakeRequestFactory,
    PersonFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOTE = "Handovernote Qzx: calls back after 18:00, wants Signal only."


@pytest.fixture
def colleague(team):
    """Another volunteer of the case's team (North)."""
    return UserFactory(username="volunteer3", role=Role.VOLUNTEER, teams=[team])


@pytest.fixture
def south_coordinator(other_team):
    return UserFactory(username="coordinator2", role=Role.COORDINATOR, teams=[other_team])


@pytest.fixture
def case(team, volunteer, coordinator):
    person = PersonFactory(legal_name="Personmarker Wqzt", phone="+7 900 555-44-33")
    return CaseFactory(
        team=team,
        person=person,
        assignee=volunteer,
        coordinator=coordinator,
        stage=Stage.PLANNING,
        flag_wanted=True,
        route_summary="Routemarker Kq",
    )


def follow_up(case, recipient, note="Call on Friday"):
    return Reminder.objects.create(
        kind=ReminderKind.FOLLOW_UP,
        due_at=timezone.now() + timedelta(days=2),
        case=case,
        team_id=case.team_id,
        subject=case.reference,
        recipient=recipient,
        created_by=recipient,
        note=note,
    )


def leg(case, volunteer, position=1):
    return RouteLeg.objects.create(
        case=case, position=position, origin="Town A", destination="Town B", volunteer=volunteer
    )


def url(name, *args):
    return reverse(f"casework:{name}", args=args)


def hand_over(client, case, to, note=NOTE, version=None):
    return client.post(
        url("case_hand_over", case.reference),
        {"to": to.username, "note": note, "version": version or case.version},
    )


# Handover ------------------------------------------------------------------------------------


def test_the_assignee_hands_over_with_a_note_and_the_case_reminders_and_legs_follow(
    case, volunteer, colleague, volunteer_client
):
    mine = follow_up(case, volunteer)
    leg_mine = leg(case, volunteer, 1)
    leg_theirs = leg(case, UserFactory(role=Role.VOLUNTEER, teams=[case.team]), 2)

    response = hand_over(volunteer_client, case, colleague)

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assignee == colleague
    mine.refresh_from_db()
    assert mine.recipient == colleague
    assert RouteLeg.objects.get(pk=leg_mine.pk).volunteer == colleague
    assert RouteLeg.objects.get(pk=leg_theirs.pk).volunteer == leg_theirs.volunteer
    event = case.events.get(kind=EventKind.HANDOVER)
    assert (event.actor, event.text, event.detail) == (volunteer, NOTE, colleague.username)
    told = Notification.objects.get(kind=NotificationKind.HANDOVER)
    assert (told.user, told.subject) == (colleague, case.reference)
    assert NOTE not in told.subject
    assert AccessEvent.objects.filter(
        action=Action.CASE_HANDED_OVER, target_ref=case.reference, actor=volunteer
    ).exists()
    # The new assignee reads the note on the case; the old one no longer sees the case.
    page = verified_client(colleague).get(url("case_detail", case.reference))
    assert page.status_code == 200
    assert NOTE in page.content.decode()
    assert volunteer_client.get(url("case_detail", case.reference)).status_code == 404


def test_a_handover_to_a_volunteer_of_another_team_is_refused(
    case, volunteer, colleague, other_volunteer, volunteer_client
):
    mine = follow_up(case, volunteer)
    response = hand_over(volunteer_client, case, other_volunteer)

    assert response.status_code == 400
    assert NOTE in response.content.decode()  # what was typed is kept
    case.refresh_from_db()
    assert case.assignee == volunteer
    assert Reminder.objects.get(pk=mine.pk).recipient == volunteer
    assert not case.events.filter(kind=EventKind.HANDOVER).exists()
    assert not Notification.objects.filter(user=other_volunteer).exists()


def test_the_service_refuses_a_volunteer_of_another_team_however_it_is_called(
    case, volunteer, other_volunteer
):
    from django.core.exceptions import ValidationError

    from casework.services.handover import case_hand_over

    with pytest.raises(ValidationError):
        case_hand_over(
            case=case, to=other_volunteer, by=volunteer, note=NOTE, expected_version=case.version
        )
    case.refresh_from_db()
    assert case.assignee == volunteer


def test_the_handover_page_does_not_list_the_teams_volunteers(case, colleague, volunteer_client):
    page = volunteer_client.get(url("case_hand_over", case.reference))
    assert page.status_code == 200
    assert colleague.username not in page.content.decode()


def test_a_handover_needs_a_note(case, volunteer, colleague, volunteer_client):
    response = hand_over(volunteer_client, case, colleague, note="   ")
    assert response.status_code == 400
    assert "Write a handover note" in response.content.decode()
    case.refresh_from_db()
    assert case.assignee == volunteer


def test_only_the_assignee_may_hand_over(case, coordinator_client, other_volunteer, colleague):
    # The coordinator reassigns instead (403); anyone outside the case does not see it (404).
    assert hand_over(coordinator_client, case, colleague).status_code == 403
    outsider = verified_client(other_volunteer)
    assert hand_over(outsider, case, colleague).status_code == 404
    assert verified_client(colleague).get(url("case_hand_over", case.reference)).status_code == 404
    case.refresh_from_db()
    assert case.assignee.username == "volunteer1"


def test_a_handover_from_a_stale_page_is_a_conflict_that_keeps_the_note(
    case, volunteer, colleague, volunteer_client, coordinator_client
):
    opened_at = case.version
    coordinator_client.post(url("case_risk_reviewed", case.reference), {"version": opened_at})

    response = hand_over(volunteer_client, case, colleague, version=opened_at)

    assert response.status_code == 409
    assert NOTE in response.content.decode()
    case.refresh_from_db()
    assert case.assignee == volunteer
    assert not Notification.objects.filter(kind=NotificationKind.HANDOVER).exists()


# Transfer --------------------------------------------------------------------------------------


def ask(client, case, team, note="Moving to the south: the person is in Rostov now."):
    return client.post(
        url("case_transfer_ask", case.reference),
        {"to_team": team.pk, "note": note, "version": case.version},
    )


def test_a_transfer_to_a_team_without_a_coordinator_is_refused_and_the_note_kept(
    case, other_team, other_volunteer, coordinator_client
):
    note = "Transfernote Zqw: speaks only Chechen."
    response = ask(coordinator_client, case, other_team, note)

    assert response.status_code == 400
    page = response.content.decode()
    assert "South has no active coordinator" in page
    assert note in page
    assert not CaseTransfer.objects.exists()
    assert not Notification.objects.exists()
    case.refresh_from_db()
    assert case.team.name == "North"


def test_a_volunteer_cannot_ask_for_a_transfer(
    case, other_team, south_coordinator, volunteer_client
):
    assert ask(volunteer_client, case, other_team).status_code == 403
    assert not CaseTransfer.objects.exists()


@pytest.fixture
def transfer(case, other_team, south_coordinator, coordinator_client):
    response = ask(coordinator_client, case, other_team)
    assert response.status_code == 302
    case.refresh_from_db()  # asking moved it to its next version
    return CaseTransfer.objects.get()


def test_asking_tells_the_other_teams_coordinators_urgently(transfer, south_coordinator, case):
    told = Notification.objects.get(user=south_coordinator)
    assert (told.kind, told.subject, told.urgent) == (
        NotificationKind.TRANSFER_ASKED,
        case.reference,
        True,
    )
    assert transfer.state == TransferState.PENDING
    assert case.events.filter(kind=EventKind.TRANSFER).exists()
    assert AccessEvent.objects.filter(action=Action.TRANSFER_ASKED).exists()
    # The inbox links the notification to the transfers, not to a case page they cannot open.
    inbox = verified_client(south_coordinator).get(url("inbox")).content.decode()
    assert url("transfer_list") in inbox


def test_the_receiving_coordinator_sees_what_to_decide_and_not_the_person(
    transfer, case, south_coordinator
):
    client = verified_client(south_coordinator)
    page = client.get(url("transfer_detail", transfer.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert case.reference in html
    assert "Planning" in html
    assert "on a wanted list" in html
    assert "the person is in Rostov now" in html
    for secret in ("Personmarker", "+7 900 555", "Routemarker", case.person.codename):
        assert secret not in html
    # Until accepted, the case itself stays closed to them.
    assert client.get(url("case_detail", case.reference)).status_code == 404


def test_accepting_moves_the_case_and_the_old_team_loses_it(
    transfer,
    case,
    team,
    other_team,
    volunteer,
    coordinator,
    south_coordinator,
    volunteer_client,
    coordinator_client,
):
    south_volunteer = UserFactory(username="southvol", role=Role.VOLUNTEER, teams=[other_team])
    both = UserFactory(username="bothteams", role=Role.VOLUNTEER, teams=[team, other_team])
    leg_north = leg(case, volunteer, 1)
    leg_both = leg(case, both, 2)
    theirs = follow_up(case, volunteer)
    request = IntakeRequestFactory(team=team, logged_by=volunteer, state="accepted", case=case)
    client = verified_client(south_coordinator)

    response = client.post(
        url("transfer_detail", transfer.pk),
        {"decision": "accept", "assignee": south_volunteer.pk, "version": case.version},
    )

    assert response.status_code == 302
    assert response.url == url("case_detail", case.reference)
    case.refresh_from_db()
    assert (case.team, case.coordinator, case.assignee) == (
        other_team,
        south_coordinator,
        south_volunteer,
    )
    transfer.refresh_from_db()
    assert (transfer.state, transfer.decided_by) == (TransferState.ACCEPTED, south_coordinator)
    # Legs: the North volunteer's leg loses its volunteer; a member of both teams keeps theirs.
    assert RouteLeg.objects.get(pk=leg_north.pk).volunteer is None
    assert RouteLeg.objects.get(pk=leg_both.pk).volunteer == both
    # The follow-up the old volunteer set goes to the new assignee, with the team.
    theirs.refresh_from_db()
    assert (theirs.recipient, theirs.team, theirs.state) == (
        south_volunteer,
        other_team,
        ReminderState.PENDING,
    )
    request.refresh_from_db()
    assert request.team == other_team
    # The asker is told; the new assignee too.
    assert Notification.objects.filter(
        user=coordinator, kind=NotificationKind.TRANSFER_DECIDED, subject=case.reference
    ).exists()
    assert Notification.objects.filter(
        user=south_volunteer, kind=NotificationKind.ASSIGNED
    ).exists()
    assert AccessEvent.objects.filter(action=Action.TRANSFER_DECIDED, actor=south_coordinator)
    # The new team sees the case; the old team's volunteer and coordinator get 404.
    assert client.get(url("case_detail", case.reference)).status_code == 200
    assert (
        verified_client(south_volunteer).get(url("case_detail", case.reference)).status_code == 200
    )
    for old in (volunteer_client, coordinator_client):
        assert old.get(url("case_detail", case.reference)).status_code == 404
        assert (
            old.post(
                url("case_timeline_add", case.reference), {"kind": "note", "text": "x"}
            ).status_code
            == 404
        )
        assert old.get(url("leg_detail", case.reference, leg_north.pk)).status_code == 404
    assert volunteer_client.get(url("leg_list")).content.decode().count(case.reference) == 0
    # The old team's request no longer opens to its coordinator either.
    assert (
        coordinator_client.get(reverse("intake:detail", args=[request.reference])).status_code
        == 404
    )


def test_an_accepted_case_arrives_unassigned_unless_an_assignee_is_chosen(
    transfer, case, south_coordinator
):
    response = verified_client(south_coordinator).post(
        url("transfer_detail", transfer.pk), {"decision": "accept", "version": case.version}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assignee is None
    assert case.team.name == "South"


def test_declining_needs_a_reason(transfer, case, south_coordinator, coordinator):
    client = verified_client(south_coordinator)
    refused = client.post(
        url("transfer_detail", transfer.pk), {"decision": "decline", "version": case.version}
    )
    assert refused.status_code == 400
    assert "Say why the transfer is declined." in refused.content.decode()
    transfer.refresh_from_db()
    assert transfer.state == TransferState.PENDING

    declined = client.post(
        url("transfer_detail", transfer.pk),
        {"decision": "decline", "reason": "Declinereason Xq: no Chechen speaker", "version": 1},
    )
    assert declined.status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == TransferState.DECLINED
    assert transfer.reason == "Declinereason Xq: no Chechen speaker"
    case.refresh_from_db()
    assert case.team.name == "North"
    assert Notification.objects.filter(
        user=coordinator, kind=NotificationKind.TRANSFER_DECIDED
    ).exists()
    # The asking team reads why on its case's timeline.
    page = verified_client(coordinator).get(url("case_detail", case.reference)).content.decode()
    assert "Declinereason Xq" in page


def test_a_third_teams_coordinator_cannot_see_or_decide_the_transfer(transfer, case):
    third = UserFactory(
        username="coordinator3", role=Role.COORDINATOR, teams=[TeamFactory(name="East")]
    )
    client = verified_client(third)
    assert client.get(url("transfer_detail", transfer.pk)).status_code == 404
    response = client.post(
        url("transfer_detail", transfer.pk), {"decision": "accept", "version": case.version}
    )
    assert response.status_code == 404
    assert client.post(url("transfer_withdraw", transfer.pk)).status_code == 404
    assert case.reference not in client.get(url("transfer_list")).content.decode()
    transfer.refresh_from_db()
    assert transfer.state == TransferState.PENDING


def test_a_volunteer_of_the_receiving_team_cannot_see_the_transfer(transfer, other_volunteer):
    client = verified_client(other_volunteer)
    assert client.get(url("transfer_detail", transfer.pk)).status_code == 404
    assert client.get(url("transfer_list")).status_code == 403


def test_the_asking_team_cannot_accept_its_own_transfer(transfer, case, coordinator_client):
    response = coordinator_client.post(
        url("transfer_detail", transfer.pk), {"decision": "accept", "version": case.version}
    )
    assert response.status_code == 403
    transfer.refresh_from_db()
    assert transfer.state == TransferState.PENDING


def test_accepting_from_a_stale_page_is_a_conflict(
    transfer, case, south_coordinator, coordinator_client
):
    opened_at = Case.objects.get(pk=case.pk).version
    coordinator_client.post(url("case_risk_reviewed", case.reference), {"version": opened_at})

    response = verified_client(south_coordinator).post(
        url("transfer_detail", transfer.pk), {"decision": "accept", "version": opened_at}
    )

    assert response.status_code == 409
    assert "The case changed after you opened this page" in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.state == TransferState.PENDING
    case.refresh_from_db()
    assert case.team.name == "North"


def test_the_asking_coordinator_withdraws_and_the_receiving_one_cannot(
    transfer, case, south_coordinator, coordinator_client
):
    receiving = verified_client(south_coordinator)
    assert receiving.post(url("transfer_withdraw", transfer.pk)).status_code == 403
    response = coordinator_client.post(url("transfer_withdraw", transfer.pk))
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == TransferState.WITHDRAWN
    # Withdrawn, it can no longer be accepted.
    late = receiving.post(
        url("transfer_detail", transfer.pk), {"decision": "accept", "version": case.version}
    )
    assert late.status_code == 302
    case.refresh_from_db()
    assert case.team.name == "North"


def test_a_second_transfer_waits_for_the_first(transfer, case, coordinator_client, other_team):
    case.refresh_from_db()
    response = ask(coordinator_client, case, other_team)
    assert response.status_code == 400
    assert CaseTransfer.objects.count() == 1


def test_a_transfer_is_listed_for_both_teams(transfer, case, south_coordinator, coordinator_client):
    for client in (verified_client(south_coordinator), coordinator_client):
        page = client.get(url("transfer_list"))
        assert page.status_code == 200
        assert case.reference in page.content.decode()


def test_the_purge_blanks_the_transfer_notes(transfer, case):
    from casework.services.retention import _anonymise

    _anonymise(case, by=None, kind="erasure", now=timezone.now())
    transfer.refresh_from_db()
    assert transfer.note == ""
    assert case.events.filter(kind=EventKind.TRANSFER).get().text == ""


# A transfer ends with the case's own end ------------------------------------------------------

VERSION_FIELD = re.compile(r'name="version" value="(\d+)"')
CLOSE = {"to_stage": Stage.CLOSED, "outcome": "withdrew", "reason": "The person stopped answering."}


def opened_for_decision(client, transfer) -> int:
    """The receiving coordinator opens the transfer's page: the version its form carries."""
    page = client.get(url("transfer_detail", transfer.pk))
    assert page.status_code == 200
    return int(VERSION_FIELD.search(page.content.decode())[1])


def accept(client, transfer, version):
    return client.post(
        url("transfer_detail", transfer.pk), {"decision": "accept", "version": version}
    )


def current_version(case) -> int:
    return Case.objects.values_list("version", flat=True).get(pk=case.pk)


def close(client, case):
    data = {"version": current_version(case), **CLOSE}
    response = client.post(url("case_move", case.reference), data)
    assert response.status_code == 302, response.content.decode()[:2000]


def set_legal_hold(client, case):
    response = client.post(
        url("case_legal_hold", case.reference),
        {"action": "set", "reason": "A lawyer asked us to keep the record"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.mark.parametrize("change", [close, set_legal_hold], ids=["closed", "legal_hold"])
def test_a_case_closed_or_held_after_the_transfer_page_was_opened_stays_with_its_team(
    change, transfer, case, coordinator, south_coordinator, coordinator_client
):
    receiving = verified_client(south_coordinator)
    opened_at = opened_for_decision(receiving, transfer)

    change(coordinator_client, case)

    # Posted from the page opened before, then again at the case's current version (as
    # after a "the case changed" answer): neither hands the case to the other team.
    for version in (opened_at, current_version(case)):
        accept(receiving, transfer, version)
        assert Case.objects.get(pk=case.pk).team.name == "North"
    followed = receiving.get(url("transfer_detail", transfer.pk)).content.decode()
    assert "Withdrawn" in followed
    assert receiving.get(url("case_detail", case.reference)).status_code == 404
    transfer.refresh_from_db()
    assert (transfer.state, transfer.decided_by) == (TransferState.WITHDRAWN, coordinator)
    # Recorded as a withdrawal is, in the same transaction as the change.
    withdrawn = case.events.filter(kind=EventKind.TRANSFER).order_by("id").last()
    assert withdrawn.facts == {"code": "transfer_withdrawn", "team": "North"}
    reasons = AccessEvent.objects.filter(
        action=Action.TRANSFER_DECIDED, target_ref=case.reference, actor=coordinator
    ).values_list("reason", flat=True)
    assert [reason.split(":")[0] for reason in reasons] == ["withdrawn"]
    # The receiving coordinator is no longer called to decide it.
    assert inbox_seen(receiving, "A case transfer waits for your team") == (0, set())


def test_a_case_on_legal_hold_cannot_be_offered_to_another_team(
    case, other_team, south_coordinator, coordinator_client
):
    set_legal_hold(coordinator_client, case)
    case.refresh_from_db()
    note = "Transfernote Hq: moving south."
    response = ask(coordinator_client, case, other_team, note)
    assert response.status_code == 400
    page = response.content.decode()
    assert "This case is on legal hold: it stays with its team" in page
    assert note in page
    assert not CaseTransfer.objects.exists()


def legacy_closed(case):
    Case.objects.filter(pk=case.pk).update(stage=Stage.CLOSED, outcome="withdrew")


def legacy_merged(case):
    kept = CaseFactory(team=case.team)
    Case.objects.filter(pk=case.pk).update(
        stage=Stage.CLOSED, outcome="duplicate", merged_into=kept, merged_at=timezone.now()
    )


def legacy_held(case):
    held = Case.objects.get(pk=case.pk)
    held.legal_hold_at, held.legal_hold_reason = timezone.now(), "A lawyer asked us"
    held.save(update_fields=["legal_hold_at", "legal_hold_reason"])


@pytest.mark.parametrize(
    "left", [legacy_closed, legacy_merged, legacy_held], ids=["closed", "merged", "legal_hold"]
)
def test_a_transfer_left_waiting_on_a_case_closed_merged_or_held_is_refused(
    left, transfer, case, south_coordinator
):
    """A transfer still waiting on such a case (left from before closing, merging and the
    hold ended it, or changed a moment ago): accepting reads the case again and refuses."""
    receiving = verified_client(south_coordinator)
    left(case)

    response = accept(receiving, transfer, current_version(case))

    assert response.status_code == 400
    assert (
        "The case was closed, merged into another case or put on legal hold since this "
        "transfer was asked: it stays with its team. Nothing was changed."
    ) in response.content.decode()
    assert Case.objects.get(pk=case.pk).team.name == "North"
    transfer.refresh_from_db()
    assert transfer.state == TransferState.PENDING  # still theirs to decline
    assert receiving.get(url("case_detail", case.reference)).status_code == 404


def merge(client, keep, fold):
    return client.post(
        url("case_merge", keep.reference),
        {
            "other": fold.reference,
            "keep": "this",
            "version": current_version(keep),
            "other_version": current_version(fold),
            "confirm": "True",
        },
    )


@pytest.mark.parametrize("side", ["folded", "kept"])
def test_a_merge_waits_for_the_transfers_answer(
    side, transfer, case, team, south_coordinator, coordinator_client
):
    receiving = verified_client(south_coordinator)
    opened_at = opened_for_decision(receiving, transfer)
    other = CaseFactory(team=team, stage=Stage.PLANNING)
    keep, fold = (other, case) if side == "folded" else (case, other)

    refused = merge(coordinator_client, keep, fold)

    assert refused.status_code == 400
    assert (
        f"A transfer of {case.reference} to South waits for an answer: withdraw it, or wait "
        "for the answer, before merging."
    ) in refused.content.decode()
    assert not Case.objects.filter(merged_into__isnull=False).exists()
    transfer.refresh_from_db()
    assert transfer.state == TransferState.PENDING
    # Withdrawn first, the merge goes through, and the other team can no longer take the case.
    assert coordinator_client.post(url("transfer_withdraw", transfer.pk)).status_code == 302
    assert merge(coordinator_client, keep, fold).status_code == 302
    assert Case.objects.get(pk=fold.pk).merged_into_id == keep.pk
    for version in (opened_at, current_version(case)):
        accept(receiving, transfer, version)
        assert Case.objects.get(pk=case.pk).team.name == "North"
    transfer.refresh_from_db()
    assert transfer.state == TransferState.WITHDRAWN


# The receiving team's urgent item ends with the transfer ---------------------------------------


def decline_it(transfer, case, deciding, asking):
    response = deciding.post(
        url("transfer_detail", transfer.pk),
        {"decision": "decline", "reason": "No room now", "version": current_version(case)},
    )
    assert response.status_code == 302


def accept_it(transfer, case, deciding, asking):
    assert accept(deciding, transfer, current_version(case)).status_code == 302


def withdraw_it(transfer, case, deciding, asking):
    assert asking.post(url("transfer_withdraw", transfer.pk)).status_code == 302


@pytest.mark.parametrize(
    "end", [accept_it, decline_it, withdraw_it], ids=["accepted", "declined", "withdrawn"]
)
def test_the_urgent_transfer_item_of_every_receiving_coordinator_ends_with_the_transfer(
    end, transfer, case, other_team, south_coordinator, coordinator_client
):
    other = UserFactory(username="coordinator4", role=Role.COORDINATOR, teams=[other_team])
    # Asked again, so both of South's coordinators are told.
    Notification.objects.all().delete()
    assert coordinator_client.post(url("transfer_withdraw", transfer.pk)).status_code == 302
    case.refresh_from_db()
    assert ask(coordinator_client, case, other_team).status_code == 302
    transfer = CaseTransfer.objects.get(state=TransferState.PENDING)
    deciding, looking = verified_client(south_coordinator), verified_client(other)
    label = "A case transfer waits for your team"
    for client in (deciding, looking):
        assert inbox_seen(client, label) == (1, {"urgent", "unread"})

    end(transfer, case, deciding, coordinator_client)

    for client in (deciding, looking):
        assert inbox_seen(client, label) == (0, set())
    assert not Notification.objects.filter(
        kind=NotificationKind.TRANSFER_ASKED, urgent=True
    ).exists()
