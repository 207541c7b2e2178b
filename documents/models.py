from functools import partial

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from documents import vault
from privacy.fields import EncryptedCharField
from privacy.models import Sealed


class DocumentKind(models.TextChoices):
    SUMMONS = "summons", _("Summons")
    IDENTITY = "identity", _("Identity document")
    MILITARY = "military", _("Military document")
    MEDICAL = "medical", _("Medical")
    LEGAL = "legal", _("Legal")
    TRAVEL = "travel", _("Travel")
    OTHER = "other", _("Other")


class DocumentQuerySet(models.QuerySet):
    def purge(self) -> int:
        """Deletes these documents, and their blobs once the transaction commits (a purge
        rolled back keeps both). Callers hold the transaction. Reachable as
        `case.documents.purge()`, so casework purges a case's files without importing
        this app."""
        names = list(self.values_list("storage_name", flat=True))
        count, _deleted = self.delete()
        for name in names:
            transaction.on_commit(partial(vault.delete, name))
        return count


class Document(Sealed):
    """A file attached to a case (at triage, to the request that led to it; or to one leg
    of its route). The bytes are cleaned (documents.cleaning) and encrypted (documents.vault)
    before storage; the row keeps their random storage name, never the file's own name in
    clear."""

    case = models.ForeignKey("casework.Case", on_delete=models.CASCADE, related_name="documents")
    intake_request = models.ForeignKey(
        "intake.IntakeRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="documents",
    )
    # A leg's documents are the leg's: its volunteer and the team's coordinators only.
    leg = models.ForeignKey(
        "casework.RouteLeg",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
    )
    # Numbered within the case, for the generic download name ("C-2026-00042-summons-3.pdf").
    number = models.PositiveIntegerField()
    kind = models.CharField(_("kind"), max_length=16, choices=DocumentKind)
    description = EncryptedCharField(_("description"), max_length=200, blank=True)
    original_name = EncryptedCharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    storage_name = models.CharField(max_length=100, unique=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-added_at", "-pk"]

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    def __str__(self) -> str:
        return f"{self.kind} {self.number}"
