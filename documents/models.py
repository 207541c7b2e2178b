from functools import partial

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models import Case
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

    def move_to(self, case: Case) -> int:
        """Moves these documents to `case`, numbered after its highest in their own order
        (1, 2 of a request become 4, 5 of a case that had 3). Callers hold the transaction;
        the case's row is locked here, so a file attached to it meanwhile
        (documents.services.document_attach locks it too) takes no number twice."""
        list(Case.objects.select_for_update().filter(pk=case.pk).values_list("pk"))
        last = self.model.objects.filter(case=case).next_number() - 1
        return self.update(case=case, number=F("number") + last)

    def next_number(self) -> int:
        """The number after the highest of these (a case's files, or a request's)."""
        return (self.aggregate(last=Max("number"))["last"] or 0) + 1


class Document(Sealed):
    """A file attached to a case (or to one leg of its route), or at triage to a request
    not decided yet: it moves to the request's case when the request is accepted, attached
    or marked as a duplicate, and is purged with the request when it is rejected. The bytes
    are cleaned (documents.cleaning) and encrypted (documents.vault) before storage; the row
    keeps their random storage name, never the file's own name in clear."""

    # Empty while the file is its request's alone.
    case = models.ForeignKey(
        "casework.Case",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
    )
    # The request it came with. A request is never deleted; if one were, a file it still
    # holds alone would stop it (the check below), rather than be left to nobody.
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
    # Numbered within the case (within the request while it has none), for the generic
    # download name ("C-2026-00042-summons-3.pdf", "R-2026-00012-summons-1.pdf").
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
        constraints = [
            models.CheckConstraint(
                condition=models.Q(case__isnull=False) | models.Q(intake_request__isnull=False),
                name="document_has_case_or_request",
            ),
        ]

    @property
    def is_image(self) -> bool:
        """A photo (stored as JPEG or PNG): it has a small preview."""
        return self.content_type.startswith("image/")

    def __str__(self) -> str:
        return f"{self.kind} {self.number}"
