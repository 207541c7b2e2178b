"""Demo data for the embedded default, and realistic fake data at scale for benchmarks.

    python manage.py seed_demo                  # 300 cases over 10 teams (make run)
    python manage.py seed_demo --cases 100000   # the benchmark size, in a few minutes

Rows are written with bulk inserts, in one transaction: people with every encrypted field
and their blind indexes, cases over every stage and every team, at least five timeline
events each (the first case of the demo team has fifty, for the case-page benchmark), the
request each case came from, reminders of every kind, requests waiting for triage, and the
audit events all of that would have written, appended to the hash chain so it still verifies.

A believable group, not a fire drill: most cases are within their stage's time limit and
heard from within its silence limit; per team one case is overdue in screening and one in
preparation, one in transit has just missed its check-in and one in follow-up has gone
silent (the dispatcher raises both as lost contact within a minute); a crossing is under
way inside its window with its check-in due after it. Every case's stages follow one
another in time up to the time it entered its stage. People have Russian names and places
(English only for the few whose preferred language is English). The demo team also gets,
through the real services: three destination-register entries (one extraditing, and a
wanted person planning to go there, so the warning shows), a move waiting for the
coordinator's approval and, with a second team, a transfer waiting for its answer.
"""

import io
import os
import random
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pikepdf
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from faker import Faker
from PIL import ExifTags, Image

from accounts.models import Team, User
from accounts.roles import Role
from audit.addresses import kept_since
from audit.log import seal
from audit.models import AccessEvent, Action
from casework import scheduling, workflow
from casework.models import (
    Case,
    CaseEvent,
    Category,
    EventKind,
    Outcome,
    Person,
    PersonIndex,
    ReferenceCounter,
    Reminder,
    ReminderKind,
    Stage,
)
from casework.references import CASE_PREFIX, REQUEST_PREFIX
from casework.services.approvals import approval_ask
from casework.services.cases import person_digests
from casework.services.handover import case_transfer_ask
from casework.workflow import FORWARD
from destinations.models import DestinationRisk
from destinations.services import destination_add
from documents.models import DocumentKind
from documents.services import document_attach
from intake.conversations import conversation_receive, reply_send
from intake.models import Channel, IntakeIndex, IntakeRequest, TriageState
from privacy import blind_index

DEMO_TEAM = "Demo team"
DEMO_USERS = {
    "demo-volunteer": Role.VOLUNTEER,
    "demo-coordinator": Role.COORDINATOR,
    "demo-admin": Role.ADMIN,
}
# Volunteers per team besides the demo ones; they have no password and cannot sign in.
EXTRA_VOLUNTEERS = 3
DETAIL_EVENTS = 50  # the demo team's first case: the timeline a case page must render
EVENTS_PER_CASE = 5
WAITING_REQUESTS = 5  # per team, untriaged
CHUNK = 2_000
AUDIT_BATCH = 10_000
HISTORY_DAYS = 720

DESTINATIONS = ["GE", "AM", "KZ", "RS", "TR", "DE", "FR", "LT", "MN", "AR"]
# Written by Russian-speaking volunteers, as the real ones are.
NOTES = [
    "Перезвонил, всё спокойно.",
    "Спрашивал про документы для ребёнка.",
    "Предпочитает Signal, не Telegram.",
    "Пришлёт фото повестки.",
    "Нужна консультация юриста.",
    "Родственники в курсе, помогут деньгами.",
]
REQUEST_MESSAGE = "Пришла повестка, нужен совет, как уехать."
ROUTE_SUMMARY = "Автобусом до границы, дальше на машине."
FOLLOW_UP_NOTE = "Перезвонить насчёт документов."
# One person in ENGLISH_EVERY says in their case that they prefer English (a foreigner
# serving under contract): their name is English too.
ENGLISH_EVERY = 15
# Per team and stage, the n-th case (n counted in tens) that is overdue, or out of touch.
OVERDUE_STAGES = (Stage.SCREENING, Stage.PREPARATION)
OVERDUE_SLOT, OUT_OF_TOUCH_SLOT = 2, 0
# The register entries the demo team starts with: (country, extradites, incidents).
SAFE_DESTINATIONS = [code for code in DESTINATIONS if code != "KZ"]
REGISTER = [
    ("KZ", "yes", "2023: двое задержаны по запросу России, один выдан."),
    ("AM", "unknown", "Были задержания на границе, выдач не известно."),
    ("GE", "no", ""),
]
TIMELINE_FILL = (EventKind.NOTE, EventKind.CHECK_IN, EventKind.CONTACT)
AUDIT_ACTION: dict[str, Action] = {
    EventKind.CREATED: Action.CASE_OPENED,
    EventKind.STAGE: Action.CASE_MOVED,
    EventKind.NOTE: Action.CASE_NOTE,
    EventKind.CHECK_IN: Action.CASE_NOTE,
    EventKind.CONTACT: Action.CASE_NOTE,
}


