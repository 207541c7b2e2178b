"""The dashboard per role: what each sees first, and what each must not see."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Containment
from accounts.roles import Role
from audit.log import alert, record
from audit.models import AccessEvent, Action, InsiderAlert
from audit.tasks import verify_chain
from casework.models import (
    BreakGlass,
    Case,
    CaseEvent,
    EventKind,
    Person,
    Reminder,
    ReminderKind,
    ReminderState,
    Stage,
)
from dashboard.selectors import week_starts
from intake.models import IntakeRequest
from tests.conftest import verified_client
from tests.factories import (
    AuthenticatorFactory,
    CaseFactory,
    IntakeRequestFactory,
    PersonFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("dashboard:home")


def page(client, **headers) -> str:
    response = client.get(DASHBOARD, **headers)
    assert response.status_code == 200
    # Durations come from Django's timesince, which joins "5" and "days" with a no-break space.
    return response.content.decode().replace("\xa0", " ")


def section(html: str, heading_id: str) -> str:
    """The block a heading opens: a <section>, or a <details> folded on the page."""
    block = html.split(f'id="{heading_id}"', 1)[1]
    return re.split(r"</section>|</details>\n(?!</figure>)", block, maxsplit=1)[0]


def funnel_count(html: str, label: str) -> int:
    """The count the funnel's table gives for a stage."""
    found = re.search(
        rf">{label}(?:</a>)?</th><td class=\"number\">(\d+)<", section(html, "funnel")
    )
    assert found, f"no {label} row in the funnel"
    return int(found.group(1))


def this_week(html: str) -> tuple[int, int]:
    """(requests, crossings) in the weekly chart's table for the current week."""
    monday = week_starts(timezone.localdate())[-1].isoformat()
    row = section(html, "weekly").split(f'datetime="{monday}"', 1)[1].split("</tr>", 1)[0]
    requests, crossings = re.findall(r'<td class="number">(\d+)</td>', row)
    return int(requests), int(crossings)


def ago(**span) -> timezone.datetime:
    return timezone.now() - timedelta(**span)


def arrival(case, *, when=None, from_stage=Stage.CROSSING):
    return CaseEvent.objects.create(
        case=case,
        kind=EventKind.STAGE,
        from_stage=from_stage,
        to_stage=Stage.ARRIVED,
        created_at=when or timezone.now(),
    )


# Volunteer ---------------------------------------------------------------------------


def test_volunteer_sees_their_cases_soonest_next_step_first(volunteer, volunteer_client, team):
    later = CaseFactory(
        team=team, assignee=volunteer, next_action_due=timezone.localdate() + timedelta(days=5)
    )
    sooner = CaseFactory(team=team, assignee=volunteer, stage=Stage.PLANNING)
    Reminder.objects.create(
        kind=ReminderKind.FOLLOW_UP,
        due_at=timezone.now() + timedelta(days=1),
        case=sooner,
        team=team,
        subject=sooner.reference,
        recipient=volunteer,
    )
    idle = CaseFactory(team=team, assignee=volunteer)
    html = section(page(volunteer_client), "next-steps")
    positions = [html.index(case.reference) for case in (sooner, later, idle)]
    assert positions == sorted(positions)
    assert "Follow-up" in html and "Next action" in html and "nothing scheduled" in html


def test_someone_elses_follow_up_is_not_the_volunteers_next_step(
    volunteer, volunteer_client, coordinator, team
):
    case = CaseFactory(
        team=team, assignee=volunteer, next_action_due=timezone.localdate() + timedelta(days=5)
    )
    Reminder.objects.create(
        kind=ReminderKind.FOLLOW_UP,
        due_at=timezone.now() + timedelta(hours=2),
        case=case,
        team=team,
        subject=case.reference,
        recipient=coordinator,
    )
    html = section(page(volunteer_client), "next-steps")
    assert "Next action" in html and "Follow-up" not in html


