"""The dashboard shows each case once, with every badge its blocks give it, the alarms
first and the rest folded; its queries stay flat however many rows it merges."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import ApprovalRequest, Reminder, ReminderKind, ReminderState, Stage
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("dashboard:home")


def page(client) -> str:
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    return response.content.decode().replace("\xa0", " ")


def ago(**span):
    return timezone.now() - timedelta(**span)


def case_rows(html: str, reference: str) -> list[str]:
    """Every dashboard row (li.case-row) that names the case."""
    rows = re.findall(r'<li class="case-row[^"]*">.*?</li>', html, re.S)
    return [row for row in rows if f">{reference}</a>" in row]


def missed_check_in(case, **span) -> Reminder:
    return Reminder.objects.create(
        kind=ReminderKind.TRANSIT_CHECK_IN,
        due_at=ago(**span),
        sent_at=ago(**span),
        state=ReminderState.SENT,
        urgent=True,
        case=case,
        team=case.team,
        subject=case.reference,
    )


def test_a_coordinators_case_in_every_block_is_one_row_with_all_its_badges(
    coordinator_client, team, volunteer
):
    # Alarm (missed check-in), lost contact, waiting for approval, re-assess, stuck
    # (new allows a day: this one has waited five), and nobody has taken it.
    case = CaseFactory(
        team=team, stage=Stage.NEW, stage_entered_at=ago(days=5), lost_contact_at=ago(hours=3)
    )
    missed_check_in(case, hours=2)
    Reminder.objects.create(
        kind=ReminderKind.REASSESS,
        due_at=ago(hours=1),
        state=ReminderState.SENT,
        urgent=True,
        case=case,
        team=team,
        subject=case.reference,
    )
    ApprovalRequest.objects.create(
        case=case, to_stage=Stage.SCREENING, asked_by=volunteer, asked_version=case.version
    )
    html = page(coordinator_client)
    [row] = case_rows(html, case.reference)
    for badge in (
        "Transit check-in missed",
        "lost contact since",
        "Re-assess: a compromised account touched this",
        "waiting for your approval: New → Screening, asked by volunteer1",
        "4 days over",
    ):
        assert badge in row, badge
    # In the open alarms at the top, not again in the folded blocks below.
    assert row in html.split('id="alarms"', 1)[1].split("</section>", 1)[0]
    assert html.count(f">{case.reference}</a>") == 1


def test_a_volunteers_case_with_an_alarm_overdue_and_a_next_step_is_one_row(
    volunteer, volunteer_client, team
):
    case = CaseFactory(
        team=team,
        assignee=volunteer,
        stage=Stage.SCREENING,
        stage_entered_at=ago(days=5),
        next_action_due=timezone.localdate() - timedelta(days=2),
        lost_contact_at=ago(hours=5),
    )
    missed_check_in(case, hours=1)
    html = page(volunteer_client)
    [row] = case_rows(html, case.reference)
    for badge in (
        "Transit check-in missed",
        "lost contact since",
        "next action was due",
        "5 days in this stage, limit 3 days",
        "Next action",  # its next step
    ):
        assert badge in row, badge
    assert html.count(f">{case.reference}</a>") == 1


def test_alarms_come_first_oldest_alarm_first_and_the_rest_is_folded(coordinator_client, team):
    quiet = CaseFactory(team=team, stage=Stage.NEW, stage_entered_at=ago(days=9))
    lost_long_ago = CaseFactory(team=team, lost_contact_at=ago(days=2))
    missed_just_now = CaseFactory(team=team)
    missed_check_in(missed_just_now, minutes=10)
    html = page(coordinator_client)
    alarms = html.split('id="alarms"', 1)[1].split("</section>", 1)[0]
    assert alarms.index(lost_long_ago.reference) < alarms.index(missed_just_now.reference)
    assert quiet.reference not in alarms
    # The case without an alarm is further down, folded: a <details> left closed.
    assert html.index('id="alarms"') < html.index(quiet.reference)
    for heading in ("stuck", "funnel", "weekly"):
        assert re.search(rf'<details class="panel fold">\s*<summary><h2 id="{heading}"', html)


def test_a_volunteers_waiting_cases_leave_out_those_already_shown(
    volunteer, volunteer_client, team
):
    mine = CaseFactory(team=team, assignee=volunteer)
    waiting = CaseFactory(team=team, stage=Stage.SCREENING)
    html = page(volunteer_client)
    assert html.count(f">{mine.reference}</a>") == 1
    [row] = case_rows(html, waiting.reference)
    assert reverse("casework:case_take", args=[waiting.reference]) in row


def test_another_teams_alarms_and_approvals_do_not_show(
    coordinator_client, other_team, other_volunteer
):
    theirs = CaseFactory(team=other_team, lost_contact_at=ago(hours=1))
    missed_check_in(theirs, hours=1)
    ApprovalRequest.objects.create(
        case=theirs, to_stage=Stage.SCREENING, asked_by=other_volunteer, asked_version=1
    )
    html = page(coordinator_client)
    assert theirs.reference not in html
    assert theirs.person.codename not in html
    assert "Nothing needs attention now." in html


@pytest.mark.parametrize("persona", ["volunteer_client", "coordinator_client"])
def test_merging_the_blocks_costs_the_same_queries_for_few_rows_or_many(
    request, persona, team, volunteer, django_assert_max_num_queries
):
    client = request.getfixturevalue(persona)

    def crowd(count: int) -> None:
        for number in range(count):
            case = CaseFactory(
                team=team,
                assignee=volunteer if number % 2 else None,
                stage=Stage.NEW,
                stage_entered_at=ago(days=3 + number),
                next_action_due=timezone.localdate() - timedelta(days=1),
                lost_contact_at=ago(hours=number + 1) if number % 3 == 0 else None,
            )
            missed_check_in(case, minutes=number + 1)
            ApprovalRequest.objects.create(
                case=case, to_stage=Stage.SCREENING, asked_by=volunteer, asked_version=1
            )

    # More than the stuck block's ten and the volunteer's twenty next steps, so that some
    # alarms name cases no block read whole: the one query reading those is counted.
    crowd(44)
    page(client)  # the kept figures are computed once
    with django_assert_max_num_queries(30) as captured:
        page(client)
    few = len(captured.captured_queries)
    crowd(40)
    with django_assert_max_num_queries(few):
        page(client)