def demo_password() -> str:
    """One random demo password per machine, kept in var/ for the owner only."""
    path = settings.VAR_DIR / "demo-password"
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    password = "demo-" + secrets.token_urlsafe(12)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(password)
    return password


def team_name(number: int) -> str:
    return DEMO_TEAM if number == 0 else f"Demo team {number + 1}"


def reserve_references(prefix: str, count: int) -> list[str]:
    """`count` consecutive references in one UPDATE, instead of one transaction each."""
    year = timezone.now().year
    counter, _created = ReferenceCounter.objects.select_for_update().get_or_create(
        prefix=prefix, year=year
    )
    ReferenceCounter.objects.filter(pk=counter.pk).update(last=F("last") + count)
    return [f"{prefix}-{year}-{counter.last + n:05d}" for n in range(1, count + 1)]


class Progress:
    """A progress bar on stderr; one line per tenth when stderr is not a terminal."""

    def __init__(self, label: str, total: int, stream=sys.stderr):
        self.label, self.total, self.stream = label, max(total, 1), stream
        self.started = time.perf_counter()
        self.tty = stream.isatty()
        self.shown_tenth = -1

    def update(self, done: int) -> None:
        share = min(done / self.total, 1.0)
        elapsed = time.perf_counter() - self.started
        text = f"{self.label} {done:,}/{self.total:,} {share:4.0%} {elapsed:5.1f} s"
        if self.tty:
            bar = "#" * int(share * 30)
            self.stream.write(f"\r[{bar:<30}] {text}")
            if done >= self.total:
                self.stream.write("\n")
        elif int(share * 10) > self.shown_tenth:
            self.shown_tenth = int(share * 10)
            self.stream.write(text + "\n")
        self.stream.flush()


@dataclass
class Crew:
    """A team and the people working it."""

    team: Team
    coordinator: User
    volunteers: list[User]


@dataclass
class Pools:
    """Fake values drawn once: Faker is too slow to call a million times."""

    names: list[str] = field(default_factory=list)
    english_names: list[str] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """When a case's stages happened, worked out before any row is written so the case,
    its timeline and its reminders agree."""

    number: int
    crew: Crew
    stage: Stage
    held_from: str
    # The forward stages reached, each with the time it was entered (the first is New).
    steps: list[tuple[Stage, datetime]]
    entered: datetime  # the current stage
    last_contact: datetime | None
    overdue: bool = False
    missed_check_in: bool = False
    silent: bool = False

    @property
    def opened(self) -> datetime:
        return self.steps[0][1]

    @property
    def position(self) -> int:
        """How far forward the case got (0 for New)."""
        return len(self.steps) - 1