def test_overdue_says_why_for_a_passed_date_and_a_stage_over_its_limit(
    volunteer, volunteer_client, team
):
    late_date = CaseFactory(
        team=team, assignee=volunteer, next_action_due=timezone.localdate() - timedelta(days=2)
    )
    # Screening allows three days.
    slow = CaseFactory(
        team=team, assignee=volunteer, stage=Stage.SCREENING, stage_entered_at=ago(days=5)
    )
    fine = CaseFactory(
        team=team, assignee=volunteer, stage=Stage.SCREENING, stage_entered_at=ago(days=1)
    )
    closed = CaseFactory(
        team=team, assignee=volunteer, stage=Stage.CLOSED, stage_entered_at=ago(days=90)
    )
    html = section(page(volunteer_client), "next-steps")
    rows = {
        case: next(row for row in html.split("<li ")[1:] if f">{case.reference}<" in row)
        for case in (late_date, slow, fine)
    }
    assert "next action was due" in rows[late_date]
    assert "5 days in this stage, limit 3 days" in rows[slow]
    assert "badge-risk" not in rows[fine]
    assert closed.reference not in html


def test_nothing_to_answer_says_so_and_opens_the_volunteers_cases(
    volunteer, volunteer_client, team
):
    CaseFactory(team=team, assignee=volunteer)
    html = page(volunteer_client)
    assert "Nothing needs attention now." in section(html, "alarms")
    assert "overdue" not in section(html, "next-steps")
    # With nothing above it, the volunteer's own list is not folded away.
    assert re.search(r'<details class="panel fold" open>\s*<summary><h2 id="next-steps"', html)


def test_volunteers_funnel_counts_their_own_open_cases_only(
    volunteer, volunteer_client, team, other_team
):
    for _ in range(2):
        CaseFactory(team=team, assignee=volunteer, stage=Stage.SCREENING)
    CaseFactory(team=team, assignee=volunteer, stage=Stage.CLOSED)
    teammate = UserFactory(role=Role.VOLUNTEER, teams=[team])
    for _ in range(3):
        CaseFactory(team=team, assignee=teammate, stage=Stage.SCREENING)
    for _ in range(4):
        CaseFactory(team=other_team, stage=Stage.SCREENING)
    html = page(volunteer_client)
    assert funnel_count(html, "Screening") == 2
    assert funnel_count(html, "All open cases") == 2
    assert f"{reverse('casework:case_list')}?stage=screening" in section(html, "funnel")


def test_weekly_chart_counts_the_volunteers_teams_only(
    volunteer, volunteer_client, team, other_team
):
    for _ in range(3):
        IntakeRequestFactory(team=team)
    for _ in range(5):
        IntakeRequestFactory(team=other_team)
    IntakeRequestFactory(team=team, received_at=ago(weeks=20))  # before the chart
    arrival(CaseFactory(team=team))
    arrival(CaseFactory(team=other_team))
    arrival(CaseFactory(team=other_team))
    assert this_week(page(volunteer_client)) == (3, 1)


def test_kept_weekly_figures_are_each_team_sets_own(coordinator, coordinator_client, other_team):
    """The weekly figures are kept a minute per set of teams: one coordinator's never show
    on another's dashboard, and a second look within the minute costs fewer queries."""
    for _ in range(4):
        IntakeRequestFactory(team=other_team)
    IntakeRequestFactory(team=coordinator.teams.get())
    other = verified_client(UserFactory(role=Role.COORDINATOR, teams=[other_team]))
    assert this_week(page(coordinator_client))[0] == 1
    assert this_week(page(other))[0] == 4
    assert this_week(page(coordinator_client))[0] == 1
    with CaptureQueriesContext(connection) as first:
        cache.clear()
        page(other)
    with CaptureQueriesContext(connection) as second:
        page(other)
    assert len(second) <= len(first) - 3  # two weekly series and the overdue count


