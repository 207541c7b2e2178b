"""seed_demo: the demo data `make run` shows and `make bench` measures."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from audit.log import verify
from audit.models import AccessEvent
from casework.models import Case, PersonIndex, Reminder, ReminderKind, Stage
from intake.models import IntakeRequest, TriageState
from operations.management.commands.seed_demo import DEMO_TEAM, DETAIL_EVENTS, EVENTS_PER_CASE


def seed(cases: int = 50, teams: int = 5) -> None:
    call_command(
        "seed_demo", cases=cases, teams=teams, seed=1, stdout=StringIO(), stderr=StringIO()
    )


@pytest.fixture
def seeded(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the demo password file
    seed()


def test_it_writes_cases_over_every_stage_and_team_with_everything_around_them(seeded):
    assert Case.objects.count() == 50
    assert set(Case.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert Case.objects.values("team").distinct().count() == 5
    timelines = Case.objects.annotate(events_count=Count("events"))
    assert min(case.events_count for case in timelines) >= EVENTS_PER_CASE
    first = timelines.filter(team__name=DEMO_TEAM).order_by("pk").first()
    assert first.events_count == DETAIL_EVENTS
    person = first.person
    assert person.legal_name and person.phone
    assert PersonIndex.objects.filter(person=person, kind="phone").exists()
    assert set(Reminder.objects.values_list("kind", flat=True)) >= {
        ReminderKind.STAGE_OVERDUE,
        ReminderKind.CROSSING_CHECK_IN,
        ReminderKind.TRANSIT_CHECK_IN,
        ReminderKind.FOLLOW_UP,
        ReminderKind.UNTRIAGED_INTAKE,
    }
    assert IntakeRequest.objects.filter(state=TriageState.ACCEPTED).count() == 50
    assert IntakeRequest.objects.filter(state=TriageState.NEW, team__name=DEMO_TEAM).count() == 5


def test_the_audit_events_it_appends_keep_the_chain_verifiable(seeded):
    result = verify()
    assert result.broken_seq is None, result
    assert result.checked == AccessEvent.objects.count() > 50


def test_running_it_again_adds_nothing(seeded):
    seed()
    assert Case.objects.count() == 50
    assert verify().broken_seq is None
