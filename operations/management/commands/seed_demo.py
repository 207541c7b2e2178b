"""Demo data for the embedded default, and realistic fake data at scale for benchmarks.

    python manage.py seed_demo                  # 300 cases over 10 teams (make run)
    python manage.py seed_demo --cases 100000   # the benchmark size, in a few minutes

Rows are written with bulk inserts, in one transaction: people with every encrypted field
and their blind indexes, cases over every stage and every team, at least five timeline
events each (the first case of the demo team has fifty, for the case-page benchmark), the
request each case came from, reminders of every kind, requests waiting for triage, and the
audit events all of that would have written, appended to the hash chain so it still verifies.
"""

import os
import random
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from faker import Faker

from accounts.models import Team, User
from accounts.roles import Role
from audit.addresses import kept_since
from audit.log import seal
from audit.models import AccessEvent, Action
from casework import scheduling
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
from casework.services.cases import person_digests
from casework.workflow import FORWARD
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
NOTES = [
    "Called back, all quiet.",
    "Asked about documents for the child.",
    "Prefers Signal, not Telegram.",
    "Will send a photo of the summons.",
    "Needs a lawyer's consultation.",
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
    cities: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)


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
        for locale in ("ru_RU", "en_US"):
            faker = Faker(locale)
            faker.seed_instance(self.rng.random())
            pools.names += [faker.name() for _ in range(min(400, self.pool_size))]
            pools.cities += [faker.city() for _ in range(min(100, self.pool_size))]
            pools.handles += [faker.user_name() for _ in range(min(400, self.pool_size))]
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

    # Cases ---------------------------------------------------------------------------------

    def chunk(self, numbers: range, case_refs, request_refs, first_codename: int) -> None:
        rng, pools = self.rng, self.pools
        people, plans = [], []
        for number in numbers:
            crew = self.crews[number % len(self.crews)]
            stage = self.stages[(number // len(self.crews)) % len(self.stages)]
            opened = self.now - timedelta(
                days=rng.randint(2, HISTORY_DAYS), minutes=rng.randint(0, 1440)
            )
            handle = rng.choice(pools.handles)
            people.append(
                Person(
                    codename=f"Demo-{first_codename + number + 1:06d}",
                    category=rng.choice(Category.values),
                    legal_name=rng.choice(pools.names),
                    birth_date=(self.now - timedelta(days=rng.randint(18 * 365, 55 * 365))).date(),
                    phone=(
                        f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-"
                        f"{rng.randint(10, 99)}-{rng.randint(10, 99)}"
                    ),
                    messenger_handles=f"@{handle}{rng.randint(1, 9999)}",
                    email=f"{handle}{rng.randint(1, 9999)}@example.org",
                    current_location=rng.choice(pools.cities),
                    military_unit=f"unit {rng.randint(10000, 99999)}",
                    notes=rng.choice(NOTES),
                    created_at=opened,
                )
            )
            plans.append((number, crew, stage, opened))
        Person.objects.bulk_create(people)
        PersonIndex.objects.bulk_create(
            PersonIndex(person=person, kind=kind, digest=value, source=source)
            for person in people
            for kind, value in sorted(person_digests(person))
            for source in (PersonIndex.DETAILS, PersonIndex.INTAKE)
            if source == PersonIndex.DETAILS or kind == blind_index.Kind.PHONE
        )
        cases = Case.objects.bulk_create(
            self.case(number, crew, stage, opened, person, case_refs[number])
            for (number, crew, stage, opened), person in zip(plans, people, strict=True)
        )
        events, reminder_rows, requests = [], [], []
        for (number, crew, _stage, _opened), case in zip(plans, cases, strict=True):
            events += self.timeline(case, crew, DETAIL_EVENTS if number == 0 else EVENTS_PER_CASE)
            reminder_rows += self.reminders_for(case, crew)
            requests.append(self.origin_request(case, crew, request_refs[number]))
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

    def case(self, number, crew: Crew, stage, opened, person, reference) -> Case:
        rng, now = self.rng, self.now
        position = FORWARD.index(stage) if stage in FORWARD else 3
        unassigned = stage == Stage.NEW and rng.random() < 0.5
        return Case(
            reference=reference,
            person=person,
            team=crew.team,
            stage=stage,
            held_from=Stage.PLANNING if stage == Stage.ON_HOLD else "",
            stage_entered_at=opened + timedelta(days=position, hours=rng.randint(0, 23)),
            outcome=rng.choice(Outcome.values) if stage == Stage.CLOSED else "",
            assignee=None if unassigned else rng.choice(crew.volunteers),
            coordinator=crew.coordinator,
            flag_wanted=rng.random() < 0.2,
            flag_criminal_case=rng.random() < 0.1,
            flag_internal_passport_only=rng.random() < 0.05,
            flag_dependants=rng.random() < 0.3,
            flag_health=rng.random() < 0.05,
            risk_reviewed_at=opened if position >= 2 else None,
            destination_country=rng.choice(DESTINATIONS) if position >= 2 else "",
            route_summary="Bus to the border, then by car." if position >= 2 else "",
            readiness_confirmed=position >= 4,
            crossing_window_start=now + timedelta(days=1) if position >= 5 else None,
            crossing_window_end=now + timedelta(days=2) if position >= 5 else None,
            next_action_due=(now + timedelta(days=rng.randint(-10, 20))).date(),
            created_at=opened,
            updated_at=opened + timedelta(days=position),
            version=position + 1,
        )

    def timeline(self, case: Case, crew: Crew, count: int) -> list[CaseEvent]:
        """Opened, every forward step up to its stage, then notes, check-ins and contacts."""
        rng = self.rng
        opened = case.created_at
        worker = case.assignee or crew.coordinator
        events = [
            CaseEvent(
                case=case,
                kind=EventKind.CREATED,
                actor=worker,
                created_at=opened,
                to_stage=Stage.NEW,
                version=1,
            )
        ]
        position = case.version - 1
        for step in range(1, position + 1):
            events.append(
                CaseEvent(
                    case=case,
                    kind=EventKind.STAGE,
                    actor=crew.coordinator,
                    version=step + 1,
                    created_at=opened + timedelta(days=step),
                    from_stage=FORWARD[step - 1],
                    to_stage=FORWARD[step],
                )
            )
        last = events[-1].created_at
        span = max((self.now - last).total_seconds(), 3600)
        for n in range(count - len(events)):
            events.append(
                CaseEvent(
                    case=case,
                    kind=TIMELINE_FILL[n % len(TIMELINE_FILL)],
                    actor=worker,
                    created_at=last + timedelta(seconds=rng.uniform(60, span)),
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

    def reminders_for(self, case: Case, crew: Crew) -> list[Reminder]:
        """Reminders of every kind; some already due, so the inbox fills within a minute."""
        if case.stage == Stage.CLOSED:
            return []
        now, rng = self.now, self.rng
        common = {"case": case, "team": case.team, "subject": case.reference, "stage": case.stage}
        limit = scheduling.stage_limit(case.stage) or timedelta(days=7)
        overdue = case.stage_entered_at + limit
        rows = [Reminder(kind=ReminderKind.STAGE_OVERDUE, due_at=overdue, **common)]
        if case.stage == Stage.CROSSING:
            rows.append(
                Reminder(
                    kind=ReminderKind.CROSSING_CHECK_IN,
                    due_at=now - timedelta(minutes=5),
                    urgent=True,
                    **common,
                )
            )
        if case.stage == Stage.IN_TRANSIT:
            rows.append(
                Reminder(
                    kind=ReminderKind.TRANSIT_CHECK_IN,
                    due_at=now + timedelta(hours=rng.randint(1, 12)),
                    urgent=True,
                    **common,
                )
            )
        if case.assignee is not None and rng.random() < 0.5:
            rows.append(
                Reminder(
                    kind=ReminderKind.FOLLOW_UP,
                    due_at=now + timedelta(minutes=rng.randint(-90, 60 * 24 * 7)),
                    case=case,
                    team=case.team,
                    subject=case.reference,
                    recipient=case.assignee,
                    created_by=case.assignee,
                    note="Call back about the documents.",
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
            message="Got a summons, need advice on leaving.",
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
                    message="Got a summons, need advice on leaving.",
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