def test_a_crossing_is_a_move_from_crossing_to_arrived_only(coordinator_client, team):
    case = CaseFactory(team=team, stage=Stage.ARRIVED)
    arrival(case)
    arrival(case, from_stage=Stage.ON_HOLD)  # back from hold: no border crossed
    arrival(case, from_stage=Stage.FOLLOW_UP)  # a step back
    arrival(CaseFactory(team=team), when=ago(weeks=3))
    html = page(coordinator_client)
    assert this_week(html) == (0, 1)
    assert "moves on from Crossing to Arrived" in section(html, "weekly")


def test_volunteer_sees_no_other_teams_cases(volunteer_client, team, other_team):
    others = [
        CaseFactory(team=other_team, stage=stage, lost_contact_at=timezone.now())
        for stage in (Stage.NEW, Stage.SCREENING, Stage.CROSSING)
    ]
    request = IntakeRequestFactory(team=other_team)
    html = page(volunteer_client)
    for case in others:
        assert case.reference not in html
        assert case.person.codename not in html
    assert request.reference not in html


def test_volunteer_gets_no_coordinator_or_admin_panels(volunteer_client):
    html = page(volunteer_client)
    for heading in ('id="stuck"', 'id="security-events"', 'id="audit-health"'):
        assert heading not in html


# Coordinator -------------------------------------------------------------------------


@pytest.fixture
def second_team(coordinator):
    team = TeamFactory(name="East")
    coordinator.teams.add(team)
    return team


def test_coordinators_funnel_adds_up_all_their_teams_and_links_to_the_list(
    coordinator_client, team, second_team, other_team
):
    CaseFactory(team=team, stage=Stage.PLANNING)
    CaseFactory(team=second_team, stage=Stage.PLANNING)
    CaseFactory(team=second_team, stage=Stage.ON_HOLD)
    CaseFactory(team=other_team, stage=Stage.PLANNING)
    CaseFactory(team=team, stage=Stage.CLOSED)
    html = page(coordinator_client)
    assert funnel_count(html, "Planning") == 2
    assert funnel_count(html, "On hold") == 1
    assert funnel_count(html, "All open cases") == 3
    funnel = section(html, "funnel")
    assert 'role="group"' in funnel  # a group of links, not an image hiding them
    assert f'<a class="chart-link" href="{reverse("casework:case_list")}?stage=planning">' in funnel


def test_stuck_longest_orders_by_time_past_the_stage_limit(
    coordinator_client, team, second_team, other_team
):
    # Follow-up allows 30 days, new one day, planning a week.
    follow_up = CaseFactory(team=team, stage=Stage.FOLLOW_UP, stage_entered_at=ago(days=35))
    new = CaseFactory(team=second_team, stage=Stage.NEW, stage_entered_at=ago(days=3))
    planning = CaseFactory(team=team, stage=Stage.PLANNING, stage_entered_at=ago(days=2))
    elsewhere = CaseFactory(team=other_team, stage=Stage.NEW, stage_entered_at=ago(days=60))
    closed = CaseFactory(team=team, stage=Stage.CLOSED, stage_entered_at=ago(days=400))
    html = section(page(coordinator_client), "stuck")
    positions = [html.index(case.reference) for case in (follow_up, new, planning)]
    assert positions == sorted(positions)
    assert elsewhere.reference not in html and closed.reference not in html
    assert "5 days over" in html and "2 days over" in html
    assert "1 week" in html  # planning's limit


def test_stuck_longest_merges_the_teams_each_read_in_index_order(
    coordinator_client, team, second_team
):
    crowded = [
        CaseFactory(team=team, stage=Stage.NEW, stage_entered_at=ago(days=10 + number))
        for number in range(12)
    ]
    oldest = CaseFactory(team=second_team, stage=Stage.NEW, stage_entered_at=ago(days=40))
    html = section(page(coordinator_client), "stuck")
    shown = [case for case in crowded if case.reference in html]
    assert html.index(oldest.reference) < min(html.index(case.reference) for case in shown)
    # Ten in all: the other team's oldest and the nine longest waiting of this one.
    assert {case.reference for case in shown} == {case.reference for case in crowded[-9:]}


