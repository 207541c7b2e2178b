"""Approval requests: a volunteer asks the team's coordinator for a move only they may
make; the coordinator approves (the move is made, every rule checked then) or declines
with a reason; a request asked of a case that changed since lapses. Through HTTP, as the
volunteer, the coordinator and an attacker would."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AccessEvent, Action
from casework.models import (
    ApprovalRequest,
    ApprovalState,
    Case,
    CaseEvent,
    EventKind,
    Notification,
    NotificationKind,
    Stage,
)
from destinations.models import DestinationRisk, Extradites
from tests.concurrency import needs_postgres, run_together
from tests.conftest import inbox_seen, verified_client
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

NOTE = "Tickets bought for the night bus, please approve soon"


@pytest.fixture
def case(team, volunteer, coordinator):
    """Ready to leave preparation: the next move (in transit) is the coordinator's, and
    the team has one to ask."""
    return CaseFactory(
        team=team,
        assignee=volunteer,
        stage=Stage.PREPARATION,
        stage_entered_at=timezone.now() - timedelta(hours=2),
        risk_reviewed_at=timezone.now(),
        destination_country="GE",
        route_summary="Bus, then on foot.",
        readiness_confirmed=True,
    )


@pytest.fixture
def other_coordinator(other_team):
    return UserFactory(username="coordinator2", role=Role.COORDINATOR, teams=[other_team])


def page_url(case):
    return reverse("casework:case_detail", args=[case.reference])


def ask(client, case, to_stage=Stage.IN_TRANSIT, note=NOTE, **extra):
    case.refresh_from_db()
    data = {"version": case.version, "to_stage": to_stage, "note": note, **extra}
    return client.post(reverse("casework:approval_ask", args=[case.reference]), data)


def decide(client, approval, decision, reason="", **extra):
    url = reverse("casework:approval_decide", args=[approval.case.reference, approval.pk])
    return client.post(url, {"decision": decision, "reason": reason, **extra})


def asked(volunteer_client, case) -> ApprovalRequest:
    response = ask(volunteer_client, case)
    assert response.status_code == 302, response.content.decode()[:2000]
    return ApprovalRequest.objects.get(case=case)


def stage_of(case) -> str:
    return Case.objects.values_list("stage", flat=True).get(pk=case.pk)


def edit(client, case) -> None:
    """An edit of the case's details, saved: the case's version moves on."""
    edited = client.post(
        reverse("casework:case_edit", args=[case.reference]),
        {
            "version": case.version,
            "person-legal_name": "Changed Name",
            "person-preferred_language": "ru",
            "case-destination_country": "AM",
            "case-route_summary": "Another way",
            "case-readiness_confirmed": "on",
        },
    )
    assert edited.status_code == 302


def approval_steps(case) -> list[str]:
    events = CaseEvent.objects.filter(case=case, kind=EventKind.APPROVAL).order_by("id")
    return [event.detail for event in events]


def audited(case, action) -> list[str]:
    return list(
        AccessEvent.objects.filter(target_ref=case.reference, action=action)
        .order_by("created_at", "seq")
        .values_list("reason", flat=True)
    )


def test_volunteer_is_offered_ask_for_approval_where_the_move_needs_the_coordinator(
    volunteer_client, case
):
    text = volunteer_client.get(page_url(case)).content.decode()
    assert "Ask for approval" in text
    assert reverse("casework:approval_ask", args=[case.reference]) in text


def test_no_ask_where_the_volunteer_may_move_themselves(volunteer_client, team, volunteer):
    case = CaseFactory(team=team, assignee=volunteer, stage=Stage.NEW)
    text = volunteer_client.get(page_url(case)).content.decode()
    # Closing needs the coordinator from any stage; moving on from New does not.
    assert 'value="closed"' in text
    response = ask(volunteer_client, case, to_stage=Stage.SCREENING)
    assert response.status_code == 400
    assert not ApprovalRequest.objects.exists()


def test_asking_tells_the_coordinator_urgently_on_inbox_dashboard_and_board(
    volunteer_client, coordinator_client, coordinator, volunteer, case
):
    approval = asked(volunteer_client, case)
    assert approval.state == ApprovalState.PENDING
    assert approval.note == NOTE
    assert approval.asked_version == case.version
    told = Notification.objects.get(user=coordinator)
    assert (told.kind, told.subject, told.urgent) == (
        NotificationKind.APPROVAL_ASKED,
        case.reference,
        True,
    )
    assert not Notification.objects.filter(user=volunteer).exists()
    inbox = coordinator_client.get(reverse("casework:inbox")).content.decode()
    assert "A move waits for your approval" in inbox and case.reference in inbox
    dashboard = coordinator_client.get(reverse("dashboard:home")).content.decode()
    # At the top, among what needs attention now, on the case's own row.
    alarms = dashboard.split('id="alarms"', 1)[1].split("</section>", 1)[0]
    row = alarms.split(f">{case.reference}</a>", 1)[1].split("</li>", 1)[0]
    assert "waiting for your approval" in row
    assert dashboard.index('id="alarms"') < dashboard.index("Cases by stage")
    board = coordinator_client.get(reverse("casework:board")).content.decode()
    assert "waiting for approval" in board
    assert approval_steps(case) == ["pending"]
    assert audited(case, Action.APPROVAL_ASKED) == ["pending in_transit"]
    # The case itself did not change: asking is not an edit.
    assert Case.objects.get(pk=case.pk).version == case.version


def test_the_note_is_stored_encrypted(volunteer_client, case):
    approval = asked(volunteer_client, case)
    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM casework_approvalrequest WHERE id = %s", [approval.pk])
        (stored,) = cursor.fetchone()
    assert "night bus" not in str(stored)


def waiting_badge(client, case) -> bool:
    """Whether the coordinator's dashboard shows the case's row badge "waiting for your
    approval: A → B, asked by …" (templates/dashboard/_case_item.html)."""
    dashboard = client.get(reverse("dashboard:home")).content.decode()
    shown = dashboard.count("waiting for your approval:")
    assert shown <= 1
    if shown:
        row = dashboard.split(f">{case.reference}</a>", 1)[1].split("</li>", 1)[0]
        assert "waiting for your approval: Preparation → In transit, asked by volunteer1" in row
    return bool(shown)


