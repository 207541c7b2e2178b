from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from casework.models import Case, Category
from documents.models import Document
from privacy.fields import EncryptedCharField, EncryptedTextField
from privacy.models import Sealed


class Channel(models.TextChoices):
    TELEGRAM = "telegram", _("Telegram")
    SIGNAL = "signal", _("Signal")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WEB_FORM = "web_form", _("Web form")
    IN_PERSON = "in_person", _("In person")


class TriageState(models.TextChoices):
    NEW = "new", _("New")
    ACCEPTED = "accepted", _("Accepted")
    DUPLICATE = "duplicate", _("Duplicate")
    REJECTED = "rejected", _("Rejected")


class IntakeRequestQuerySet(models.QuerySet):
    def purge(self, now) -> int:
        """Blanks the contact, message and reason of these requests, drops their blind
        indexes and deletes the files they still hold alone (a rejected request's; the blobs
        once the transaction commits); channel, dates, state and team stay as statistics.
        Callers hold the transaction. Reachable as `case.intake_requests.purge(...)`, so
        casework can purge a case's requests without importing intake."""
        IntakeIndex.objects.filter(request__in=self).delete()
        Document.objects.filter(intake_request__in=self, case__isnull=True).purge()
        return self.update(contact="", message="", rejection_reason="", purged_at=now)


class IntakeRequest(Sealed):
    """One incoming request as logged, before anyone decided what it is."""

    reference = models.CharField(_("reference"), max_length=16, unique=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="intake_requests")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    received_at = models.DateTimeField(_("received"))
    contact = EncryptedCharField(
        _("contact"),
        max_length=200,
        purgeable=True,
        help_text=_("Phone number, @handle or e-mail the person wrote from."),
    )
    # Purgeable, with the contact: IntakeRequestQuerySet.purge blanks them.
    message = EncryptedTextField(_("message"), blank=True, purgeable=True)
    category_guess = models.CharField(
        _("category (a guess)"), max_length=16, choices=Category, blank=True
    )
    state = models.CharField(
        _("state"), max_length=16, choices=TriageState, default=TriageState.NEW
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    logged_at = models.DateTimeField(default=timezone.now)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = EncryptedTextField(_("reason"), blank=True, purgeable=True)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="intake_requests"
    )
    # Set when the contact and message were blanked (retention, or the case was erased).
    purged_at = models.DateTimeField(null=True, blank=True)

    objects = IntakeRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("incoming request")
        verbose_name_plural = _("incoming requests")
        indexes = [
            # The queue's order (received_at, id): the oldest few read from the index,
            # not every waiting request sorted.
            models.Index(fields=["team", "state", "received_at", "id"]),
            # The nightly purge's question: decided, not yet purged, decided since when?
            models.Index(
                fields=["triaged_at"],
                condition=models.Q(purged_at__isnull=True),
                name="request_awaiting_purge",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class IntakeIndex(models.Model):
    """Blind index of the contact a request came from, for duplicate detection."""

    request = models.ForeignKey(IntakeRequest, on_delete=models.CASCADE, related_name="indexes")
    kind = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} index"
