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
    # Arrived through a channel over a rate limit: stored, not yet in the triage queue;
    # intake.conversations.held_release lets it in as the limits allow (intake.volume).
    HELD = "held", _("Held by the rate limits")


class IntakeRequestQuerySet(models.QuerySet):
    def purge(self, now) -> int:
        """Blanks the contact, message and reason of these requests, drops their blind
        indexes and deletes the files they still hold alone (a rejected request's; the blobs
        once the transaction commits); channel, dates, state and team stay as statistics.
        Callers hold the transaction. Reachable as `case.intake_requests.purge(...)`, so
        casework can purge a case's requests without importing intake."""
        IntakeIndex.objects.filter(request__in=self).delete()
        Document.objects.filter(intake_request__in=self, case__isnull=True).purge()
        messages = Message.objects.filter(request__in=self)
        # Nobody is left to answer: a reply still waiting is not sent, a held message not let in.
        messages.filter(state=Delivery.QUEUED).update(
            state=Delivery.FAILED, next_attempt_at=None, error="purged"
        )
        messages.filter(state=Delivery.HELD).update(state=Delivery.RECEIVED)
        messages.update(text="")
        return self.update(
            contact="",
            message="",
            rejection_reason="",
            reply_address="",
            address_digest="",
            passphrase_hash="",
            submit_digest="",
            source_digest="",
            text_digest="",
            purged_at=now,
        )


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
    # None: the request arrived by itself, through a channel (the bot, the public form).
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
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
    # A conversation through a channel: where replies go (the Telegram chat), a keyed digest
    # of it to find the request when the same chat writes again (intake.conversations), the
    # language guessed from the first message (replies and advice in it), and for the public
    # form the slow hash of the passphrase the person comes back with.
    reply_address = EncryptedCharField(max_length=100, blank=True, purgeable=True)
    address_digest = models.CharField(max_length=64, blank=True, db_index=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    passphrase_hash = models.CharField(max_length=128, blank=True)
    # The public form's one-time token the request was sent with, as a keyed digest: the
    # same page sent again (a reload) finds it and opens nothing (intake.public.once).
    submit_digest = models.CharField(max_length=64, blank=True)
    # Volume (intake.volume). When a request from a channel entered the triage queue, at once
    # or released by the rate limits (None while held, and for requests a volunteer logged);
    # a keyed digest of the network it was sent from (the public form), kept only while the
    # per-source limit counts it; a keyed digest of its first message's normalised text, and
    # when the same text from many addresses marked it as a possible flood.
    admitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    source_digest = models.CharField(max_length=64, blank=True, db_index=True)
    text_digest = models.CharField(max_length=64, blank=True, db_index=True)
    flood_at = models.DateTimeField(null=True, blank=True)

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
            # What the rate limits hold back, oldest first (intake.conversations.held_release).
            models.Index(
                fields=["received_at", "id"],
                condition=models.Q(state="held"),
                name="request_held",
            ),
        ]
        constraints = [
            # One request per sent page of the public form, however many times it is sent,
            # at once or not: the second insert of a digest fails (intake.public.services).
            models.UniqueConstraint(
                fields=["submit_digest"],
                condition=~models.Q(submit_digest=""),
                name="request_submitted_once",
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


class Direction(models.TextChoices):
    IN = "in", _("From the person")
    OUT = "out", _("Reply")


class Delivery(models.TextChoices):
    RECEIVED = "received", _("Received")
    # A reply waiting to go out: the first try, or a retry at next_attempt_at.
    QUEUED = "queued", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Not delivered")
    # What the person wrote over the rate limit of their address: stored, let in later.
    HELD = "held", _("Held by the rate limit")


class Message(Sealed):
    """One message of a request's conversation with the person, through its channel: what
    they wrote, or a reply from the app. A reply's delivery state is this row, so a broker
    outage delays it and loses nothing (intake.conversations.replies_due)."""

    request = models.ForeignKey(IntakeRequest, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=8, choices=Direction)
    # Purgeable with the request: IntakeRequestQuerySet.purge blanks it.
    text = EncryptedTextField(_("message"), blank=True, purgeable=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=Delivery, default=Delivery.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A web-form reply, when the person read it with their passphrase.
    read_at = models.DateTimeField(null=True, blank=True)
    # The channel's id for the message (Telegram's message_id), to delete it from the chat.
    external_id = models.CharField(max_length=32, blank=True)
    # Why the last try failed: a short code from the channel, never the text.
    error = models.CharField(max_length=64, blank=True)
    # When a message from the person was let in (at once, or released from HELD): what the
    # per-address rate limit counts (intake.volume).
    admitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["request", "admitted_at"]),
            models.Index(
                fields=["created_at", "id"],
                condition=models.Q(state="held"),
                name="message_held",
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="queued"),
                name="reply_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} message {self.pk}"


class UpdateOutcome(models.TextChoices):
    STORED = "stored", _("Stored")
    # Not a message (an edit, a channel post, a button), or from a group or channel.
    IGNORED_KIND = "ignored_kind", _("Ignored: not a message")
    IGNORED_CHAT = "ignored_chat", _("Ignored: not a private chat")
    # A photo, a document, a location, a sticker: the person is asked to write instead.
    IGNORED_CONTENT = "ignored_content", _("Ignored: not text")
    # /start, /help: answered with how to write to us, nothing stored.
    COMMAND = "command", _("Answered: a command")


class TelegramUpdate(models.Model):
    """An update the Telegram bot has taken, by Telegram's id only: a replayed update (the
    webhook retried, the poller restarted) finds its id here and is not stored twice. The
    outcome counts what was ignored. Nothing about the person; dropped after a few days
    (Telegram keeps an update for one day)."""

    update_id = models.BigIntegerField(unique=True)
    outcome = models.CharField(max_length=16, choices=UpdateOutcome)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"update {self.update_id}"


class ForgedWebhookCalls(models.Model):
    """Webhook calls refused for a wrong or missing secret, counted per minute: the first
    TELEGRAM_FORGED_AUDIT_PER_MINUTE of a minute are also audited, the rest only counted
    here (intake.channels.forged). One row a minute at most, nothing of what was sent;
    dropped with the update ids."""

    minute = models.DateTimeField(unique=True)
    calls = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.calls} forged calls at {self.minute.isoformat()}"