def test_the_coordinator_approves_and_the_case_moves(
    volunteer_client, coordinator_client, volunteer, case
):
    approval = asked(volunteer_client, case)
    page = coordinator_client.get(page_url(case)).content.decode()
    assert "Waiting for approval" in page and NOTE in page
    assert waiting_badge(coordinator_client, case)
    response = decide(coordinator_client, approval, "approve")
    assert response.status_code == 302
    assert stage_of(case) == Stage.IN_TRANSIT
    approval.refresh_from_db()
    assert approval.state == ApprovalState.APPROVED
    assert approval_steps(case) == ["pending", "approved"]
    assert CaseEvent.objects.filter(case=case, kind=EventKind.STAGE, to_stage="in_transit").exists()
    assert audited(case, Action.APPROVAL_DECIDED) == ["approved in_transit"]
    assert audited(case, Action.CASE_MOVED)
    told = Notification.objects.get(user=volunteer)
    assert (told.kind, told.subject) == (NotificationKind.APPROVAL_DECIDED, case.reference)
    followed = coordinator_client.get(response["Location"]).content.decode()
    assert "Approved: moved to In transit." in followed
    # Done: no longer waiting anywhere.
    assert not waiting_badge(coordinator_client, case)


def test_declining_without_a_reason_is_refused_and_keeps_what_was_typed(
    volunteer_client, coordinator_client, case
):
    approval = asked(volunteer_client, case)
    response = decide(coordinator_client, approval, "decline", reason="   ")
    assert response.status_code == 400
    text = response.content.decode()
    assert "Say why the move is declined." in text
    assert NOTE in text  # the request, its note included, is still there to answer
    approval.refresh_from_db()
    assert approval.state == ApprovalState.PENDING
    assert stage_of(case) == Stage.PREPARATION


def test_declining_with_a_reason_tells_the_asker_and_moves_nothing(
    volunteer_client, coordinator_client, volunteer, case
):
    approval = asked(volunteer_client, case)
    response = decide(coordinator_client, approval, "decline", reason="Border closed tonight")
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.state == ApprovalState.DECLINED
    assert approval.decline_reason == "Border closed tonight"
    assert stage_of(case) == Stage.PREPARATION
    assert approval_steps(case) == ["pending", "declined"]
    assert audited(case, Action.APPROVAL_DECIDED) == ["declined in_transit"]
    assert Notification.objects.filter(
        user=volunteer, kind=NotificationKind.APPROVAL_DECIDED
    ).exists()
    # The volunteer reads why on the timeline, and may ask again.
    page = volunteer_client.get(page_url(case)).content.decode()
    assert "Border closed tonight" in page
    assert "Ask for approval" in page


