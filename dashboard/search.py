"""Search from the header: one box, one exact match through the blind indexes.

What the box reads, in this order (the first that fits wins):

1. a reference, `C-2026-00042` or `R-2026-00007` (any case);
2. a name with a date of birth before or after it (`Ivan Petrov 17.05.1990`,
   `1990-05-17 Иван Петров`): the name-and-birth index;
3. an e-mail address, a phone number or a handle, read exactly as triage reads a contact
   (privacy.blind_index.contact_digests): "+7 912 345-67-89", "8 (912) 3456789" and
   "79123456789" are one phone;
4. anything else is refused with a message; a name alone above all, which would let anyone
   ask whether a common name is a client.

What it answers is only what the user may open: cases through cases_visible_to, requests
through intake_visible_to, each a link. A matching case of the user's own team they may not
open is only counted ("ask your coordinator"); a match in another team is never named: the
user reads that a possible match exists there, the match is audited as a probe for that
team (counted toward INSIDER_PROBES_PER_HOUR) and its coordinators are told, naming their
own case, once a day per searcher and case (the rule triage follows, intake.services). Another
team's reference answers as a missing one does, audited as a probe (_by_reference).

Every search is audited (Action.SEARCHED: what kind of value and how many results, never
the value) and counts as one case read toward INSIDER_CASES_PER_HOUR (audit.log); more than
SEARCH_PER_MINUTE in a minute are refused. The query comes by POST only, so it is never in
a URL, a browser's history or a log line.
"""

import datetime
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from audit.log import record
from audit.models import AccessEvent, Action
from casework.models import Case, NotificationKind, PersonIndex
from casework.notifications import notify
from casework.scheduling import team_coordinators
from casework.selectors.cases import cases_visible_to
from intake.models import IntakeIndex, IntakeRequest
from intake.selectors import intake_visible_to
from privacy import blind_index

# The most cases, and the most requests, one search lists: an exact match finds a handful.
RESULTS_LIMIT = 20
# A match in another team is told to its coordinators once a day per searcher and case.
TELL_AGAIN_AFTER = timedelta(days=1)

REFERENCE_KIND = "reference"
KIND_LABELS = {
    REFERENCE_KIND: _("Reference"),
    **{kind.value: kind.label for kind in blind_index.Kind},
}

REFERENCE = re.compile(r"[CR]-[0-9]{4}-[0-9]{5,9}")
DATE = r"[0-9]{1,2}[./-][0-9]{1,2}[./-][0-9]{4}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
NAME_AND_DATE = re.compile(
    rf"(?:(?P<before>{DATE})[\s,]+(?P<name_after>.+)|(?P<name_before>.+?)[\s,]+(?P<after>{DATE}))"
)
DATE_FORMATS = ("%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d")
ANY_LETTER = re.compile(r"[^\W\d_]")

EMPTY = _("Type what to search for.")
NAME_NEEDS_DATE = _(
    "A name is searched only with a date of birth, for example: Ivan Petrov 17.05.1990."
)
NOT_READ = _(
    "This is not a reference, a phone number with its country code, a handle, an e-mail "
    "address or a name with a date of birth."
)
NOT_A_DATE = _("%(date)s is not a date: write it as 17.05.1990.")


@dataclass(frozen=True)
class Query:
    """What the box was read as: a reference, or the blind-index digests to look up. It holds
    no typed value but the reference (not personal), so it can be passed around safely."""

    kind: str
    reference: str = ""
    digests: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self.kind])


def _birth_date(text: str) -> datetime.date:
    for layout in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, layout).date()
        except ValueError:
            continue
    raise ValidationError(NOT_A_DATE, code="not_a_date", params={"date": text})


def query_read(text: str) -> Query:
    """What the typed text asks for, or ValidationError with a message for the user."""
    text = " ".join(text.split())
    if not text:
        raise ValidationError(EMPTY, code="empty")
    if REFERENCE.fullmatch(text.upper()):
        return Query(REFERENCE_KIND, reference=text.upper())
    name_and_date = NAME_AND_DATE.fullmatch(text)
    if name_and_date:
        name = name_and_date["name_before"] or name_and_date["name_after"]
        if ANY_LETTER.search(name):
            born = _birth_date(name_and_date["before"] or name_and_date["after"])
            digest = blind_index.name_birth_digest(name, born)
            if digest is None:
                raise ValidationError(NAME_NEEDS_DATE, code="no_name")
            return Query(blind_index.Kind.NAME_BIRTH, digests=(digest,))
    contacts = blind_index.contact_digests(text)
    if contacts:
        kind, digest = contacts[0]
        return Query(kind, digests=(digest,))
    if ANY_LETTER.search(text):
        raise ValidationError(NAME_NEEDS_DATE, code="name_alone")
    raise ValidationError(NOT_READ, code="not_read")


@dataclass
class Found:
    """What one user may learn from one search."""

    query: Query
    cases: list[Case] = field(default_factory=list)
    requests: list[IntakeRequest] = field(default_factory=list)
    # Matching cases of the user's own teams that they may not open: counted, not named.
    not_yours: int = 0
    # A match in a team the user is not in: never named; its coordinators were told.
    elsewhere: bool = False

    @property
    def count(self) -> int:
        return len(self.cases) + len(self.requests)


def can_search(user: User) -> bool:
    """Those who work cases or requests; admins have no path to personal data."""
    return user.is_active and (
        user.has_perm("accounts.work_cases") or user.has_perm("accounts.log_intake")
    )


