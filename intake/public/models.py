from django.db import models
from django.utils import timezone


class PassphraseFailure(models.Model):
    """One wrong reference or passphrase at the public form's "come back" page, counted
    against the reference and against the network address it came from (intake.public.
    throttle). Both are keyed digests, never in clear; rows older than the window go."""

    digest = models.CharField(max_length=64)
    failed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # "How many for this key since then?", and the purge of the old ones.
            models.Index(fields=["digest", "failed_at"]),
            models.Index(fields=["failed_at"]),
        ]

    def __str__(self) -> str:
        return f"failure {self.pk}"