def test_coordinator_sees_how_many_requests_wait_and_the_oldest_by_reference_only(
    coordinator_client, team, other_team
):
    oldest = IntakeRequestFactory(
        team=team, received_at=ago(days=3), contact="+7 900 555-12-34", message="Summons came"
    )
    IntakeRequestFactory(team=team, received_at=ago(hours=2))
    IntakeRequestFactory(team=team, state="accepted")
    theirs = IntakeRequestFactory(team=other_team, received_at=ago(days=9))
    html = section(page(coordinator_client), "intake")
    assert "2 requests wait for triage." in html
    assert oldest.reference in html and "waiting 3" in html
    assert theirs.reference not in html
    assert "555-12-34" not in html and "Summons" not in html


def test_reassessment_tasks_are_urgent_alerts_for_the_teams_coordinators(
    coordinator_client, team, other_team
):
    ours = CaseFactory(team=team, stage=Stage.PLANNING)
    theirs = CaseFactory(team=other_team, stage=Stage.PLANNING)
    for case, state in ((ours, ReminderState.SENT), (theirs, ReminderState.SENT)):
        Reminder.objects.create(
            kind=ReminderKind.REASSESS,
            due_at=timezone.now(),
            case=case,
            team=case.team,
            subject=case.reference,
            urgent=True,
            state=state,
        )
    done = CaseFactory(team=team)
    Reminder.objects.create(
        kind=ReminderKind.REASSESS,
        due_at=timezone.now(),
        case=done,
        team=team,
        subject=done.reference,
        urgent=True,
        state=ReminderState.DONE,
    )
    html = section(page(coordinator_client), "alarms")
    assert ours.reference in html
    assert theirs.reference not in html and done.reference not in html


def test_coordinator_is_not_shown_the_admins_panels(coordinator_client):
    html = page(coordinator_client)
    assert 'id="security-events"' not in html and 'id="audit-health"' not in html


# Admin -------------------------------------------------------------------------------


def fact(html: str, label: str) -> str:
    found = re.search(rf"<dt>{label}</dt>\s*<dd>(.*?)</dd>", html, re.S)
    assert found, label
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_admin_sees_account_counts(admin_user, admin_client_verified, volunteer, coordinator):
    AuthenticatorFactory(user=volunteer)
    # The coordinator has no authenticator yet, nor has the account without a role below.
    contained = UserFactory(role=Role.VOLUNTEER, is_active=False)
    Containment.objects.create(
        user=contained, by=admin_user, since=ago(days=1), reason="phished", audit_seq=1
    )
    UserFactory(role=Role.VOLUNTEER, is_active=False)  # simply switched off
    UserFactory()  # made, but given no role yet
    locked = UserFactory(role=Role.VOLUNTEER)
    AuthenticatorFactory(user=locked)
    AccessAttempt.objects.create(
        username=locked.username,
        ip_address="203.0.113.7",
        user_agent="test",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        get_data="",
        post_data="",
        http_accept="",
        path_info="/account/login/",
    )
    # Failures under a name that is no account are not an account locked out.
    AccessAttempt.objects.create(
        username="hunter2-typed-as-name",
        ip_address="203.0.113.8",
        user_agent="test",
        failures_since_start=settings.AXES_FAILURE_LIMIT * 2,
        get_data="",
        post_data="",
        http_accept="",
        path_info="/account/login/",
    )
    # Each count is a link to the accounts it counts (tests/accounts/test_member_admin.py).
    html = re.sub(r"</?a\b[^>]*>", "", section(page(admin_client_verified), "accounts"))
    assert re.search(r">Volunteer</th><td class=\"number\">4</td><td class=\"number\">2</td>", html)
    assert re.search(
        r">Coordinator</th><td class=\"number\">1</td><td class=\"number\">1</td>", html
    )
    assert fact(html, "Locked out now") == "1"
    assert fact(html, "Active without a second factor") == "2"
    assert fact(html, "Contained") == "1"


