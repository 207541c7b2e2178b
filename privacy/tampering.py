"""What happens when an encrypted value is refused (privacy.fields.DecryptionError).

A value that does not decrypt, or that was sealed for another place or row (privacy.seal),
was written around the application: by someone holding the database, or under a key that
is no longer configured. Each one is reported where it surfaces:

- one log line naming the place (model and field) and the row, never the value;
- the ``value_refused`` signal, which the audit app turns into an alert for the admins
  (privacy imports no other app: audit imports privacy, and connects in its ready());
- in a request, a page saying the record could not be read and the admins were told,
  instead of a traceback (RefusedValueMiddleware); in a Celery task, the task fails as
  before (config.celery reports it).

The report is made once the error has left the view or task, so the transactions it
broke have rolled back and the alert is not rolled back with them.
"""

import logging
import sys
from dataclasses import dataclass

from django.apps import apps
from django.db import DatabaseError, connection
from django.dispatch import Signal
from django.shortcuts import render

from privacy.fields import DecryptionError

logger = logging.getLogger("privacy.tampering")

# Rows named in a report when the value was found by its stored text.
MAX_ROWS = 5


# Sent once for each refused value reported, with `found` (a Refusal) and `actor` (the
# user whose request read it, or None).
value_refused = Signal()


@dataclass(frozen=True)
class Refusal:
    place: str  # "casework.person.notes"
    rows: tuple  # primary keys of the rows holding the value; empty when not found
    problem: str
    origin: str = ""  # where a moved value was sealed for: "casework.person.legal_name row 17"

    @property
    def text(self) -> str:
        """One line for the log and the alert: places and row numbers only."""
        rows = ", ".join(str(pk) for pk in self.rows) or "not found"
        line = f"{self.place} row {rows}: {self.problem}"
        return f"{line} ({self.origin})" if self.origin else line


def report(error: DecryptionError, *, actor=None) -> Refusal:
    """Logs the refused value and tells the signal's receivers; once per error."""
    if isinstance(error.reported, Refusal):
        return error.reported
    found = Refusal(
        place=error.place or "unknown",
        rows=(error.pk,) if error.pk is not None else _rows_holding(error),
        problem=error.problem,
        origin=_origin(error),
    )
    error.reported = found
    logger.error("Encrypted value refused: %s", found.text)
    for _receiver, result in value_refused.send_robust(sender=Refusal, found=found, actor=actor):
        if isinstance(result, Exception):
            logger.error("The alert for a refused value failed", exc_info=result)
    return found


def _can_query() -> bool:
    return not (connection.in_atomic_block and connection.needs_rollback)


def _field(place: str):
    label, _dot, name = place.rpartition(".")
    try:
        return apps.get_model(label)._meta.get_field(name)
    except (LookupError, ValueError):
        return None


def _rows_holding(error: DecryptionError) -> tuple:
    """The rows whose column holds the refused token, found by its stored text: the field
    that refused it did not know its row. Only ever run on this error path."""
    field = _field(error.place)
    if field is None or not error.stored or not _can_query():
        return ()
    quote = connection.ops.quote_name
    model = field.model._meta
    sql = (
        f"SELECT {quote(model.pk.column)} FROM {quote(model.db_table)} "  # noqa: S608
        f"WHERE {quote(field.column)} = %s ORDER BY 1 LIMIT {MAX_ROWS}"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, [error.stored])
            return tuple(row[0] for row in cursor.fetchall())
    except DatabaseError:
        return ()


def _origin(error: DecryptionError) -> str:
    """Where a moved value was written: its place, and the row still carrying its seal."""
    if error.origin is None:
        return ""
    place, seal = error.origin
    field = _field(place)
    row = None
    if field is not None and _can_query():
        try:
            rows = field.model._base_manager.filter(seal=seal).values_list("pk", flat=True)
            row = rows.first()
        except DatabaseError:
            pass
    return f"sealed for {place} row {'not found' if row is None else row}"


class RefusedValueMiddleware:
    """A view (or its template) that met a refused value answers a page saying so, after
    the value is reported. Listed last, so it sees the view's exception first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DecryptionError):
            return None
        report(exception, actor=_user(request))
        return render(request, "privacy/unreadable.html", status=500)


def _user(request):
    try:
        user = request.user
        return user if user.is_authenticated else None
    except (AttributeError, DecryptionError):
        return None  # no user, or the user's own row is the one refused


def report_unhandled(sender, request=None, **kwargs) -> None:
    """Django's got_request_exception: a refused value met outside a view (a middleware
    loading the user, say) gets the plain error page, and is still reported."""
    error = sys.exc_info()[1]
    if isinstance(error, DecryptionError):
        report(error)
