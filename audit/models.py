from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.choices import label_of
from privacy.fields import EncryptedTextField
from privacy.models import Sealed


class Action(models.TextChoices):
    LOGIN = "login", _("Signed in (password)")
    LOGIN_FAILED = "login_failed", _("Sign-in failed")
    SECOND_FACTOR = "second_factor", _("Second factor verified")
    SECOND_FACTOR_FAILED = "second_factor_failed", _("Second factor failed")
    ENROLLED = "enrolled", _("Authenticator set up")
    LOGOUT = "logout", _("Signed out")
    LOCKED_OUT = "locked_out", _("Locked out")
    DEVICE_RESET = "device_reset", _("Second factor reset")
    SESSIONS_ENDED = "sessions_ended", _("Signed out everywhere")
    ACCOUNT_CHANGED = "account_changed", _("Account, role or team changed")
    CASE_VIEWED = "case_viewed", _("Case viewed")
    CASE_OPENED = "case_opened", _("Case opened")
    CASE_CHANGED = "case_changed", _("Case details changed")
    CASE_MOVED = "case_moved", _("Stage changed")
    CASE_ASSIGNED = "case_assigned", _("Case assigned")
    CASE_NOTE = "case_note", _("Timeline entry added")
    CASE_NOTE_UNDONE = "case_note_undone", _("Contact or check-in undone")
    BREAK_GLASS = "break_glass", _("Break-glass")
    REMINDER_CHANGED = "reminder_changed", _("Reminder set or changed")
    REQUEST_VIEWED = "request_viewed", _("Request viewed")
    REQUEST_LOGGED = "request_logged", _("Request logged")
    REQUEST_TRIAGED = "request_triaged", _("Request triaged")
    AUDIT_EXPORTED = "audit_exported", _("Audit log exported")
    AUDIT_VERIFIED = "audit_verified", _("Audit chain verified")
    KEYS_ROTATED = "keys_rotated", _("Encryption keys rotated")
    LEGAL_HOLD = "legal_hold", _("Legal hold set or lifted")
    CASE_PURGED = "case_purged", _("Personal data purged (retention)")
    CASE_ERASED = "case_erased", _("Personal data erased on request")
    ACCOUNT_CONTAINED = "account_contained", _("Account contained (compromised)")
    BREAK_GLASS_REVIEWED = "break_glass_reviewed", _("Break-glass reviewed")
    ROUTE_CHANGED = "route_changed", _("Route leg added, changed or removed")
    ROUTE_VIEWED = "route_viewed", _("Route leg viewed")
    PROVOCATION = "provocation", _("Suspected provocation flagged or cleared")
    LOST_CONTACT = "lost_contact", _("Lost contact raised or cleared")
    DESTINATION_WARNING = "destination_warning", _("Destination warning seen")
    DESTINATION_CHANGED = "destination_changed", _("Destination risk register changed")
    GRANT_PROPOSED = "grant_proposed", _("Role or team change proposed")
    GRANT_APPROVED = "grant_approved", _("Role or team change approved")
    GRANT_REFUSED = "grant_refused", _("Role or team change refused")
    GRANT_REVOKED = "grant_revoked", _("Role or team change withdrawn")
    MEMBER_INVITED = "member_invited", _("Member invited")
    INVITE_COMPLETED = "invite_completed", _("Invitation completed")
    ACCOUNT_DEACTIVATED = "account_deactivated", _("Account deactivated")
    LOCKOUT_CLEARED = "lockout_cleared", _("Lock-out cleared")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    PASSWORD_RESET = "password_reset", _("Password reset link issued")
    TEAM_LEFT = "team_left", _("Removed from a team: cases unassigned")
    STEP_UP = "step_up", _("Password and code confirmed again")
    STEP_UP_FAILED = "step_up_failed", _("Password and code confirmation failed")
    REFUSED = "refused", _("Action refused")
    DUPLICATE_PROBE = "duplicate_probe", _("Match in another team reported")
    REASON_VIEWED = "reason_viewed", _("Break-glass reason read")
    CHECK_IN_CANCELLED = "check_in_cancelled", _("Urgent check-in cancelled")
    CHAIN_REHASHED = "chain_rehashed", _("Clear addresses removed, audit chain re-hashed")
    CHAIN_KEYED = "chain_keyed", _("Audit chain linked again under the audit key")
    APPROVAL_ASKED = "approval_asked", _("Approval of a move asked")
    APPROVAL_DECIDED = "approval_decided", _("Approval of a move decided")
    SEARCHED = "searched", _("Searched")
    CASE_HANDED_OVER = "case_handed_over", _("Case handed over")
    TRANSFER_ASKED = "transfer_asked", _("Case transfer asked")
    TRANSFER_DECIDED = "transfer_decided", _("Case transfer decided")
    CASES_MERGED = "cases_merged", _("Cases merged")
    MERGE_UNDONE = "merge_undone", _("Merge undone")
    DOCUMENT_ATTACHED = "document_attached", _("Document attached")
    DOCUMENT_DOWNLOADED = "document_downloaded", _("Document downloaded")
    DOCUMENT_PREVIEWED = "document_previewed", _("Document preview shown")
    MESSAGE_RECEIVED = "message_received", _("Message received from the person")
    REPLY_SENT = "reply_sent", _("Reply sent to the person")
    # A request's file, before triage decided it: a read of the request, not of a case.
    REQUEST_DOCUMENT_DOWNLOADED = "request_doc_downloaded", _("Request's document downloaded")
    REQUEST_DOCUMENT_PREVIEWED = "request_doc_previewed", _("Request's document preview shown")