# A search result names a case by reference, codename, stage and team: nothing encrypted.
CASE_FIELDS = ("reference", "stage", "team_id", "person__codename", "team__name", "created_at")
REQUEST_FIELDS = ("reference", "state", "received_at", "team_id", "team__name")


def _searches_this_minute(user: User) -> int:
    since = timezone.now() - timedelta(minutes=1)
    return AccessEvent.objects.filter(
        actor=user, action=Action.SEARCHED, created_at__gte=since
    ).count()


def search_run(*, by: User, query: Query) -> Found:
    """Runs one search for `by`, audited, and tells another team's coordinators of a match
    there. Refused (ValidationError, the refusal audited) past SEARCH_PER_MINUTE."""
    if not can_search(by):
        raise PermissionDenied
    # Counted from the audit log, which every process shares: no cache to keep in step.
    # Two searches sent at the very same moment may both pass the count; the limit is a
    # brake on harvesting, and each search is still audited and counted toward the alert.
    done = _searches_this_minute(by)
    if done >= settings.SEARCH_PER_MINUTE:
        record(Action.REFUSED, actor=by, target_type="search", target_ref="rate limit")
        message = ngettext(
            "You searched %(count)d time in the last minute: wait a minute, then try again.",
            "You searched %(count)d times in the last minute: wait a minute, then try again.",
            done,
        )
        raise ValidationError(message, code="rate_limited", params={"count": done})
    with transaction.atomic():
        if query.kind == REFERENCE_KIND:
            found = _by_reference(by, query)
        else:
            found, elsewhere = _by_digests(by, query)
            if elsewhere:
                _report_elsewhere(by, elsewhere)
        # The kind of value and how many results: never the value itself.
        record(
            Action.SEARCHED,
            actor=by,
            target_type="search",
            target_ref=f"{query.kind}:{found.count}",
        )
    return found


def _cases(user: User):
    return cases_visible_to(user).select_related("person", "team").only(*CASE_FIELDS)


def _requests(user: User):
    return intake_visible_to(user).select_related("team").only(*REQUEST_FIELDS)


def _by_reference(user: User, query: Query) -> Found:
    """The case or request with this reference, if the user may open it; the same nothing
    for one that does not exist and one of someone else.

    Typing the reference of another team's case or request is a probe: nobody outside that
    team was given it. It is audited as one, for that team, and so counted toward
    INSIDER_PROBES_PER_HOUR: one typo raises nothing, walking the numbers raises the alert.
    Its coordinators are not told of each one (a reference mistyped by one digit is
    another team's), and the searcher reads the same nothing as for one that does not exist.
    """
    found = Found(query)
    rows: QuerySet[Case] | QuerySet[IntakeRequest]
    if query.reference.startswith("C-"):
        found.cases = list(_cases(user).filter(reference=query.reference))
        rows, target_type = Case.objects.all(), "case"
    else:
        found.requests = list(_requests(user).filter(reference=query.reference))
        rows, target_type = IntakeRequest.objects.all(), "request"
    if found.count:
        return found
    # Unscoped, for the probe rule only: the team of the row, never shown.
    team_id = rows.filter(reference=query.reference).values_list("team_id", flat=True).first()
    if team_id is not None and team_id not in user.team_ids:
        record(
            Action.DUPLICATE_PROBE,
            actor=user,
            target_type=target_type,
            target_ref=query.reference,
            team_id=team_id,
        )
    return found


def _by_digests(user: User, query: Query) -> tuple[Found, list[Case]]:
    """The cases and requests matching the digests that the user may open, and the
    matching cases of other teams (for _report_elsewhere, never for the user)."""
    people = PersonIndex.objects.filter(digest__in=query.digests).values("person_id")
    found = Found(query)
    found.cases = list(
        _cases(user).filter(person_id__in=people).order_by("-created_at", "-id")[:RESULTS_LIMIT]
    )
    unseen = list(
        Case.objects.filter(person_id__in=people)
        .exclude(pk__in=[case.pk for case in found.cases])
        .only("reference", "team_id")
        .order_by("-created_at", "-id")[:RESULTS_LIMIT]
    )
    own = user.team_ids
    found.not_yours = sum(1 for case in unseen if case.team_id in own)
    elsewhere = [case for case in unseen if case.team_id not in own]
    found.elsewhere = bool(elsewhere)
    requests = IntakeIndex.objects.filter(digest__in=query.digests).values("request_id")
    found.requests = list(
        _requests(user).filter(pk__in=requests).order_by("-received_at", "-id")[:RESULTS_LIMIT]
    )
    return found, elsewhere


def _report_elsewhere(user: User, cases: list[Case]) -> None:
    """Each match in another team is audited as a probe, for that team; its coordinators are
    told, naming their own case, unless this searcher's probe of it was told within a day."""
    since = timezone.now() - TELL_AGAIN_AFTER
    told = set(
        AccessEvent.objects.filter(
            actor=user,
            action=Action.DUPLICATE_PROBE,
            target_type="case",
            target_ref__in=[case.reference for case in cases],
            created_at__gte=since,
        ).values_list("target_ref", flat=True)
    )
    for case in cases:
        record(
            Action.DUPLICATE_PROBE,
            actor=user,
            target_type="case",
            target_ref=case.reference,
            team_id=case.team_id,
        )
    untold = [case for case in cases if case.reference not in told]
    if not untold:
        return
    coordinators = team_coordinators({case.team_id for case in untold})
    for case in untold:
        notify(
            coordinators[case.team_id], kind=NotificationKind.SEARCH_MATCH, subject=case.reference
        )
