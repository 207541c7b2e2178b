"""A timeline event's detail, worded when it is read, in the reader's language.

Services store what happened as codes (`CaseEvent.facts`): field names, enum values, times
in ISO 8601, references and team names, under a `code` naming the message. A page words
them with the active language's messages, labels and date formats, so a Russian reader
sees "6 декабря 14:00" where an English one sees "6 Dec 14:00", whoever wrote the event.

Events without facts (written before, or whose detail is a code by itself) show `detail`:
an English message id translated here (lost contact, legal hold…), a username or a
reference as it is. Older rows that stored a translated sentence show it unchanged.
"""

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import FieldDoesNotExist
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import (
    gettext,
    gettext_lazy,
    gettext_noop,
    ngettext_lazy,
    pgettext_lazy,
)

from casework.models import (
    Case,
    CaseEvent,
    EventKind,
    Outcome,
    Person,
    PurgeKind,
    ReminderKind,
    field_label,
)
from config.choices import label_of

if TYPE_CHECKING:  # django-stubs, a test extra
    from django_stubs_ext import StrOrPromise

# Messages of events stored as a code alone, in `detail` (translated at read time).
LOST_CONTACT_CLEARED = gettext_noop("lost contact cleared")
RISK_REVIEWED = gettext_noop("risk flags reviewed")
LEGAL_HOLD_SET = gettext_noop("legal hold set")
LEGAL_HOLD_LIFTED = gettext_noop("legal hold lifted")
PROVOCATION_FLAGGED = gettext_noop("flagged: the case is frozen")
PROVOCATION_CLEARED = gettext_noop("cleared: the case moves again")

# Kinds whose `detail` is a message id (or an old English sentence that may be one).
WORDED_KINDS = frozenset(
    {
        EventKind.LOST_CONTACT,
        EventKind.CHECK_IN,
        EventKind.CONTACT,
        EventKind.EDIT,
        EventKind.LEGAL_HOLD,
        EventKind.PROVOCATION,
        EventKind.ANONYMISED,
        EventKind.REMINDER,
        EventKind.ROUTE,
        EventKind.STAGE,
        EventKind.MERGE,
        EventKind.TRANSFER,
        EventKind.UNDONE,
        # "summons attached": the kind only (documents.services), never a name or text.
        EventKind.DOCUMENT,
        # "message from the person", "reply to the person" (intake.conversations).
        EventKind.MESSAGE,
    }
)

# One message per code; its placeholders are the facts of that name, worded by FORMAT.
MESSAGES: dict[str, "StrOrPromise"] = {
    # The fact alone: an outcome, the names of the fields changed, why data was removed.
    "closed": "%(outcome)s",
    "edited": "%(fields)s",
    "follow_up_set": gettext_lazy("follow-up set for %(when)s"),
    "snoozed": gettext_lazy("%(reminder)s snoozed until %(when)s"),
    "acknowledged": gettext_lazy("%(reminder)s acknowledged"),
    "closing_cancelled": gettext_lazy("cancelled by the closing: %(reminders)s"),
    "dismissed": gettext_lazy("%(reminder)s dismissed"),
    "destination_warning": gettext_lazy(
        "%(country)s is marked as extraditing; the person is on a wanted list"
    ),
    "leg_added": gettext_lazy("leg %(number)s added"),
    "leg_removed": gettext_lazy("leg %(number)s removed"),
    "leg_changed": gettext_lazy("leg %(number)s changed"),
    "transfer_asked": gettext_lazy("asked: to %(team)s"),
    "transfer_accepted": gettext_lazy("accepted: now with %(team)s"),
    "transfer_declined": gettext_lazy("declined by %(team)s"),
    "transfer_withdrawn": gettext_lazy("withdrawn: stays with %(team)s"),
    "merged_in": gettext_lazy("%(folded)s merged into this case"),
    "merged_into": gettext_lazy("merged into %(kept)s"),
    "merge_undone": gettext_lazy("merge of %(folded)s into %(kept)s undone"),
    "purged": "%(purge)s",
    # How many files a request brought at triage (intake.services): never their names.
    "files_came": ngettext_lazy(
        "%(count)s file came with %(request)s", "%(count)s files came with %(request)s", "count"
    ),
}
PERSON_FIELD_NAMES = frozenset(field.name for field in Person._meta.fields)
# Parts added after a leg's change, when they hold.
LEG_MOVED = gettext_lazy("moved from place %(old)s")
LEG_VOLUNTEER = gettext_lazy("volunteer changed")


def when(value: str) -> str:
    """An ISO time in the active language's short format ("6 декабря 14:00")."""
    moment = parse_datetime(value)
    if moment is None:
        return value
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def field_names(names: list[str]) -> str:
    labels = []
    for name in names:
        model = Person if name in PERSON_FIELD_NAMES else Case
        try:
            labels.append(field_label(model, name))
        except FieldDoesNotExist:  # a field since removed: its name is better than nothing
            labels.append(name)
    return ", ".join(labels)


# A follow-up's label is the stage's word too ("Follow-up"): on the timeline it is named
# for what it asks.
REMINDER_NAMES = {ReminderKind.FOLLOW_UP: pgettext_lazy("reminder", "Follow-up")}


def reminder_name(kind: str) -> str:
    if kind in REMINDER_NAMES:
        return str(REMINDER_NAMES[kind])  # type: ignore[index]
    return label_of(ReminderKind, value=kind)


FORMAT: dict[str, Callable[[object], str]] = {
    "when": lambda value: when(str(value)),
    "fields": lambda value: field_names(list(value)),  # type: ignore[call-overload]
    "reminder": lambda value: reminder_name(str(value)),
    "reminders": lambda value: ", ".join(reminder_name(str(kind)) for kind in value),  # type: ignore[attr-defined]
    "outcome": lambda value: label_of(Outcome, value=str(value)),
    "purge": lambda value: label_of(PurgeKind, value=str(value)),
}


def facts(code: str, **values: object) -> dict:
    """The facts to store for `code`; times become ISO 8601 in UTC."""
    if code not in MESSAGES:
        raise ValueError(f"no message for {code}")
    stored = {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in values.items()
    }
    return {"code": code, **stored}


def describe(event: CaseEvent) -> str:
    """The event's detail in the active language; "" when it has none."""
    stored = event.facts or {}
    message = MESSAGES.get(stored.get("code", ""))
    if message is None:
        if event.kind in WORDED_KINDS and event.detail:
            return gettext(event.detail)
        return event.detail
    try:
        values = {
            name: FORMAT[name](value) if name in FORMAT else value
            for name, value in stored.items()
            if name != "code"
        }
        # Not str() first: a plural message picks its form from the values.
        text = message % values
    except (KeyError, TypeError, ValueError):
        # Facts a message no longer fits (renamed since): the page shows what it can.
        return event.detail
    if stored["code"] == "leg_changed":
        parts = [text]
        if "moved_from" in stored:
            parts.append(str(LEG_MOVED) % {"old": stored["moved_from"]})
        if stored.get("volunteer_changed"):
            parts.append(str(LEG_VOLUNTEER))
        text = ", ".join(parts)
    return text
