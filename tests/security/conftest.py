"""The attacker's world: two teams, one persona per role, a case and a request of each team.

Roles, as the issue names them:

- ``anonymous``: no session;
- ``password_only``: a volunteer of team A signed in with the password, second factor not
  verified (a phished password);
- ``volunteer_a`` / ``volunteer_b``: volunteers of team A (North) and team B (South);
- ``coordinator_b``: a coordinator of team B;
- ``admin``: an admin (staff, no personal data by default).

Objects: ``case_a`` (team A, assigned to volunteer A), ``case_b`` (team B, unassigned),
``intake_a`` / ``intake_b`` (new requests of each team, each from a Telegram chat the app
can answer, a file attached to each at triage), ``intake_b_decided`` (a request of team B
accepted into case B, which volunteer B does not work, whose file is case B's now), a
pending follow-up reminder on each
case, an approval request on each (``approval_a`` lapsed, ``approval_b`` waiting), an
unreviewed break-glass open of case A by coordinator B, a pending transfer of case A to
team B (``transfer``), an earlier containment of a former volunteer, a route leg on each
case (``leg_a`` handled by volunteer A, the case's
assignee; ``leg_b`` by volunteer B, who is not otherwise on case B), one entry of the
destination-risk register (shared by all teams), and one row of each model the Django admin
lists.
"""

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone
from PIL import Image

from accounts.middleware import mark_session_start
from accounts.models import AccessChange, Containment, Team, User
from accounts.roles import Role
from casework.models import (
    ApprovalRequest,
    BreakGlass,
    Case,
    CaseTransfer,
    Reminder,
    ReminderKind,
    RouteLeg,
    Stage,
)
from destinations.models import DestinationRisk, Extradites
from documents import vault
from documents.models import Document, DocumentKind
from intake.conversations import address_digest
from intake.models import IntakeRequest
from tests.conftest import verified_client
from tests.factories import (
    AuthenticatorFactory,
    CaseFactory,
    IntakeRequestFactory,
    UserFactory,
    role_group,
)

ROLES = ("anonymous", "password_only", "volunteer_a", "volunteer_b", "coordinator_b", "admin")
VERIFIED_ROLES = ("volunteer_a", "volunteer_b", "coordinator_b", "admin")

# What the matrix test checked in this process; written out at the end of the session.
MATRIX_CHECKED: set[tuple[str, str, str]] = set()
MATRIX_REQUESTS: list[int] = [0]


@dataclass
class World:
    team_a: Team
    team_b: Team
    users: dict[str, User]
    clients: dict[str, Client]
    case_a: Case
    case_b: Case
    intake_a: IntakeRequest
    intake_b: IntakeRequest
    reminder_a: Reminder
    reminder_b: Reminder
    break_glass: BreakGlass
    containment: Containment
    destination: DestinationRisk
    access_change: AccessChange | None = None
    leg_a: RouteLeg | None = None
    leg_b: RouteLeg | None = None
    intake_b_decided: IntakeRequest | None = None
    approval_a: ApprovalRequest | None = None
    approval_b: ApprovalRequest | None = None
    transfer: CaseTransfer | None = None
    document_a: Document | None = None
    document_b: Document | None = None
    # A file of leg B (volunteer B's): its volunteer and the coordinators only.
    leg_document_b: Document | None = None
    # Files attached at triage to intake A and B, not decided yet; and one that came with
    # intake B decided and is case B's now (the request's URL no longer serves it).
    request_document_a: Document | None = None
    request_document_b: Document | None = None
    moved_document_b: Document | None = None
    admin_rows: dict[str, object] = field(default_factory=dict)


def password_only_client(user: User) -> Client:
    """Signed in with the password; the second factor never verified."""
    client = Client()
    client.force_login(user)
    session = client.session
    mark_session_start(session)
    session.save()
    return client


def follow_up(case: Case, recipient: User) -> Reminder:
    return Reminder.objects.create(
        kind=ReminderKind.FOLLOW_UP,
        due_at=timezone.now() + timedelta(days=2),
        case=case,
        team_id=case.team_id,
        subject=case.reference,
        recipient=recipient,
        created_by=recipient,
    )


def chat(address: str) -> dict:
    """A Telegram chat the request can be answered in (intake.conversations)."""
    return {"reply_address": address, "address_digest": address_digest("telegram", address)}