def test_admin_sees_recent_security_events_and_nothing_more(
    admin_user, admin_client_verified, coordinator, volunteer, other_team
):
    case = CaseFactory(team=other_team, stage=Stage.PLANNING)
    record(Action.LOGIN_FAILED, actor=volunteer, target_type="user", target_ref=str(volunteer.pk))
    record(
        Action.BREAK_GLASS,
        actor=coordinator,
        target_type="case",
        target_ref=case.reference,
        reason="Her brother said the border guards took her phone",
    )
    record(Action.CASE_VIEWED, actor=volunteer, target_type="case", target_ref="C-2026-77777")
    record(Action.DEVICE_RESET, actor=admin_user, target_type="user", target_ref=str(volunteer.pk))
    html = section(page(admin_client_verified), "security-events")
    assert "Sign-in failed" in html and "Break-glass" in html and "Second factor reset" in html
    assert "volunteer1" in html and "coordinator1" in html and case.reference in html
    # The account reset is named, not numbered.
    reset = html.split("Second factor reset", 1)[1].split("</tr>", 1)[0]
    assert "admin1" in reset and "volunteer1" in reset
    assert "C-2026-77777" not in html  # an ordinary read is no security event
    assert "border guards" not in html


def test_security_events_list_the_latest_twenty(admin_client_verified, volunteer):
    for number in range(25):
        record(
            Action.LOGIN_FAILED, actor=volunteer, target_type="user", target_ref=f"9{number:03d}"
        )
    html = section(page(admin_client_verified), "security-events")
    assert "9024" in html and "9005" in html and "9004" not in html


def test_admin_sees_no_personal_data(admin_client_verified, volunteer, team):
    person = PersonFactory(codename="Heron-7", legal_name="Ivan Petrovich Sidorov")
    case = CaseFactory(
        team=team,
        person=person,
        assignee=volunteer,
        stage=Stage.CROSSING,
        lost_contact_at=timezone.now(),
        next_action_due=timezone.localdate() - timedelta(days=1),
    )
    IntakeRequestFactory(team=team, contact="+7 900 111-22-33")
    html = page(admin_client_verified)
    for secret in ("Heron-7", "Sidorov", case.reference, "111-22-33"):
        assert secret not in html
    assert funnel_count(html, "Crossing") == 1  # the group's numbers, though
    assert "chart-link" not in section(html, "funnel")  # and no way into the cases


def test_audit_health_reports_a_broken_chain(admin_client_verified, volunteer):
    for _ in range(3):
        record(Action.LOGIN, actor=volunteer, target_type="user", target_ref=str(volunteer.pk))
    html = section(page(admin_client_verified), "audit-health")
    assert fact(html, "Events in the log") == str(AccessEvent.objects.count())
    assert fact(html, "Chain check") == "no check recorded yet"
    # What the nightly check does when it finds a link broken.
    alert(InsiderAlert.Kind.CHAIN_BROKEN, seq=2)
    html = section(page(admin_client_verified), "audit-health")
    assert "broken at event #2" in fact(html, "Chain check")


def test_audit_health_reports_the_last_recorded_check(admin_client_verified, admin_user):
    record(Action.LOGIN, actor=admin_user, target_type="user", target_ref=str(admin_user.pk))
    verify_chain()  # the nightly task
    assert fact(section(page(admin_client_verified), "audit-health"), "Chain check").startswith(
        "intact, checked"
    )