def test_a_request_lapses_when_the_case_is_edited_after_asking(
    volunteer_client, coordinator_client, volunteer, case
):
    approval = asked(volunteer_client, case)
    # The coordinator's page, opened while the request was live.
    assert "Approve: move to In transit" in coordinator_client.get(page_url(case)).content.decode()
    edit(volunteer_client, case)
    page = coordinator_client.get(page_url(case)).content.decode()
    assert "Approval request lapsed" in page
    assert "Approve: move to" not in page
    # Approving from the old page: nothing moves, the request lapses, the asker is told.
    response = decide(coordinator_client, approval, "approve")
    assert response.status_code == 302
    assert stage_of(case) == Stage.PREPARATION
    approval.refresh_from_db()
    assert approval.state == ApprovalState.LAPSED
    assert approval_steps(case) == ["pending", "lapsed"]
    assert audited(case, Action.APPROVAL_DECIDED) == ["lapsed in_transit"]
    followed = coordinator_client.get(response["Location"]).content.decode()
    assert "The case changed since this approval was asked: nothing was moved." in followed
    assert Notification.objects.filter(
        user=volunteer, kind=NotificationKind.APPROVAL_DECIDED
    ).exists()


def test_a_lapsed_request_is_off_the_dashboard_and_asking_again_works(
    volunteer_client, coordinator_client, case
):
    first = asked(volunteer_client, case)
    assert waiting_badge(coordinator_client, case)
    Case.objects.filter(pk=case.pk).update(version=case.version + 1)
    assert not waiting_badge(coordinator_client, case)
    assert (
        "waiting for approval"
        not in coordinator_client.get(reverse("casework:board")).content.decode()
    )
    assert ask(volunteer_client, case).status_code == 302
    first.refresh_from_db()
    assert first.state == ApprovalState.LAPSED
    assert ApprovalRequest.objects.filter(case=case, state=ApprovalState.PENDING).count() == 1


def approve_it(case, deciding, volunteer_client):
    approval = ApprovalRequest.objects.get(case=case, state=ApprovalState.PENDING)
    assert decide(deciding, approval, "approve").status_code == 302
    assert stage_of(case) == Stage.IN_TRANSIT


def decline_it(case, deciding, volunteer_client):
    approval = ApprovalRequest.objects.get(case=case, state=ApprovalState.PENDING)
    assert decide(deciding, approval, "decline", reason="Border closed").status_code == 302


def lapse_it(case, deciding, volunteer_client):
    """The asker edits the case after asking: the request lapses, nobody having decided."""
    case.refresh_from_db()
    edit(volunteer_client, case)
    assert "Approval request lapsed" in deciding.get(page_url(case)).content.decode()


def lapse_recorded(case, deciding, volunteer_client):
    """Approved from a page opened before the case changed: recorded as lapsed."""
    approval = ApprovalRequest.objects.get(case=case, state=ApprovalState.PENDING)
    lapse_it(case, deciding, volunteer_client)
    assert decide(deciding, approval, "approve").status_code == 302
    approval.refresh_from_db()
    assert approval.state == ApprovalState.LAPSED


@pytest.mark.parametrize(
    "end",
    [approve_it, decline_it, lapse_it, lapse_recorded],
    ids=["approved", "declined", "lapsed", "lapse_recorded"],
)
def test_the_urgent_item_of_every_coordinator_ends_with_the_request(
    end, volunteer_client, coordinator_client, team, case
):
    other = UserFactory(username="coordinator5", role=Role.COORDINATOR, teams=[team])
    looking = verified_client(other)
    asked(volunteer_client, case)
    label = "A move waits for your approval"
    for client in (coordinator_client, looking):
        assert inbox_seen(client, label) == (1, {"urgent", "unread"})

    end(case, coordinator_client, volunteer_client)

    # Whoever decided, and also when nobody did: no inbox calls for it any more.
    for client in (coordinator_client, looking):
        assert inbox_seen(client, label) == (0, set())