class Command(BaseCommand):
    help = "Fills the embedded default with demo teams, users per role and fake cases."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=300, help="Fake cases to add (300).")
        parser.add_argument("--teams", type=int, default=10, help="Teams to spread them over.")
        parser.add_argument("--seed", type=int, default=None, help="Random seed.")

    def handle(self, *args, cases: int, teams: int, seed: int | None, **options):
        if not settings.EMBEDDED:
            raise CommandError("seed_demo only runs on the embedded default (SAFE_PASSAGE_MODE).")
        if teams < 1:
            raise CommandError("--teams must be at least 1.")
        password = demo_password()
        crews = self.accounts(password, teams)
        demo_team = crews[0].team
        if cases and not Case.objects.filter(team=demo_team).exists():
            started = time.perf_counter()
            rng = random.Random(seed)  # noqa: S311 (fake data)
            Seeder(crews, rng, getattr(self.stderr, "_out", sys.stderr), cases).run(cases)
            if connection.vendor == "postgresql":
                # Fresh statistics: the planner would otherwise guess 400 rows for a team
                # of 10,000 and pick plans for the guess.
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            self.stdout.write(f"Seeded {cases:,} cases in {time.perf_counter() - started:.1f} s.")
        self.stdout.write("Demo accounts (an authenticator app is set up at first sign-in):")
        for username, role in DEMO_USERS.items():
            self.stdout.write(f"  {username:<18} {role.label}")
        self.stdout.write(f"Demo password: {password}")
        self.stdout.write(
            f"Demo data: {Case.objects.filter(team=demo_team).count()} cases in {DEMO_TEAM}, "
            f"{IntakeRequest.objects.filter(team=demo_team, state='new').count()} requests "
            "to triage."
        )

    @transaction.atomic
    def accounts(self, password: str, team_count: int) -> list[Crew]:
        groups = {role: Group.objects.get(name=role) for role in Role}
        users = {}
        for username, role in DEMO_USERS.items():
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(username, password, is_staff=role == Role.ADMIN)
            user.groups.add(groups[role])
            users[username] = user
        crews = []
        for number in range(team_count):
            team, _ = Team.objects.get_or_create(name=team_name(number))
            if number == 0:
                coordinator, volunteers = users["demo-coordinator"], [users["demo-volunteer"]]
            else:
                coordinator = self.member(
                    f"demo-{number + 1}-coordinator", groups[Role.COORDINATOR]
                )
                volunteers = [self.member(f"demo-{number + 1}-volunteer", groups[Role.VOLUNTEER])]
            volunteers += [
                self.member(f"demo-{number + 1}-volunteer-{extra}", groups[Role.VOLUNTEER])
                for extra in range(2, EXTRA_VOLUNTEERS + 2)
            ]
            for user in (coordinator, *volunteers):
                user.teams.add(team)
            crews.append(Crew(team, coordinator, volunteers))
        return crews

    @staticmethod
    def member(username: str, group: Group) -> User:
        """A team member without a password: assignee and actor of fake cases only."""
        user = User.objects.filter(username=username).first() or User.objects.create_user(
            username, None
        )
        user.groups.add(group)
        return user


