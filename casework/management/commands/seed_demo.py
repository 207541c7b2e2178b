import os
import random
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from faker import Faker

from accounts.models import Team, User
from accounts.roles import Role
from casework import reminders
from casework.models import (
    Case,
    CaseEvent,
    Category,
    EventKind,
    Outcome,
    Person,
    Reminder,
    ReminderKind,
    Stage,
)
from casework.references import CASE_PREFIX, REQUEST_PREFIX, next_reference
from casework.services import person_indexes_refresh
from casework.workflow import FORWARD
from intake.models import Channel, IntakeIndex, IntakeRequest
from privacy import blind_index

DEMO_TEAM = "Demo team"
DEMO_USERS = {
    "demo-volunteer": Role.VOLUNTEER,
    "demo-coordinator": Role.COORDINATOR,
    "demo-admin": Role.ADMIN,
}
DESTINATIONS = ["GE", "AM", "KZ", "RS", "TR", "DE", "FR", "LT", "MN", "AR"]
NOTES = [
    "Called back, all quiet.",
    "Asked about documents for the child.",
    "Prefers Signal, not Telegram.",
    "Will send a photo of the summons.",
    "Needs a lawyer's consultation.",
]


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


class Command(BaseCommand):
    help = "Fills the embedded default with a demo team, one user per role and fake cases."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=30, help="Fake cases to add (30).")
        parser.add_argument("--seed", type=int, default=None, help="Random seed.")

    def handle(self, *args, cases: int, seed: int | None, **options):
        if not settings.EMBEDDED:
            raise CommandError("seed_demo only runs on the embedded default (SAFE_PASSAGE_MODE).")
        password = demo_password()
        team, users = self.accounts(password)
        if cases and not Case.objects.filter(team=team).exists():
            self.cases(team, users, cases, random.Random(seed))  # noqa: S311 (fake data)
        self.stdout.write("Demo accounts (an authenticator app is set up at first sign-in):")
        for username, role in DEMO_USERS.items():
            self.stdout.write(f"  {username:<18} {role.label}")
        self.stdout.write(f"Demo password: {password}")
        self.stdout.write(
            f"Demo data: {Case.objects.filter(team=team).count()} cases, "
            f"{IntakeRequest.objects.filter(team=team, state='new').count()} requests to triage."
        )

    @transaction.atomic
    def accounts(self, password: str) -> tuple[Team, dict[str, User]]:
        team, _ = Team.objects.get_or_create(name=DEMO_TEAM)
        users = {}
        for username, role in DEMO_USERS.items():
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(username, password, is_staff=role == Role.ADMIN)
            user.groups.add(Group.objects.get(name=role))
            if role != Role.ADMIN:
                user.teams.add(team)
            users[username] = user
        return team, users

    @transaction.atomic
    def cases(self, team: Team, users: dict[str, User], count: int, rng: random.Random) -> None:
        fakers = [Faker("ru_RU"), Faker("en_US")]
        for faker in fakers:
            faker.seed_instance(rng.random())
        volunteer, coordinator = users["demo-volunteer"], users["demo-coordinator"]
        now = timezone.now()
        stages = [*FORWARD, Stage.ON_HOLD, Stage.CLOSED]
        phones = []
        for number in range(count):
            faker = fakers[number % 2]
            stage = stages[number % len(stages)]
            phone = faker.numerify("+7 9## ###-##-##")
            phones.append(phone)
            person = Person.objects.create(
                codename=f"Demo-{number + 1:04d}",
                category=rng.choice(Category.values),
                legal_name=faker.name(),
                birth_date=faker.date_of_birth(minimum_age=18, maximum_age=55),
                phone=phone,
                messenger_handles=f"@{faker.user_name()}",
                current_location=faker.city(),
                military_unit=f"unit {rng.randint(10000, 99999)}",
            )
            person_indexes_refresh(person)
            forward_position = FORWARD.index(stage) if stage in FORWARD else 3
            opened = now - timedelta(days=rng.randint(2, 90))
            case = Case.objects.create(
                reference=next_reference(CASE_PREFIX),
                person=person,
                team=team,
                stage=stage,
                held_from=Stage.PLANNING if stage == Stage.ON_HOLD else "",
                stage_entered_at=opened + timedelta(days=forward_position),
                outcome=Outcome.SAFE if stage == Stage.CLOSED else "",
                assignee=volunteer if number % 3 else (coordinator if number % 2 else None),
                coordinator=coordinator,
                flag_wanted=rng.random() < 0.2,
                flag_criminal_case=rng.random() < 0.1,
                flag_dependants=rng.random() < 0.3,
                risk_reviewed_at=opened if forward_position >= 2 else None,
                destination_country=rng.choice(DESTINATIONS) if forward_position >= 3 else "",
                route_summary="Bus to the border, then by car." if forward_position >= 3 else "",
                readiness_confirmed=forward_position >= 4,
                crossing_window_start=now + timedelta(days=1) if forward_position >= 5 else None,
                crossing_window_end=now + timedelta(days=2) if forward_position >= 5 else None,
                next_action_due=(now + timedelta(days=rng.randint(-5, 10))).date(),
                created_at=opened,
                updated_at=opened,
                version=forward_position + 1,
            )
            events = [
                CaseEvent(
                    case=case,
                    kind=EventKind.CREATED,
                    actor=volunteer,
                    created_at=opened,
                    to_stage=Stage.NEW,
                    version=1,
                )
            ]
            for step in range(1, forward_position + 1):
                events.append(
                    CaseEvent(
                        case=case,
                        kind=EventKind.STAGE,
                        actor=coordinator,
                        version=step + 1,
                        created_at=opened + timedelta(days=step),
                        from_stage=FORWARD[step - 1],
                        to_stage=FORWARD[step],
                    )
                )
            events.append(
                CaseEvent(
                    case=case,
                    kind=EventKind.NOTE,
                    actor=volunteer,
                    created_at=now - timedelta(hours=rng.randint(1, 48)),
                    text=rng.choice(NOTES),
                    version=case.version,
                )
            )
            CaseEvent.objects.bulk_create(events)
            self.reminders_for(case, volunteer, now, rng)
        # Requests waiting for triage; the first one repeats an existing case's phone.
        for number in range(min(5, count)):
            faker = fakers[number % 2]
            contact = (
                phones[0].replace(" ", "") if number == 0 else faker.numerify("+7 9##-###-##-##")
            )
            request = IntakeRequest.objects.create(
                reference=next_reference(REQUEST_PREFIX),
                team=team,
                channel=rng.choice(Channel.values),
                received_at=now - timedelta(hours=number * 5 + 1),
                contact=contact,
                message="Got a summons, need advice on leaving.",
                logged_by=volunteer,
            )
            IntakeIndex.objects.bulk_create(
                IntakeIndex(request=request, kind=kind, digest=digest)
                for kind, digest in blind_index.contact_digests(contact)
            )
            # The oldest request is already past its triage limit.
            reminders.on_intake_logged(
                team,
                request.reference,
                request.received_at - timedelta(days=number == 4),
                volunteer,
            )

    def reminders_for(self, case: Case, volunteer: User, now, rng: random.Random) -> None:
        """Reminders of every kind; some already due, so the inbox fills within a minute."""
        if case.stage == Stage.CLOSED:
            return
        overdue = case.stage_entered_at + (reminders.stage_limit(case.stage) or timedelta(days=7))
        Reminder.objects.create(
            kind=ReminderKind.STAGE_OVERDUE,
            due_at=overdue,
            case=case,
            team=case.team,
            subject=case.reference,
            stage=case.stage,
        )
        if case.stage == Stage.CROSSING:
            Reminder.objects.create(
                kind=ReminderKind.CROSSING_CHECK_IN,
                due_at=now - timedelta(minutes=5),
                case=case,
                team=case.team,
                subject=case.reference,
                stage=case.stage,
                urgent=True,
            )
        if case.stage == Stage.IN_TRANSIT:
            Reminder.objects.create(
                kind=ReminderKind.TRANSIT_CHECK_IN,
                due_at=now + timedelta(hours=rng.randint(1, 12)),
                case=case,
                team=case.team,
                subject=case.reference,
                stage=case.stage,
                urgent=True,
            )
        if case.assignee == volunteer and rng.random() < 0.5:
            Reminder.objects.create(
                kind=ReminderKind.FOLLOW_UP,
                due_at=now + timedelta(minutes=rng.randint(-90, 300)),
                case=case,
                team=case.team,
                subject=case.reference,
                recipient=volunteer,
                note="Call back about the documents.",
            )