def test_only_one_request_waits_per_case_and_a_second_keeps_the_note(volunteer_client, case):
    asked(volunteer_client, case)
    response = ask(volunteer_client, case, note="Second thoughts about the route")
    assert response.status_code == 400
    text = response.content.decode()
    assert "A request for approval already waits on this case." in text
    assert "Second thoughts about the route" in text
    assert ApprovalRequest.objects.filter(case=case).count() == 1


def test_a_move_whose_rules_no_longer_hold_is_refused_and_the_request_keeps_waiting(
    volunteer_client, coordinator_client, case
):
    """The rules are the ones that hold when approving: here the register has since marked
    the destination as extraditing for a wanted person, so the coordinator must confirm the
    warning. Nothing is lost: the request waits for the confirmation or a decline."""
    approval = asked(volunteer_client, case)
    Case.objects.filter(pk=case.pk).update(flag_wanted=True, version=case.version)
    DestinationRisk.objects.create(country="GE", extradites=Extradites.YES)
    response = decide(coordinator_client, approval, "approve")
    assert response.status_code == 400
    text = response.content.decode()
    assert "Read the warning and tick" in text
    assert 'name="warning_seen"' in text
    approval.refresh_from_db()
    assert approval.state == ApprovalState.PENDING
    assert stage_of(case) == Stage.PREPARATION
    confirmed = decide(coordinator_client, approval, "approve", warning_seen="on")
    assert confirmed.status_code == 302
    assert stage_of(case) == Stage.IN_TRANSIT


def test_a_coordinator_of_another_team_can_neither_see_nor_decide_it(
    volunteer_client, other_coordinator, case
):
    approval = asked(volunteer_client, case)
    attacker = verified_client(other_coordinator)
    assert attacker.get(page_url(case)).status_code == 404
    assert decide(attacker, approval, "approve").status_code == 404
    assert decide(attacker, approval, "decline", reason="Not yours").status_code == 404
    # Their own case's URL with this request's id: not found either.
    own = CaseFactory(team=other_coordinator.teams.get(), stage=Stage.PREPARATION)
    url = reverse("casework:approval_decide", args=[own.reference, approval.pk])
    assert attacker.post(url, {"decision": "approve"}).status_code == 404
    dashboard = attacker.get(reverse("dashboard:home")).content.decode()
    assert case.reference not in dashboard
    approval.refresh_from_db()
    assert approval.state == ApprovalState.PENDING
    assert stage_of(case) == Stage.PREPARATION


def test_the_volunteer_cannot_approve_their_own_request(volunteer_client, case):
    approval = asked(volunteer_client, case)
    page = volunteer_client.get(page_url(case)).content.decode()
    assert "Approve: move to" not in page
    assert decide(volunteer_client, approval, "approve").status_code == 403
    assert decide(volunteer_client, approval, "decline", reason="Never mind").status_code == 403
    approval.refresh_from_db()
    assert approval.state == ApprovalState.PENDING
    assert stage_of(case) == Stage.PREPARATION


def test_a_volunteer_of_another_team_cannot_ask(other_volunteer, case):
    response = ask(verified_client(other_volunteer), case)
    assert response.status_code == 404
    assert not ApprovalRequest.objects.exists()


def test_approving_twice_from_two_tabs_moves_once(volunteer_client, coordinator_client, case):
    approval = asked(volunteer_client, case)
    first = decide(coordinator_client, approval, "approve")
    second = decide(coordinator_client, approval, "approve")
    assert first.status_code == second.status_code == 302
    assert stage_of(case) == Stage.IN_TRANSIT
    assert Case.objects.get(pk=case.pk).version == case.version + 1
    assert CaseEvent.objects.filter(case=case, kind=EventKind.STAGE).count() == 1
    assert approval_steps(case) == ["pending", "approved"]
    followed = coordinator_client.get(second["Location"]).content.decode()
    assert "This request was already decided: nothing was changed." in followed


def test_closing_is_asked_with_an_outcome(volunteer_client, coordinator_client, case):
    response = ask(volunteer_client, case, to_stage=Stage.CLOSED, outcome="withdrew")
    assert response.status_code == 302
    approval = ApprovalRequest.objects.get(case=case)
    assert decide(coordinator_client, approval, "approve").status_code == 302
    closed = Case.objects.get(pk=case.pk)
    assert (closed.stage, closed.outcome) == (Stage.CLOSED, "withdrew")


