"""seed_demo: the demo data `make run` shows and `make bench` measures."""

import re
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from accounts.models import Team, User
from audit.log import verify
from audit.models import AccessEvent
from casework import scheduling
from casework.models import (
    ApprovalRequest,
    ApprovalState,
    Case,
    CaseTransfer,
    EventKind,
    Notification,
    Person,
    PersonIndex,
    Reminder,
    ReminderKind,
    ReminderState,
    Stage,
    TransferState,
)
from destinations.models import DestinationRisk
from destinations.selectors import warning_for
from intake.models import Channel, Direction, IntakeRequest, TriageState
from operations.management.commands.seed_demo import DEMO_TEAM, DETAIL_EVENTS, EVENTS_PER_CASE

CYRILLIC = re.compile("[\u0400-\u04ff]")


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
    waiting = IntakeRequest.objects.filter(state=TriageState.NEW, team__name=DEMO_TEAM)
    # Five logged by volunteers, two that came in through the bot and the public form.
    assert waiting.filter(logged_by__isnull=False).count() == 5
    assert waiting.filter(logged_by__isnull=True).count() == 2


def test_the_audit_events_it_appends_keep_the_chain_verifiable(seeded):
    result = verify()
    assert result.broken_seq is None, result
    assert result.checked == AccessEvent.objects.count() > 50


def test_running_it_again_adds_nothing(seeded):
    seed()
    assert Case.objects.count() == 50
    assert verify().broken_seq is None


# The demo `make run` shows: the default size, read as the demo team's coordinator would.


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", seed=7, stdout=StringIO(), stderr=StringIO())
    # What the worker does in its first minute: due reminders out, lost contact raised.
    scheduling.dispatch_due()
    return Team.objects.get(name=DEMO_TEAM)


def test_the_demo_team_has_three_cases_in_each_stage(demo):
    per_stage = Case.objects.filter(team=demo).values("stage").annotate(n=Count("pk"))
    assert {row["stage"]: row["n"] for row in per_stage} == dict.fromkeys(Stage.values, 3)


def test_the_demo_starts_with_a_few_alarms_not_a_fire_drill(demo):
    coordinator = User.objects.get(username="demo-coordinator")
    lost = Case.objects.filter(team=demo, lost_contact_at__isnull=False).count()
    assert 1 <= lost <= 2
    urgent = Notification.objects.filter(user=coordinator, urgent=True).count()
    assert 1 <= urgent <= 5
    overdue = Reminder.objects.filter(
        team=demo, kind=ReminderKind.STAGE_OVERDUE, state=ReminderState.SENT
    ).count()
    assert overdue <= 4
    assert Notification.objects.filter(user=coordinator).count() <= 12


def test_times_in_stage_fit_each_cases_age(demo):
    now = timezone.now()
    for case in Case.objects.prefetch_related("events"):
        assert case.created_at <= case.stage_entered_at <= now, case.reference
        moves = sorted(
            (event for event in case.events.all() if event.kind == EventKind.STAGE),
            key=lambda event: event.created_at,
        )
        if moves:
            assert moves[-1].to_stage == case.stage, case.reference
            assert moves[-1].created_at == case.stage_entered_at, case.reference
        if case.last_contact_at is not None:
            assert case.created_at <= case.last_contact_at <= now, case.reference


def test_crossings_are_inside_their_window_and_check_in_after_it(demo, settings):
    now = timezone.now()
    grace = timedelta(hours=settings.CROSSING_GRACE_HOURS)
    crossing = Case.objects.filter(stage=Stage.CROSSING)
    assert crossing.exists()
    for case in crossing:
        assert case.crossing_window_start <= now <= case.crossing_window_end
        check_in = Reminder.objects.get(case=case, kind=ReminderKind.CROSSING_CHECK_IN)
        assert check_in.due_at == case.crossing_window_end + grace
        assert check_in.state == ReminderState.PENDING
    for case in Case.objects.filter(stage__in=[Stage.ARRIVED, Stage.FOLLOW_UP]):
        assert case.crossing_window_end < now
        arrived = case.events.filter(kind=EventKind.STAGE, to_stage=Stage.ARRIVED).get()
        assert case.crossing_window_start <= arrived.created_at


def test_the_demo_team_shows_the_register_an_approval_and_a_transfer(demo):
    assert DestinationRisk.objects.count() >= 2
    warned = Case.objects.get(team=demo, stage=Stage.PLANNING, destination_country="KZ")
    assert warned.flag_wanted and warning_for("KZ", wanted=True) is not None
    approval = ApprovalRequest.objects.get(case__team=demo, state=ApprovalState.PENDING)
    assert approval.case.events.filter(kind=EventKind.APPROVAL).exists()
    assert CaseTransfer.objects.filter(case__team=demo, state=TransferState.PENDING).count() == 1
    assert verify().broken_seq is None


def test_people_have_russian_names_but_where_their_case_says_english(demo):
    people = list(Person.objects.all())
    cyrillic = [person for person in people if CYRILLIC.search(person.legal_name)]
    assert len(cyrillic) >= 0.9 * len(people)
    for person in people:
        if not CYRILLIC.search(person.legal_name):
            assert person.preferred_language == "en", person.legal_name
        assert CYRILLIC.search(person.current_location), person.current_location


def test_the_readme_says_how_to_choose_the_port():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    run = (Path(__file__).resolve().parents[2] / "bin" / "run-embedded").read_text()
    assert 'PORT="${PORT:-8000}"' in run
    assert "PORT=" in readme
    assert "3 per stage" in readme


def test_the_demo_attaches_a_photo_and_a_pdf_that_were_cleaned_and_encrypted(demo):
    """A newcomer sees the cleaning at work: the photo had GPS in its EXIF and the PDF an
    author and a script; what is stored is ciphertext holding neither, nor the texts."""
    from django.conf import settings as django_settings

    from documents import vault
    from documents.models import Document

    documents = list(Document.objects.filter(case__team=demo).order_by("number"))
    assert [d.content_type for d in documents] == ["image/jpeg", "application/pdf"]
    photo, decision = (vault.read(d.storage_name) for d in documents)
    assert b"Demo camera" not in photo and b"GPS" not in photo
    assert b"Demo Author" not in decision and b"/JavaScript" not in decision
    root = Path(django_settings.STORAGES["documents"]["OPTIONS"]["location"])
    stored = [path.read_bytes() for path in root.iterdir()]
    assert len(stored) == 2
    for raw in stored:
        for signature in (b"\xff\xd8\xff", b"%PDF", "Повестка".encode(), b"Demo"):
            assert signature not in raw


def test_the_demo_team_has_people_who_wrote_in_through_the_bot_and_the_form(demo):
    bot = IntakeRequest.objects.get(team=demo, channel=Channel.TELEGRAM, logged_by=None)
    assert bot.messages.filter(direction=Direction.IN).count() == 2
    reply = bot.messages.get(direction=Direction.OUT)
    assert reply.sent_by is not None and reply.text
    form = IntakeRequest.objects.get(team=demo, channel=Channel.WEB_FORM, logged_by=None)
    assert form.contact == "—" and form.messages.count() == 1