def build_world() -> World:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    team_a = Team.objects.create(name="North")
    team_b = Team.objects.create(name="South")
    users = {
        "password_only": UserFactory(username="phished1", role=Role.VOLUNTEER, teams=[team_a]),
        "volunteer_a": UserFactory(username="volunteer_a", role=Role.VOLUNTEER, teams=[team_a]),
        "volunteer_b": UserFactory(username="volunteer_b", role=Role.VOLUNTEER, teams=[team_b]),
        "coordinator_b": UserFactory(
            username="coordinator_b", role=Role.COORDINATOR, teams=[team_b]
        ),
        "admin": UserFactory(username="admin1", role=Role.ADMIN, is_staff=True),
    }
    AuthenticatorFactory(user=users["password_only"])
    clients = {"anonymous": Client(), "password_only": password_only_client(users["password_only"])}
    clients.update({role: verified_client(users[role]) for role in VERIFIED_ROLES})
    case_a = CaseFactory(team=team_a, assignee=users["volunteer_a"])
    case_b = CaseFactory(team=team_b)
    logged = {"received_at": timezone.now() - timedelta(hours=1)}
    intake_a = IntakeRequestFactory(
        team=team_a, logged_by=users["volunteer_a"], **logged, **chat("700100001")
    )
    intake_b = IntakeRequestFactory(
        team=team_b, logged_by=users["volunteer_b"], **logged, **chat("700100002")
    )
    intake_b_decided = IntakeRequestFactory(
        team=team_b,
        logged_by=users["volunteer_b"],
        **chat("700100003"),
        state="accepted",
        case=case_b,
        triaged_by=users["coordinator_b"],
        triaged_at=timezone.now(),
        **logged,
    )
    axes_fields = {
        "user_agent": "test",
        "ip_address": "192.0.2.1",
        "username": "volunteer_a",
        "http_accept": "*/*",
        "path_info": "/account/login/",
    }
    admin_rows = {
        "auth.group": role_group(Role.VOLUNTEER),
        "accounts.user": users["volunteer_a"],
        "accounts.team": team_a,
        "axes.accessattempt": AccessAttempt.objects.create(
            **axes_fields, get_data="", post_data="", failures_since_start=1
        ),
        "axes.accesslog": AccessLog.objects.create(**axes_fields),
        # Volunteer B's failed sign-ins too, for clearing a lock-out.
        "axes.accessattempt_b": AccessAttempt.objects.create(
            **(axes_fields | {"username": "volunteer_b"}),
            get_data="",
            post_data="",
            failures_since_start=1,
        ),
        "axes.accessfailurelog": AccessFailureLog.objects.create(**axes_fields),
    }
    now = timezone.now()
    break_glass = BreakGlass.objects.create(
        case=case_a,
        user=users["coordinator_b"],
        reason="Team A's coordinator cannot be reached",
        created_at=now - timedelta(hours=2),
        expires_at=now - timedelta(hours=1),
    )
    former = UserFactory(username="former1", role=Role.VOLUNTEER, teams=[team_a], is_active=False)
    containment = Containment.objects.create(
        user=former,
        by=users["admin"],
        since=now - timedelta(days=7),
        created_at=now - timedelta(days=1),
        reason="Phished",
        audit_seq=0,
    )
    # Coordinator B proposes taking volunteer B out of team B: admins decide it.
    access_change = AccessChange.objects.create(
        target=users["volunteer_b"],
        kind=AccessChange.Kind.REMOVE_TEAM,
        team=team_b,
        proposed_by=users["coordinator_b"],
    )
    # Volunteer A's request to close case A, asked of an earlier version (lapsed: asking
    # again works); volunteer B's live request on case B, for coordinator B to decide.
    approval_a = ApprovalRequest.objects.create(
        case=case_a,
        to_stage=Stage.CLOSED,
        outcome="withdrew",
        asked_by=users["volunteer_a"],
        asked_version=case_a.version - 1,
        note="Matrix request A",
    )
    approval_b = ApprovalRequest.objects.create(
        case=case_b,
        to_stage=Stage.CLOSED,
        outcome="withdrew",
        asked_by=users["volunteer_b"],
        asked_version=case_b.version,
        note="Matrix request B",
    )
    # Case A proposed to team B by team A's coordinator, who has left since (team A has no
    # active coordinator): coordinator B decides it.
    gone = UserFactory(
        username="coordinator_a_gone", role=Role.COORDINATOR, teams=[team_a], is_active=False
    )
    transfer = CaseTransfer.objects.create(
        case=case_a, from_team=team_a, to_team=team_b, asked_by=gone, note="Matrix transfer"
    )
    world = World(
        approval_a=approval_a,
        approval_b=approval_b,
        transfer=transfer,
        access_change=access_change,
        team_a=team_a,
        team_b=team_b,
        users=users,
        clients=clients,
        case_a=case_a,
        case_b=case_b,
        intake_a=intake_a,
        intake_b=intake_b,
        intake_b_decided=intake_b_decided,
        reminder_a=follow_up(case_a, users["volunteer_a"]),
        reminder_b=follow_up(case_b, users["coordinator_b"]),
        break_glass=break_glass,
        containment=containment,
        leg_a=RouteLeg.objects.create(
            case=case_a,
            position=1,
            origin="Leg A from",
            destination="Leg A to",
            volunteer=users["volunteer_a"],
        ),
        leg_b=RouteLeg.objects.create(
            case=case_b,
            position=1,
            origin="Leg B from",
            destination="Leg B to",
            volunteer=users["volunteer_b"],
        ),
        destination=DestinationRisk.objects.create(
            country="GE", extradites=Extradites.NO, notes="Matrix note"
        ),
        admin_rows=admin_rows,
    )
    world.document_a = matrix_document(world.case_a, users["volunteer_a"])
    world.document_b = matrix_document(world.case_b, users["coordinator_b"])
    world.leg_document_b = matrix_document(world.case_b, users["volunteer_b"], leg=world.leg_b)
    world.request_document_a = matrix_document(None, users["volunteer_a"], request=intake_a)
    world.request_document_b = matrix_document(None, users["volunteer_b"], request=intake_b)
    world.moved_document_b = matrix_document(
        world.case_b, users["volunteer_b"], request=intake_b_decided
    )
    return world