def test_closing_without_an_outcome_is_refused_with_the_note_kept(volunteer_client, case):
    response = ask(volunteer_client, case, to_stage=Stage.CLOSED, note="He changed his mind")
    assert response.status_code == 400
    text = response.content.decode()
    assert "Choose an outcome to close the case." in text
    assert "He changed his mind" in text


def test_the_dashboard_block_costs_the_same_queries_for_one_request_or_many(
    coordinator_client, team, volunteer
):
    def requests(count):
        for _ in range(count):
            case = CaseFactory(team=team, assignee=volunteer, stage=Stage.PREPARATION)
            ApprovalRequest.objects.create(
                case=case, to_stage=Stage.IN_TRANSIT, asked_by=volunteer, asked_version=1
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page = coordinator_client.get(reverse("dashboard:home"))
        assert page.status_code == 200
        return len(captured)

    requests(1)
    queries()  # the first fills the minute's cache of the team's figures
    one = queries()
    requests(8)
    many = queries()
    assert many == one, (one, many)
    text = coordinator_client.get(reverse("dashboard:home")).content.decode()
    assert text.count("#approval") == 9


def test_erasure_removes_the_notes_and_reasons_of_requests(
    volunteer_client, coordinator_client, case
):
    approval = asked(volunteer_client, case)
    response = coordinator_client.post(
        reverse("casework:case_erase", args=[case.reference]),
        {"reason": "Asked on Signal", "confirm": "on"},
    )
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.note == ""
    events = CaseEvent.objects.filter(case=case, kind=EventKind.APPROVAL)
    assert [event.text for event in events] in ([], [""])
    page = coordinator_client.get(page_url(case)).content.decode()
    assert NOTE not in page


def test_the_coordinator_is_offered_the_request_not_a_one_tap_move_beside_it(
    volunteer_client, coordinator_client, case
):
    before = coordinator_client.get(page_url(case)).content.decode()
    assert "Move to In transit" in before  # the one-tap move, while nobody asked
    asked(volunteer_client, case)
    page = coordinator_client.get(page_url(case)).content.decode()
    assert "Approve: move to In transit" in page
    assert "Move to In transit" not in page


def test_asking_to_close_sits_beside_the_moves_when_the_way_forward_is_free(
    volunteer_client, team, volunteer
):
    case = CaseFactory(team=team, assignee=volunteer, stage=Stage.NEW)
    page = volunteer_client.get(page_url(case)).content.decode()
    assert page.index('id="ask-approval"') > page.index('id="move"')
    assert 'href="#ask-approval"' not in page


def test_a_request_made_moot_by_the_coordinators_own_move_is_not_shown_as_lapsed(
    volunteer_client, coordinator_client, case
):
    asked(volunteer_client, case)
    case.refresh_from_db()
    moved = coordinator_client.post(
        reverse("casework:case_move", args=[case.reference]),
        {"version": case.version, "to_stage": "in_transit"},
    )
    assert moved.status_code == 302
    page = volunteer_client.get(page_url(case)).content.decode()
    assert "Approval request lapsed" not in page


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_tabs_approving_at_the_same_moment_move_the_case_once(
    volunteer_client, coordinator, case
):
    approval = asked(volunteer_client, case)
    clients = [verified_client(coordinator), verified_client(coordinator)]
    answers = run_together(lambda: decide(clients.pop(), approval, "approve").status_code)
    assert answers == [302, 302]
    assert stage_of(case) == Stage.IN_TRANSIT
    assert Case.objects.get(pk=case.pk).version == case.version + 1
    assert CaseEvent.objects.filter(case=case, kind=EventKind.STAGE).count() == 1
    assert approval_steps(case) == ["pending", "approved"]


def test_asking_in_a_team_without_a_coordinator_is_refused_and_the_note_kept(
    volunteer_client, coordinator, case
):
    """Asked of nobody, the request would wait unseen while the person waits on the road:
    the volunteer is told at once whom to turn to, and nothing is asked."""
    coordinator.is_active = False
    coordinator.save(update_fields=["is_active"])
    response = ask(volunteer_client, case)
    assert response.status_code == 400
    page = response.content.decode()
    assert "has no active coordinator to approve this move: nothing was asked." in page
    assert NOTE in page
    assert not ApprovalRequest.objects.exists()
    assert not Notification.objects.filter(kind=NotificationKind.APPROVAL_ASKED).exists()