class Seeder:
    """Writes `count` cases with everything around them; call `run` once per database."""

    def __init__(self, crews: list[Crew], rng: random.Random, stream, count: int):
        self.crews, self.rng, self.stream = crews, rng, stream
        self.pool_size = max(count, 10)
        self.now = timezone.now()
        self.stages = [*FORWARD, Stage.ON_HOLD, Stage.CLOSED]
        # (time, action, actor id, reference, team id): chained in time order at the end.
        self.audit: list[tuple[datetime, str, int | None, str, int, str]] = []
        self.pools = self.fake_pools()

    def fake_pools(self) -> Pools:
        pools = Pools()
        faker = Faker("ru_RU")
        faker.seed_instance(self.rng.random())
        pools.names = [faker.name() for _ in range(min(400, self.pool_size))]
        pools.cities = [faker.city_name() for _ in range(min(100, self.pool_size))]
        pools.handles = [faker.user_name() for _ in range(min(400, self.pool_size))]
        english = Faker("en_US")
        english.seed_instance(self.rng.random())
        pools.english_names = [english.name() for _ in range(min(40, self.pool_size))]
        return pools

    @transaction.atomic
    def run(self, count: int) -> None:
        case_refs = reserve_references(CASE_PREFIX, count)
        request_refs = reserve_references(
            REQUEST_PREFIX, count + WAITING_REQUESTS * len(self.crews)
        )
        first_codename = Person.objects.count()
        progress = Progress("cases", count, self.stream)
        for start in range(0, count, CHUNK):
            numbers = range(start, min(start + CHUNK, count))
            self.chunk(numbers, case_refs, request_refs, first_codename)
            progress.update(numbers.stop)
        self.waiting_requests(request_refs[count:])
        self.append_audit()
        self.demo_extras()

    # Cases ---------------------------------------------------------------------------------

    def chunk(self, numbers: range, case_refs, request_refs, first_codename: int) -> None:
        rng, pools = self.rng, self.pools
        people, plans = [], []
        for number in numbers:
            plan = self.plan(number)
            handle = rng.choice(pools.handles)
            english = number % ENGLISH_EVERY == ENGLISH_EVERY - 1
            people.append(
                Person(
                    codename=f"Demo-{first_codename + number + 1:06d}",
                    category=rng.choice(Category.values),
                    legal_name=rng.choice(pools.english_names if english else pools.names),
                    preferred_language="en" if english else "ru",
                    birth_date=(self.now - timedelta(days=rng.randint(18 * 365, 55 * 365))).date(),
                    phone=(
                        f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-"
                        f"{rng.randint(10, 99)}-{rng.randint(10, 99)}"
                    ),
                    messenger_handles=f"@{handle}{rng.randint(1, 9999)}",
                    email=f"{handle}{rng.randint(1, 9999)}@example.org",
                    current_location=rng.choice(pools.cities),
                    military_unit=f"в/ч {rng.randint(10000, 99999)}",
                    notes=rng.choice(NOTES),
                    created_at=plan.opened,
                )
            )
            plans.append(plan)
        Person.objects.bulk_create(people)
        PersonIndex.objects.bulk_create(
            PersonIndex(person=person, kind=kind, digest=value, source=source)
            for person in people
            for kind, value in sorted(person_digests(person))
            for source in (PersonIndex.DETAILS, PersonIndex.INTAKE)
            if source == PersonIndex.DETAILS or kind == blind_index.Kind.PHONE
        )
        cases = Case.objects.bulk_create(
            self.case(plan, person, case_refs[plan.number])
            for plan, person in zip(plans, people, strict=True)
        )
        events, reminder_rows, requests = [], [], []
        for plan, case in zip(plans, cases, strict=True):
            count = DETAIL_EVENTS if plan.number == 0 else EVENTS_PER_CASE
            events += self.timeline(case, plan, count)
            reminder_rows += self.reminders_for(case, plan)
            requests.append(self.origin_request(case, plan.crew, request_refs[plan.number]))
        CaseEvent.objects.bulk_create(events, batch_size=CHUNK)
        Reminder.objects.bulk_create(reminder_rows, batch_size=CHUNK)
        IntakeRequest.objects.bulk_create(requests, batch_size=CHUNK)
        IntakeIndex.objects.bulk_create(
            IntakeIndex(request=request, kind=kind, digest=value)
            for request in requests
            for kind, value in blind_index.contact_digests(request.contact)
        )
        for case in cases:
            seen = case.created_at + (self.now - case.created_at) * self.rng.random()
            actor = case.assignee_id or case.coordinator_id
            self.audit.append(
                (seen, Action.CASE_VIEWED, actor, case.reference, case.team_id, "case")
            )

    def plan(self, number: int) -> Plan:
        """The case's stage, how long it has been there (mostly within the stage's limits)
        and, counted back from that, when it entered each earlier stage."""
        rng, now = self.rng, self.now
        teams = len(self.crews)
        crew = self.crews[number % teams]
        stage = self.stages[(number // teams) % len(self.stages)]
        # Which of this team's cases in this stage it is, counted in tens.
        slot = (number // (teams * len(self.stages))) % 10
        held_from = (
            rng.choice([Stage.PLANNING, Stage.PREPARATION]) if stage == Stage.ON_HOLD else ""
        )
        overdue = stage in OVERDUE_STAGES and slot == OVERDUE_SLOT
        missed = stage == Stage.IN_TRANSIT and slot == OUT_OF_TOUCH_SLOT
        silent = stage == Stage.FOLLOW_UP and slot == OUT_OF_TOUCH_SLOT
        limit = scheduling.stage_limit(stage)
        silence = workflow.rule(stage).silence_limit
        if stage == Stage.CLOSED:
            in_stage = timedelta(days=rng.uniform(1, HISTORY_DAYS - 60))
        elif overdue and limit:
            in_stage = limit * rng.uniform(1.1, 1.5)
        elif missed:
            # Entered 13 to 16 hours ago and not heard from since: the 12-hour check-in is due.
            in_stage = timedelta(hours=settings.TRANSIT_CHECK_IN_HOURS + rng.uniform(1, 4))
        elif silent and silence:
            in_stage = silence * rng.uniform(1.05, 1.2)
        elif stage in (Stage.IN_TRANSIT, Stage.CROSSING):
            in_stage = timedelta(hours=rng.uniform(2, 10))
        else:
            in_stage = (limit or timedelta(days=14)) * rng.uniform(0.1, 0.8)
        entered = now - in_stage
        # The forward stages it went through, each a few hours to a few days long.
        if stage in FORWARD:
            reached = FORWARD.index(stage)
        elif stage == Stage.ON_HOLD:
            reached = FORWARD.index(held_from)
        else:
            reached = rng.randint(0, len(FORWARD) - 1)
        moment = entered
        steps: list[tuple[Stage, datetime]] = []
        if stage not in FORWARD:
            moment -= timedelta(days=rng.uniform(0.5, 7))
        for step in range(reached, -1, -1):
            steps.append((FORWARD[step], moment))
            moment -= timedelta(hours=rng.uniform(3, 24 * 5))
        steps.reverse()
        if stage in FORWARD:
            steps[-1] = (stage, entered)
        if stage == Stage.NEW:
            last_contact = None
        elif missed:
            last_contact = entered + timedelta(minutes=rng.randint(5, 30))
        elif silent:
            last_contact = entered
        elif stage == Stage.CLOSED:
            last_contact = entered - timedelta(hours=rng.uniform(1, 48))
        else:
            # Heard from since entering the stage, well within its silence limit.
            window = min(in_stage, silence or in_stage)
            last_contact = now - window * rng.uniform(0.05, 0.9)
        return Plan(
            number=number,
            crew=crew,
            stage=stage,
            held_from=held_from,
            steps=steps,
            entered=entered,
            last_contact=last_contact,
            overdue=overdue,
            missed_check_in=missed,
            silent=silent,
        )

    def case(self, plan: Plan, person, reference) -> Case:
        rng, now = self.rng, self.now
        position, stage = plan.position, plan.stage
        unassigned = stage == Stage.NEW and rng.random() < 0.5
        crossing = dict(plan.steps).get(Stage.CROSSING)
        window: tuple[datetime | None, datetime | None]
        if stage == Stage.CROSSING:
            # Under way: the window opened before the stage was entered and closes later today
            # or tomorrow; the check-in is due after it (reminders_for).
            window = (plan.entered - timedelta(hours=2), now + timedelta(hours=rng.uniform(6, 30)))
        elif crossing is not None:
            # Over: it closed by the time the case moved on from the crossing.
            after = [when for _, when in plan.steps if when > crossing] or [plan.entered]
            window = (crossing - timedelta(hours=2), min(crossing + timedelta(hours=22), after[0]))
        elif stage == Stage.PREPARATION and rng.random() < 0.5:
            start = now + timedelta(days=rng.uniform(3, 14))
            window = (start, start + timedelta(hours=24))
        else:
            window = (None, None)
        return Case(
            reference=reference,
            person=person,
            team=plan.crew.team,
            stage=stage,
            held_from=plan.held_from,
            stage_entered_at=plan.entered,
            outcome=rng.choice(Outcome.values) if stage == Stage.CLOSED else "",
            assignee=None if unassigned else rng.choice(plan.crew.volunteers),
            coordinator=plan.crew.coordinator,
            flag_wanted=rng.random() < 0.2,
            flag_criminal_case=rng.random() < 0.1,
            flag_internal_passport_only=rng.random() < 0.05,
            flag_dependants=rng.random() < 0.3,
            flag_health=rng.random() < 0.05,
            risk_reviewed_at=plan.steps[2][1] if position >= 2 else None,
            # Not a country the register marks as extraditing: the demo team's one case
            # headed there is made on purpose (Seeder.demo_cases).
            destination_country=rng.choice(SAFE_DESTINATIONS) if position >= 2 else "",
            route_summary=ROUTE_SUMMARY if position >= 2 else "",
            readiness_confirmed=position >= 4
            or (stage == Stage.PREPARATION and rng.random() < 0.5),
            crossing_window_start=window[0],
            crossing_window_end=window[1],
            next_action_due=(
                None if stage == Stage.CLOSED else (now + timedelta(days=rng.randint(1, 14))).date()
            ),
            last_contact_at=plan.last_contact,
            created_at=plan.opened,
            updated_at=max(plan.entered, plan.last_contact or plan.entered),
            version=len(plan.steps) + (stage not in FORWARD),
        )

    def timeline(self, case: Case, plan: Plan, count: int) -> list[CaseEvent]:
        """Opened, every stage it went through at the time it did, then notes, check-ins
        and contacts between; the last contact is the one the case records."""
        rng = self.rng
        worker = case.assignee or plan.crew.coordinator
        events = [
            CaseEvent(
                case=case,
                kind=EventKind.CREATED,
                actor=worker,
                created_at=plan.opened,
                to_stage=Stage.NEW,
                version=1,
            )
        ]
        moves = [
            (previous, current, when)
            for (previous, _), (current, when) in zip(plan.steps, plan.steps[1:], strict=False)
        ]
        if case.stage not in FORWARD:
            moves.append((plan.steps[-1][0], Stage(case.stage), case.stage_entered_at))
        for version, (previous, current, when) in enumerate(moves, start=2):
            closed = current == Stage.CLOSED
            events.append(
                CaseEvent(
                    case=case,
                    kind=EventKind.STAGE,
                    actor=plan.crew.coordinator,
                    version=version,
                    created_at=when,
                    from_stage=previous,
                    to_stage=current,
                    facts={"code": "closed", "outcome": case.outcome} if closed else {},
                )
            )
        last_contact = case.last_contact_at
        if last_contact is not None:
            # An arrival, a journey or a crossing is confirmed by a check-in, the rest by a
            # contact.
            on_the_road = case.stage in (Stage.IN_TRANSIT, Stage.CROSSING, Stage.ARRIVED)
            events.append(
                CaseEvent(
                    case=case,
                    kind=EventKind.CHECK_IN if on_the_road else EventKind.CONTACT,
                    actor=worker,
                    created_at=last_contact,
                    text=rng.choice(NOTES),
                    version=case.version,
                )
            )
        # The rest: notes at any time, contacts and check-ins only before the last contact.
        until = last_contact or self.now
        span = max((until - plan.opened).total_seconds(), 3600)
        for n in range(count - len(events)):
            kind = TIMELINE_FILL[n % len(TIMELINE_FILL)]
            events.append(
                CaseEvent(
                    case=case,
                    kind=kind,
                    actor=worker,
                    created_at=plan.opened + timedelta(seconds=rng.uniform(60, span)),
                    text=rng.choice(NOTES),
                    version=case.version,
                )
            )
        for event in events:
            action = AUDIT_ACTION[event.kind]
            self.audit.append(
                (event.created_at, action, event.actor_id, case.reference, case.team_id, "case")
            )
        return events

    def reminders_for(self, case: Case, plan: Plan) -> list[Reminder]:
        """The reminders the case's stage scheduled when it was entered, as
        casework.scheduling would have: due later, but for the few planned otherwise."""
        if case.stage == Stage.CLOSED:
            return []
        now, rng = self.now, self.rng
        common = {"case": case, "team": case.team, "subject": case.reference, "stage": case.stage}
        rows = []
        limit = scheduling.stage_limit(case.stage)
        if limit:
            rows.append(
                Reminder(
                    kind=ReminderKind.STAGE_OVERDUE, due_at=case.stage_entered_at + limit, **common
                )
            )
        if case.stage == Stage.CROSSING and case.crossing_window_end:
            rows.append(
                Reminder(
                    kind=ReminderKind.CROSSING_CHECK_IN,
                    due_at=case.crossing_window_end
                    + timedelta(hours=settings.CROSSING_GRACE_HOURS),
                    urgent=True,
                    **common,
                )
            )
        if case.stage == Stage.IN_TRANSIT and case.last_contact_at:
            # Every check-in schedules the next; the one planned missed is due already.
            rows.append(
                Reminder(
                    kind=ReminderKind.TRANSIT_CHECK_IN,
                    due_at=case.last_contact_at + timedelta(hours=settings.TRANSIT_CHECK_IN_HOURS),
                    urgent=True,
                    **common,
                )
            )
        if case.assignee is not None and rng.random() < 0.5:
            rows.append(
                Reminder(
                    kind=ReminderKind.FOLLOW_UP,
                    due_at=now + timedelta(minutes=rng.randint(60, 60 * 24 * 7)),
                    case=case,
                    team=case.team,
                    subject=case.reference,
                    recipient=case.assignee,
                    created_by=case.assignee,
                    note=FOLLOW_UP_NOTE,
                )
            )
        return rows

    def origin_request(self, case: Case, crew: Crew, reference: str) -> IntakeRequest:
        """The request the case was opened from, accepted when the case was."""
        received = case.created_at - timedelta(hours=self.rng.randint(1, 48))
        worker = case.assignee or crew.coordinator
        return IntakeRequest(
            reference=reference,
            team=case.team,
            channel=self.rng.choice(Channel.values),
            received_at=received,
            contact=case.person.phone,
            message=REQUEST_MESSAGE,
            category_guess=case.person.category,
            state=TriageState.ACCEPTED,
            logged_by=worker,
            logged_at=received,
            triaged_by=worker,
            triaged_at=case.created_at,
            case=case,
        )

    def waiting_requests(self, references: list[str]) -> None:
        """Requests waiting for triage in every team; each team's first one repeats the
        phone of the team's first case, so triage finds a possible duplicate."""
        rng, now = self.rng, self.now
        for number, crew in enumerate(self.crews):
            first_case = (
                Case.objects.filter(team=crew.team).select_related("person").order_by("pk").first()
            )
            for slot in range(WAITING_REQUESTS):
                contact = (
                    first_case.person.phone.replace(" ", "")
                    if slot == 0 and first_case is not None
                    else f"+7 9{rng.randint(10, 99)}-{rng.randint(100, 999)}-"
                    f"{rng.randint(10, 99)}-{rng.randint(10, 99)}"
                )
                received = now - timedelta(hours=slot * 5 + 1)
                request = IntakeRequest.objects.create(
                    reference=references[number * WAITING_REQUESTS + slot],
                    team=crew.team,
                    channel=rng.choice(Channel.values),
                    received_at=received,
                    contact=contact,
                    message=REQUEST_MESSAGE,
                    logged_by=crew.volunteers[0],
                )
                IntakeIndex.objects.bulk_create(
                    IntakeIndex(request=request, kind=kind, digest=value)
                    for kind, value in blind_index.contact_digests(contact)
                )
                # The oldest request is already past its triage limit.
                scheduling.on_intake_logged(
                    crew.team,
                    request.reference,
                    received - timedelta(days=slot == WAITING_REQUESTS - 1),
                    crew.volunteers[0],
                )
                logger = crew.volunteers[0].pk
                self.audit.append(
                    (
                        received,
                        Action.REQUEST_LOGGED,
                        logger,
                        request.reference,
                        crew.team.pk,
                        "request",
                    )
                )

    # The demo team's working-together examples ---------------------------------------------

    def demo_extras(self) -> None:
        """Made through the real services, so their timeline entries, notifications and audit
        events are the ones the app writes: the register, a wanted person headed for an
        extraditing country, a move waiting for approval and a transfer waiting for its
        answer."""
        crew = self.crews[0]
        coordinator = crew.coordinator
        for country, extradites, incidents in REGISTER:
            if not DestinationRisk.objects.filter(country=country).exists():
                destination_add(
                    by=coordinator, country=country, extradites=extradites, incidents=incidents
                )
        cases = Case.objects.filter(team=crew.team).select_related("person").order_by("pk")
        planning = cases.filter(stage=Stage.PLANNING).first()
        if planning is not None:
            # Planning warns before it moves on: the destination is on the register's list.
            Case.objects.filter(pk=planning.pk).update(destination_country="KZ", flag_wanted=True)
        volunteer = crew.volunteers[0]
        ready = cases.filter(stage=Stage.PREPARATION, flag_wanted=False).first()
        if ready is not None:
            Case.objects.filter(pk=ready.pk).update(readiness_confirmed=True, assignee=volunteer)
            ready.refresh_from_db()
            approval_ask(
                case=ready,
                by=volunteer,
                to_stage=Stage.IN_TRANSIT,
                expected_version=ready.version,
                note="Билеты на завтра, документы на руках.",
            )
        worked = ready or cases.filter(assignee=volunteer).exclude(stage=Stage.CLOSED).first()
        if worked is not None:
            self.documents(worked, volunteer)
        self.conversations(volunteer)
        if len(self.crews) > 1:
            moving = cases.filter(stage=Stage.SCREENING).last()
            if moving is not None:
                case_transfer_ask(
                    case=moving,
                    to_team=self.crews[1].team,
                    by=coordinator,
                    note="Человек переехал в их регион, им удобнее вести.",
                    expected_version=moving.version,
                )
        seal()

    def conversations(self, volunteer: User) -> None:
        """Two people who wrote in by themselves, as the channels hand their words over: one
        through the Telegram bot (two messages and a volunteer's reply, waiting to be sent
        while no bot is configured), one through the public form. Fake chat ids and words."""
        chat = str(self.rng.randint(10**9, 2 * 10**9))
        first = conversation_receive(
            channel=Channel.TELEGRAM,
            address=chat,
            text="Здравствуйте, мне пришла повестка на понедельник. Что делать?",
            contact=f"@demo_{self.rng.randint(1000, 9999)}",
            language="ru",
        )
        conversation_receive(
            channel=Channel.TELEGRAM, address=chat, text="Я в Самаре, паспорт только внутренний."
        )
        reply_send(
            request=first.request,
            by=volunteer,
            text="Мы получили ваше сообщение. Не выходите пока из дома, мы напишем сегодня.",  # noqa: RUF001
        )
        conversation_receive(
            channel=Channel.WEB_FORM,
            address=secrets.token_urlsafe(16),
            text="Брата мобилизовали, он хочет уйти. Как с вами связаться безопасно?",  # noqa: RUF001
            language="ru",
        )

    @staticmethod
    def documents(case: Case, volunteer: User) -> None:
        """A photo carrying fake GPS and camera details in its EXIF and a PDF with an author,
        a title and a script, attached as a volunteer would: the copies kept have none of it
        (download them and look), and var/documents holds only ciphertext."""
        photo = io.BytesIO()
        exif = Image.Exif()
        exif[ExifTags.Base.Make] = "Demo camera, serial 0000"
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps.update({1: "N", 2: (51.0, 46.0, 12.0), 3: "E", 4: (55.0, 6.0, 3.0)})
        Image.new("RGB", (640, 480), (180, 170, 150)).save(photo, "JPEG", exif=exif)
        pdf = pikepdf.new()
        pdf.add_blank_page()
        pdf.docinfo["/Author"] = "Demo Author"
        pdf.docinfo["/Title"] = "Demo court decision"
        pdf.Root.OpenAction = pikepdf.Dictionary(
            S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('demo')")
        )
        decision = io.BytesIO()
        pdf.save(decision)
        for name, content, kind, description in (
            ("IMG_0042.jpg", photo.getvalue(), DocumentKind.SUMMONS, "Повестка, фото с телефона"),  # noqa: RUF001
            ("decision.pdf", decision.getvalue(), DocumentKind.LEGAL, "Решение суда, скан"),
        ):
            document_attach(
                case=case,
                by=volunteer,
                upload=SimpleUploadedFile(name, content),
                kind=kind,
                description=description,
            )

    # Audit ---------------------------------------------------------------------------------

    def append_audit(self) -> None:
        """Appends the collected events, oldest first, as audit.log.record would have one by
        one, and seals them into the chain."""
        self.audit.sort(key=lambda row: row[0])
        progress = Progress("audit events", len(self.audit), self.stream)
        # What record() keeps of an address, and only for as long as the retention allows.
        networks_since = kept_since()
        batch = []
        for done, (when, action, actor_id, reference, team_id, kind) in enumerate(self.audit, 1):
            event = AccessEvent(
                created_at=when,
                actor_id=actor_id,
                action=action,
                target_type=kind,
                target_ref=reference,
                team_id=team_id,
                source_network="198.51.100.0/24" if when >= networks_since else "",
                request_id=f"{done:032x}",
                reason=None,
            )
            batch.append(event)
            if len(batch) == AUDIT_BATCH or done == len(self.audit):
                AccessEvent.objects.bulk_create(batch)
                batch = []
                progress.update(done)
        seal()
        self.audit = []