def matrix_document(
    case: Case | None,
    by: User,
    leg: RouteLeg | None = None,
    request: IntakeRequest | None = None,
) -> Document:
    image = io.BytesIO()
    Image.new("RGB", (8, 8)).save(image, "PNG")
    siblings = Document.objects.filter(case=case) if case else request.documents.all()
    return Document.objects.create(
        case=case,
        leg=leg,
        intake_request=request,
        number=siblings.count() + 1,
        kind=DocumentKind.OTHER,
        description="Matrix document",
        content_type="image/png",
        size=len(image.getvalue()),
        storage_name=vault.store(image.getvalue()),
        added_by=by,
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


@contextmanager
def rolled_back() -> Iterator[None]:
    """Whatever the request changes is undone: the next role meets the same world."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def body(response) -> bytes:
    """The whole body, streaming or not (read inside `rolled_back`, before the undo)."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


# The matrix count --------------------------------------------------------------------------


def _matrix_report_path():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = f"security-matrix{'-' + worker if worker else ''}.txt"
    return settings.VAR_DIR / name


def pytest_sessionfinish(session):
    """Writes what the matrix checked to var/ (one file per xdist worker)."""
    if not MATRIX_CHECKED:
        return
    urls = {(key, url) for key, url, _role in MATRIX_CHECKED}
    lines = [
        f"{len(MATRIX_CHECKED)} (URL x role) pairs over {len(urls)} URLs, "
        f"{MATRIX_REQUESTS[0]} requests",
        *(f"{key}\t{url}\t{role}" for key, url, role in sorted(MATRIX_CHECKED)),
    ]
    path = _matrix_report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def pytest_terminal_summary(terminalreporter):
    if not MATRIX_CHECKED:
        return
    patterns = {key for key, _url, _role in MATRIX_CHECKED}
    urls = {(key, url) for key, url, _role in MATRIX_CHECKED}
    terminalreporter.write_line(
        f"security matrix: {len(MATRIX_CHECKED)} (URL x role) pairs checked "
        f"({len(patterns)} URL patterns, {len(urls)} concrete URLs, {len(ROLES)} roles; "
        f"{MATRIX_REQUESTS[0]} requests, GET and POST); list in {_matrix_report_path()}"
    )