def test_admin_sees_how_many_break_glass_opens_await_review(
    admin_client_verified, coordinator, other_team
):
    for reviewed in (None, None, timezone.now()):
        BreakGlass.objects.create(
            case=CaseFactory(team=other_team),
            user=coordinator,
            reason="r",
            expires_at=timezone.now(),
            reviewed_at=reviewed,
        )
    html = section(page(admin_client_verified), "audit-health")
    assert fact(html, "Break-glass opens to review") == "2"


# Every role --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["volunteer_client", "coordinator_client", "admin_client_verified"]
)
def test_charts_draw_with_plain_numbers_in_russian(request, persona, team, volunteer):
    CaseFactory(team=team, assignee=volunteer, stage=Stage.SCREENING)
    IntakeRequestFactory(team=team)
    html = page(request.getfixturevalue(persona), HTTP_ACCEPT_LANGUAGE="ru")
    assert "Обзор" in html
    svgs = re.findall(r"<svg class=\"chart-svg.*?</svg>", html, re.S)
    assert svgs
    for svg in svgs:
        # Russian writes 12,5: an SVG reads that as two numbers and draws nonsense.
        assert not re.search(r'(?:x|y|width|height|x1|x2|y1|y2)="[^"]*,', svg)
        assert "style=" not in svg


# Queries do not grow with rows -------------------------------------------------------


def fill(team, volunteer, count: int) -> None:
    """`count` cases of every sort in the team, half the volunteer's, with events,
    reminders and requests around them."""
    start = Person.objects.count()
    people = Person.objects.bulk_create(
        Person(codename=f"Fill-{start + n:06d}", category="deserter") for n in range(count)
    )
    stages = list(Stage)
    cases = Case.objects.bulk_create(
        Case(
            reference=f"C-2026-{start + n + 20000:05d}",
            person=person,
            team=team,
            stage=stages[n % len(stages)],
            stage_entered_at=ago(days=n % 40),
            assignee=volunteer if n % 2 else None,
            lost_contact_at=timezone.now() if n % 7 == 0 else None,
            next_action_due=timezone.localdate() + timedelta(days=n % 9 - 4),
        )
        for n, person in enumerate(people)
    )
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case=case,
            kind=EventKind.STAGE,
            from_stage=Stage.CROSSING,
            to_stage=Stage.ARRIVED,
            created_at=ago(days=n % 80),
        )
        for n, case in enumerate(cases)
    )
    Reminder.objects.bulk_create(
        Reminder(
            kind=kind,
            due_at=timezone.now() + timedelta(hours=n % 50 - 10),
            case=case,
            team=team,
            subject=case.reference,
            recipient=volunteer if kind == ReminderKind.FOLLOW_UP else None,
            urgent=kind in (ReminderKind.REASSESS, ReminderKind.CROSSING_CHECK_IN),
            state=ReminderState.SENT if kind == ReminderKind.REASSESS else ReminderState.PENDING,
        )
        for n, case in enumerate(cases)
        for kind in (ReminderKind.FOLLOW_UP, ReminderKind.STAGE_OVERDUE, ReminderKind.REASSESS)
    )
    IntakeRequest.objects.bulk_create(
        IntakeRequest(
            reference=f"R-2026-{start + n + 20000:05d}",
            team=team,
            channel="phone",
            received_at=ago(days=n % 80),
            contact="@fill",
            logged_by=volunteer,
        )
        for n in range(count)
    )
    for n in range(count // 10):
        record(Action.LOGIN_FAILED, actor=volunteer, target_type="user", target_ref=str(n))


@pytest.mark.parametrize(
    "persona", ["volunteer_client", "coordinator_client", "admin_client_verified"]
)
def test_the_dashboard_stays_flat(request, persona, volunteer, team, django_assert_max_num_queries):
    client = request.getfixturevalue(persona)
    fill(team, volunteer, 10)
    with django_assert_max_num_queries(40) as captured:
        page(client)
    few = len(captured.captured_queries)
    fill(team, volunteer, 600)
    with django_assert_max_num_queries(few):
        html = page(client)
    assert "<svg" in html