# An event that still keeps where it came from: the nightly purge looks for these only.
ADDRESS_KEPT = ~Q(source_network="") | ~Q(source_digest="")


class AccessEvent(Sealed):
    """One line of the append-only access log, chained by HMAC links under AUDIT_KEY.

    Targets are named by reference (C-2026-00042, R-…, a user id), never by anything
    personal; a break-glass reason, which may be, is encrypted (and hashed in clear).
    No clear client address: only its network, and on a sign-in a keyed digest, both outside
    the chain and blanked after ADDRESS_RETENTION_DAYS (audit/addresses.py).
    """

    # The event's number, given by the database as it is written: no lock, whoever writes.
    seq = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(max_length=24, choices=Action, db_index=True)
    target_type = models.CharField(max_length=16, blank=True)
    target_ref = models.CharField(max_length=32, blank=True)
    # The team a case or request belongs to: coordinators see their teams' history.
    team_id = models.BigIntegerField(null=True, blank=True)
    # Outside the chain, so the nightly purge can blank them; on PostgreSQL the append-only
    # trigger lets an UPDATE blank them, never write another value.
    source_network = models.CharField(max_length=43, blank=True)
    source_digest = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    reason = EncryptedTextField(null=True, blank=True)
    # Set by the sealer (audit/log.py), seconds after the event is written: its place in the
    # chain, the link of the event before it there, and its own.
    position = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True, null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["actor", "-seq"]),
            models.Index(fields=["target_ref", "-seq"]),
            models.Index(fields=["action", "-seq"]),
            models.Index(fields=["actor", "action", "created_at"]),
            # The audit search by actor and action, newest first, without a sort.
            models.Index(fields=["actor", "action", "-seq"]),
            models.Index(
                fields=["created_at"], condition=ADDRESS_KEPT, name="audit_event_address_kept"
            ),
            # What the sealer looks for: the few events not chained yet.
            models.Index(
                fields=["seq"], condition=Q(position__isnull=True), name="audit_event_unsealed"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_ref}"

    @property
    def action_label(self) -> str:
        """get_action_display() for the log's rows (config/choices.py)."""
        return label_of(Action, value=self.action)


class ChainHead(models.Model):
    """The chain's sealed end: the position and link of the last event sealed. Only the
    sealer locks it, so one sealer at a time extends the chain; appends never touch it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # The position of the last sealed event (the number of events sealed).
    seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"chain head #{self.seq}"


class InsiderAlert(models.Model):
    """A pattern an admin must look at; turned into urgent notifications for admins."""

    class Kind(models.TextChoices):
        MANY_CASES = "many_cases", _("Opened many cases within an hour")
        BREAK_GLASS = "break_glass", _("Used break-glass")
        NEW_ADDRESS = "new_address", _("Signed in from a new address")
        CHAIN_BROKEN = "chain_broken", _("Audit chain broken")
        MANY_REQUESTS = "many_requests", _("Opened many requests within an hour")
        MANY_ROUTES = "many_routes", _("Opened many route legs within an hour")
        MANY_PROBES = "many_probes", _("Matched many contacts within an hour")
        TAMPERED = "tampered", _("Encrypted value found out of its place")
        CHECK_FAILED = "check_failed", _("Audit check could not run")
        WORKER_SILENT = "worker_silent", _("Background worker silent")
        FAILED_SIGN_INS = "failed_sign_ins", _("Many failed sign-ins in a short time")
        FORGED_WEBHOOK = "forged_webhook", _("Many forged Telegram webhook calls")

    kind = models.CharField(max_length=16, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    event_seq = models.BigIntegerField(null=True, blank=True)
    # Where a refused encrypted value was found (model, field, row), never the value.
    detail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} #{self.event_seq}"
