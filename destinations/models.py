"""The destination-risk register: what the group knows about each country a route may end in.

Not about a person, yet not harmless: a dump that shows which countries the group studies,
what papers it tells people to carry and which incidents it knows of maps its routes. So the
free text (incidents, passport needed, notes) is encrypted. The country code and the yes/no/
unknown verdict stay clear: the code must match `Case.destination_country`, itself clear, and
whether a country honours Russian wanted-list requests is what the adversary knows best.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.fields import EncryptedTextField
from privacy.models import Sealed


class Extradites(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


class DestinationRisk(Sealed):
    country = models.CharField(
        _("country code"),
        max_length=2,
        unique=True,
        help_text=_("Two-letter country code, e.g. GE or DE."),
    )
    extradites = models.CharField(
        _("extradites to Russia or honours Russian wanted-list requests"),
        max_length=8,
        choices=Extradites,
        default=Extradites.UNKNOWN,
    )
    incidents = EncryptedTextField(
        _("documented incidents"),
        blank=True,
        help_text=_("Detentions, abductions, extradition requests: when, what, the source."),
    )
    passport_needed = EncryptedTextField(
        _("passport needed"),
        blank=True,
        help_text=_("Which passport gets a person in: internal, international, visa rules."),
    )
    notes = EncryptedTextField(
        _("notes"),
        blank=True,
        help_text=_(
            "About the country, not a route: contacts, safe houses and crossing points belong "
            "in a case's route legs."
        ),
    )
    # Optimistic locking, as on cases: a save based on an older version is refused.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("destination risk")
        verbose_name_plural = _("destination risks")
        ordering = ["country"]

    def __str__(self) -> str:
        return self.country

    @property
    def warns(self) -> bool:
        """Does planning warn about this country for a person on a wanted list?"""
        return self.extradites == Extradites.YES
