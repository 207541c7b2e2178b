from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from config.choices import label_of
from privacy.fields import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedTextField,
)
from privacy.models import Sealed


class Stage(models.TextChoices):
    NEW = "new", _("New")
    SCREENING = "screening", _("Screening")
    PLANNING = "planning", _("Planning")
    PREPARATION = "preparation", _("Preparation")
    IN_TRANSIT = "in_transit", _("In transit")
    CROSSING = "crossing", _("Crossing")
    ARRIVED = "arrived", _("Arrived")
    FOLLOW_UP = "follow_up", _("Follow-up")
    ON_HOLD = "on_hold", _("On hold")
    CLOSED = "closed", _("Closed")


class Category(models.TextChoices):
    DESERTER = "deserter", _("Deserter")
    AWOL = "awol", _("AWOL")
    MOBILISED = "mobilised", _("Mobilised reservist")
    CONSCRIPT = "conscript", _("Conscript")
    EVADER = "evader", _("Draft evader")
    RELATIVE = "relative", _("Relative")


class Outcome(models.TextChoices):
    SAFE = "safe", _("Safe")
    HIDDEN = "hidden", _("Stayed hidden in Russia")
    WITHDREW = "withdrew", _("Withdrew")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    DETAINED = "detained", _("Detained")
    REFERRED = "referred", _("Referred elsewhere")
    DUPLICATE = "duplicate", _("Duplicate")
    PROVOCATION = "provocation", _("Suspected provocation")


class PurgeKind(models.TextChoices):
    RETENTION = "retention", _("Retention period over")
    ERASURE = "erasure", _("Erased at the person's request")


class ReferenceCounter(models.Model):
    """The last number handed out per prefix and year (C-2026-00042, R-2026-00007)."""

    prefix = models.CharField(max_length=1)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="one_counter_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class Person(Sealed):
    """The one who asked for help. Everything identifying is encrypted; search goes
    through PersonIndex (blind indexes), never through these columns."""

    codename = models.CharField(_("codename"), max_length=40, unique=True)
    category = models.CharField(_("category"), max_length=16, choices=Category, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, default="ru", blank=True
    )
    # Purgeable: the retention purge blanks them (casework.services.retention.BLANK_PERSON).
    legal_name = EncryptedCharField(_("legal name"), max_length=200, blank=True, purgeable=True)
    birth_date = EncryptedDateField(_("date of birth"), null=True, blank=True)
    phone = EncryptedCharField(_("phone"), max_length=40, blank=True, purgeable=True)
    messenger_handles = EncryptedTextField(
        _("messenger handles"),
        blank=True,
        purgeable=True,
        help_text=_("One per line, e.g. @handle."),
    )
    email = EncryptedEmailField(_("e-mail"), max_length=200, blank=True, purgeable=True)
    current_location = EncryptedCharField(
        _("current location"), max_length=200, blank=True, purgeable=True
    )
    military_unit = EncryptedCharField(
        _("military unit"), max_length=200, blank=True, purgeable=True
    )
    notes = EncryptedTextField(_("notes"), blank=True, purgeable=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when the last of the person's cases lost its personal data
    # (casework.services.retention).
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.codename


class PersonIndex(models.Model):
    """One blind index of a person's contact or identity (see privacy.blind_index).

    `details` rows are recomputed from the person's fields on every edit; `intake` rows
    keep the contacts requests came from, so a repeat request still meets the case.
    """

    DETAILS = "details"
    INTAKE = "intake"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="indexes")
    kind = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, db_index=True)
    source = models.CharField(max_length=8, default=DETAILS)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind", "digest", "source"], name="one_index_each"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} index"


def field_label(model: models.Model | type[models.Model], name: str) -> str:
    """The verbose name of one of the model's own fields, for messages and audit events
    that name a field (never its value)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise ValueError(f"not a field of its own: {name}")
    return str(field.verbose_name)


# The boolean risk flags of a case, in the order pages show them.
RISK_FLAGS = (
    "flag_wanted",
    "flag_criminal_case",
    "flag_internal_passport_only",
    "flag_dependants",
    "flag_health",
)


class Case(Sealed):
    reference = models.CharField(_("reference"), max_length=16, unique=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    stage = models.CharField(_("stage"), max_length=16, choices=Stage, default=Stage.NEW)
    stage_entered_at = models.DateTimeField(default=timezone.now)
    # Where an on-hold case returns to.
    held_from = models.CharField(max_length=16, choices=Stage, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome, blank=True)

    flag_wanted = models.BooleanField(_("on a wanted list"), default=False)
    flag_criminal_case = models.BooleanField(_("criminal case open"), default=False)
    flag_internal_passport_only = models.BooleanField(_("internal passport only"), default=False)
    flag_dependants = models.BooleanField(_("dependants"), default=False)
    flag_health = models.BooleanField(_("health needs"), default=False)
    risk_reviewed_at = models.DateTimeField(_("risk reviewed"), null=True, blank=True)

    destination_country = models.CharField(
        _("destination country"),
        max_length=2,
        blank=True,
        help_text=_("Two-letter country code, e.g. GE or DE."),
    )
    route_summary = EncryptedTextField(_("route summary"), blank=True, purgeable=True)
    readiness_confirmed = models.BooleanField(
        _("documents, tickets, money and housing ready"), default=False
    )
    crossing_window_start = models.DateTimeField(_("crossing window opens"), null=True, blank=True)
    crossing_window_end = models.DateTimeField(_("crossing window closes"), null=True, blank=True)
    next_action_due = models.DateField(_("next action due"), null=True, blank=True)
    # Set by a logged contact or check-in; the dispatcher measures silence from it (or from
    # entering the stage, if later) and raises the lost-contact flag (casework.lost_contact).
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    lost_contact_at = models.DateTimeField(_("lost contact since"), null=True, blank=True)

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
    )
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coordinated_cases",
        verbose_name=_("coordinator"),
    )
    # Optimistic locking: every change bumps it; a save based on an older one is refused.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    # Legal hold: set by a coordinator, it keeps the personal data past the retention
    # period and blocks erasure. The reason may name legal proceedings: encrypted.
    legal_hold_at = models.DateTimeField(_("on legal hold since"), null=True, blank=True)
    legal_hold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    legal_hold_reason = EncryptedTextField(_("legal hold reason"), blank=True, purgeable=True)
    # When the personal data was removed, and why; what is left is anonymous statistics.
    purged_at = models.DateTimeField(_("personal data removed"), null=True, blank=True)
    purge_kind = models.CharField(max_length=16, choices=PurgeKind, blank=True)

    # Suspected provocation (a fake request to learn routes and volunteers): set by the
    # assignee or a coordinator, it freezes the case (workflow.move_problems) and hides the
    # route from everyone but the team's coordinators. The reason may name sources:
    # encrypted.
    provocation_flagged_at = models.DateTimeField(
        _("suspected provocation since"), null=True, blank=True
    )
    provocation_flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    provocation_reason = EncryptedTextField(
        _("why a provocation is suspected"), blank=True, purgeable=True
    )

    # Merged into another case of the same person (casework.services.merge): closed as a
    # duplicate, out of every list, its reference leading to the case it was merged into.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from"
    )
    merged_at = models.DateTimeField(_("merged"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            # A stage's cases in the order they entered it (the dashboard's longest
            # waiting: ten of each stage, read in index order, not sorted).
            models.Index(fields=["team", "stage", "stage_entered_at", "id"]),
            # The case list's order within the user's teams (selectors.case_list_page).
            models.Index(fields=["team", "stage_entered_at", "id"]),
            models.Index(fields=["assignee", "stage"]),
            # The case list and the board filtered by assignee ("only mine", a member):
            # one member's cases of a team in the list's order.
            models.Index(
                fields=["assignee", "team", "stage_entered_at", "id"], name="case_assignee_list"
            ),
            models.Index(fields=["team", "next_action_due"]),
            models.Index(fields=["team", "-created_at"]),
            # The dashboard's unassigned cases of a team, longest waiting first.
            models.Index(
                fields=["team", "stage_entered_at", "id"],
                condition=models.Q(assignee__isnull=True) & ~models.Q(stage="closed"),
                name="case_unassigned_open",
            ),
            # The dashboard's lost-contact list of a team.
            models.Index(
                fields=["team", "lost_contact_at"],
                condition=models.Q(lost_contact_at__isnull=False),
                name="case_lost_contact",
            ),
            # The dispatcher's question: which open cases have been silent since when?
            models.Index(
                fields=["stage", "stage_entered_at"],
                condition=models.Q(lost_contact_at__isnull=True, purged_at__isnull=True),
                name="case_in_touch",
            ),
            # The nightly purge's question: closed, not yet purged, closed since when?
            models.Index(
                fields=["stage_entered_at"],
                condition=models.Q(stage="closed", purged_at__isnull=True),
                name="case_awaiting_purge",
            ),
            # The case list filtered by one risk flag: count and page from a small index.
            *(
                models.Index(
                    fields=["team", "stage_entered_at", "id"],
                    condition=models.Q(**{flag: True}),
                    name=f"case_{flag.removeprefix('flag_')[:20]}",
                )
                for flag in RISK_FLAGS
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_closed(self) -> bool:
        return self.stage == Stage.CLOSED

    @property
    def is_purged(self) -> bool:
        return self.purged_at is not None

    @property
    def on_legal_hold(self) -> bool:
        return self.legal_hold_at is not None

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    @property
    def is_frozen(self) -> bool:
        """Flagged as a suspected provocation: no stage moves, no new legs."""
        return self.provocation_flagged_at is not None

    @property
    def is_overdue(self) -> bool:
        """The next action's day has passed (as the "overdue" case filter counts it)."""
        return (
            not self.is_closed
            and self.next_action_due is not None
            and self.next_action_due < timezone.localdate()
        )

    @property
    def is_lost_contact(self) -> bool:
        return self.lost_contact_at is not None

    @property
    def risk_flags(self) -> list[str]:
        return [field_label(self, flag) for flag in RISK_FLAGS if getattr(self, flag)]

    @property
    def stage_label(self) -> str:
        """get_stage_display() for lists (config/choices.py)."""
        return label_of(Stage, value=self.stage)


class EventKind(models.TextChoices):
    CREATED = "created", _("Case opened")
    STAGE = "stage", _("Stage changed")
    ASSIGNMENT = "assignment", _("Assignment")
    NOTE = "note", _("Note")
    CHECK_IN = "check_in", _("Check-in")
    CONTACT = "contact", _("Contact logged")
    EDIT = "edit", _("Details changed")
    INTAKE = "intake", _("Request attached")
    REMINDER = "reminder", _("Reminder")
    LEGAL_HOLD = "legal_hold", _("Legal hold")
    ANONYMISED = "anonymised", _("Personal data removed")
    ROUTE = "route", _("Route changed")
    PROVOCATION = "provocation", _("Suspected provocation")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    RISK_WARNING = "risk_warning", _("Destination warning seen")
    APPROVAL = "approval", _("Approval asked or decided")
    HANDOVER = "handover", _("Handed over")
    TRANSFER = "transfer", _("Transfer to another team")
    MERGE = "merge", _("Cases merged")
    UNDONE = "undone", _("Undone")
    DOCUMENT = "document", _("Document attached")
    MESSAGE = "message", _("Message")


class CaseEvent(Sealed):
    """One entry of a case's timeline. Free text is encrypted; `detail` holds only codes
    (an English message id, a reference, a username) and `facts` the parts of a message to
    word at read time in the reader's language (casework.event_details)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=EventKind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    from_stage = models.CharField(max_length=16, choices=Stage, blank=True)
    to_stage = models.CharField(max_length=16, choices=Stage, blank=True)
    # The case version this event produced: "what changed since you opened it" reads these.
    version = models.PositiveIntegerField(default=1)
    detail = models.CharField(max_length=200, blank=True)
    # Codes only: field names, enum values, ISO times, references, team names; never a value
    # a person typed.
    facts = models.JSONField(default=dict, blank=True)
    text = EncryptedTextField(blank=True, purgeable=True)

    class Meta:
        indexes = [
            models.Index(fields=["case", "-created_at"]),
            # The dashboard's crossings per week: the few moves from crossing to arrived,
            # by time, with their case for the team (an index-only scan).
            models.Index(
                fields=["created_at", "case"],
                condition=models.Q(kind="stage", from_stage="crossing", to_stage="arrived"),
                name="event_crossed",
            ),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"

    # get_FOO_display() for the timeline's rows (config/choices.py).
    @property
    def kind_label(self) -> str:
        return label_of(EventKind, value=self.kind)

    @property
    def from_stage_label(self) -> str:
        return label_of(Stage, value=self.from_stage)

    @property
    def to_stage_label(self) -> str:
        return label_of(Stage, value=self.to_stage)


class RouteLeg(Sealed):
    """One leg of a case's route, in order. Compartmentalised: its details are for the
    team's coordinators and the leg's own volunteer (casework.selectors.routes.route_for);
    everyone else on the case learns "leg 2 of 4, planned 12 Dec". Only the order and the
    date are in clear."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="legs")
    position = models.PositiveSmallIntegerField()
    planned_on = models.DateField(_("planned date"), null=True, blank=True)
    origin = EncryptedCharField(_("from"), max_length=200)
    destination = EncryptedCharField(_("to"), max_length=200)
    means = EncryptedCharField(
        _("means of travel"), max_length=200, blank=True, help_text=_("e.g. bus, car, on foot")
    )
    contact = EncryptedTextField(_("contact on the way"), blank=True)
    safe_house = EncryptedTextField(_("safe house"), blank=True)
    notes = EncryptedTextField(_("notes"), blank=True)
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="route_legs",
        verbose_name=_("volunteer for this leg"),
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("route leg")
        verbose_name_plural = _("route legs")
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["case", "position"]),
            models.Index(fields=["volunteer", "case"]),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} leg {self.position}"


class TransferState(models.TextChoices):
    PENDING = "pending", _("Waiting for the other team")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class CaseTransfer(Sealed):
    """A coordinator's proposal to move a case to another team, which that team's
    coordinators accept or decline (casework.services.handover). Until accepted the case
    stays where it is; the other team sees only what it needs to decide (the pending page).
    The note and the reason may name the person's situation: encrypted."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transfers")
    from_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    to_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="+", verbose_name=_("to team")
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now)
    note = EncryptedTextField(_("note for the other team"), purgeable=True)
    state = models.CharField(max_length=16, choices=TransferState, default=TransferState.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = EncryptedTextField(_("reason"), blank=True, purgeable=True)

    class Meta:
        verbose_name = _("case transfer")
        verbose_name_plural = _("case transfers")
        constraints = [
            # One open proposal per case: two could move it to two teams.
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state="pending"),
                name="one_pending_transfer_per_case",
            )
        ]
        indexes = [
            models.Index(fields=["to_team", "state", "-asked_at"]),
            models.Index(fields=["from_team", "state", "-asked_at"]),
        ]

    def __str__(self) -> str:
        return f"transfer {self.pk} of {self.case_id}"

    @property
    def is_pending(self) -> bool:
        return self.state == TransferState.PENDING


class BreakGlass(Sealed):
    """A coordinator's time-limited access to a case outside their teams, with a reason."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="break_glass")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass"
    )
    reason = EncryptedTextField(purgeable=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # The admins' review of the grant: one review each, so it lives on the grant itself.
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_comment = EncryptedTextField(blank=True, purgeable=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "expires_at"]),
            # The review queue: unreviewed, newest first.
            models.Index(
                fields=["-created_at"],
                condition=models.Q(reviewed_at__isnull=True),
                name="break_glass_unreviewed",
            ),
            models.Index(fields=["-reviewed_at"], name="break_glass_reviewed"),
        ]

    def __str__(self) -> str:
        return f"break-glass {self.case_id}"


class ReminderKind(models.TextChoices):
    # The neutral name of what is scheduled: whether it is still due, or missed, or
    # overdue, depends on the time (Reminder.status), and the notification sent when its
    # time has come says which (FIRED_LABELS).
    STAGE_OVERDUE = "stage_overdue", _("Stage time limit")
    UNTRIAGED_INTAKE = "untriaged_intake", _("Request waiting for triage")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CROSSING_CHECK_IN = "crossing_check_in", _("Crossing check-in")
    TRANSIT_CHECK_IN = "transit_check_in", _("Transit check-in")
    SECURITY_ALERT = "security_alert", _("Security alert")
    REASSESS = "reassess", _("Re-assess: a compromised account touched this")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    GRANT = "grant", _("Role or team change to decide")
    GRANT_DECIDED = "grant_decided", _("Role or team change decided")
    MEMBER_LEFT = "member_left", _("A member left the team: cases to reassign")
    DUPLICATE_MATCH = "duplicate_match", _("A request matches a case of your team")
    CHECK_IN_CANCELLED = "check_in_cancelled", _("Urgent check-in cancelled")


# A reminder's kind as its notification tells of it: a notification is sent when the
# reminder's time has come, so by then the check-in is missed and the stage overdue.
FIRED_LABELS: dict[str, str | Promise] = {
    ReminderKind.STAGE_OVERDUE: _("Stage overdue"),
    ReminderKind.CROSSING_CHECK_IN: _("Crossing check-in missed"),
    ReminderKind.TRANSIT_CHECK_IN: _("Transit check-in missed"),
}


class ReminderStatus(models.TextChoices):
    """What a reminder's time means now (Reminder.status); the case page words each."""

    DUE = "due"
    MISSED = "missed"
    OVERDUE = "overdue"
    RAISED = "raised"
    TO_DO = "to_do"


class ReminderState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")
    DONE = "done", _("Done")


class Reminder(Sealed):
    """Work that falls due, kept as a row: a broker can lose or replay a message, a row
    cannot. The dispatcher claims due rows and turns them into notifications."""

    kind = models.CharField(max_length=24, choices=ReminderKind)
    state = models.CharField(max_length=16, choices=ReminderState, default=ReminderState.PENDING)
    due_at = models.DateTimeField()
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="reminders")
    # What a notification links to: a case or request reference, never anything personal.
    subject = models.CharField(max_length=16)
    stage = models.CharField(max_length=16, choices=Stage, blank=True)
    # Set for follow-ups: the one who asked to be reminded.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    urgent = models.BooleanField(default=False)
    note = EncryptedTextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The dispatcher run that sent it: claimed by a conditional UPDATE, so two runs never
    # send the same row, on any database.
    claim = models.UUIDField(null=True, blank=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["case", "state"]),
            models.Index(fields=["team", "urgent", "state"]),
            # A coordinator's open re-assessment tasks (dashboard.reassessments_for): a
            # handful among a team's thousands of urgent check-ins.
            models.Index(
                fields=["team", "due_at"],
                name="reminder_reassess_open",
                condition=models.Q(
                    kind=ReminderKind.REASSESS,
                    state__in=[ReminderState.PENDING, ReminderState.SENT],
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}"

    @property
    def is_alarm(self) -> bool:
        """A missed check-in that nobody has acknowledged yet."""
        return self.urgent and self.state == ReminderState.SENT

    @property
    def is_reassessment(self) -> bool:
        return self.kind == ReminderKind.REASSESS

    @property
    def status(self) -> str:
        """Due until its time comes; then a check-in is missed and a stage overdue. An
        alarm of another kind (lost contact) was raised; a re-assessment is to do now."""
        come = self.state == ReminderState.SENT or self.due_at <= timezone.now()
        if not come:
            return ReminderStatus.DUE
        if self.kind in (ReminderKind.CROSSING_CHECK_IN, ReminderKind.TRANSIT_CHECK_IN):
            return ReminderStatus.MISSED
        if self.kind == ReminderKind.STAGE_OVERDUE:
            return ReminderStatus.OVERDUE
        if self.is_reassessment:
            return ReminderStatus.TO_DO
        return ReminderStatus.RAISED if self.urgent else ReminderStatus.DUE

    @property
    def kind_label(self) -> str:
        """get_kind_display() for lists (config/choices.py)."""
        return label_of(ReminderKind, value=self.kind)

    @property
    def fired_label(self) -> str:
        """The kind as an alarm that has gone off says it: "Transit check-in missed"."""
        if self.kind in FIRED_LABELS:
            return str(FIRED_LABELS[self.kind])
        return self.kind_label


class EmailState(models.TextChoices):
    NOT_WANTED = "not_wanted", _("Not wanted")
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class NotificationKind(models.TextChoices):
    """What others did that concerns you; a notification is one of these or a reminder's
    kind (NOTIFICATION_KINDS)."""

    ASSIGNED = "assigned", _("A case was assigned to you")
    CASE_MOVED = "case_moved", _("A case of yours was moved")
    CASE_EDITED = "case_edited", _("A case of yours was changed")
    MENTIONED = "mentioned", _("You were mentioned in a note")
    APPROVAL_ASKED = "approval_asked", _("A move waits for your approval")
    APPROVAL_DECIDED = "approval_decided", _("Your approval request was decided")
    HANDOVER = "handover", _("A case was handed over to you")
    TRANSFER_ASKED = "transfer_asked", _("A case transfer waits for your team")
    TRANSFER_DECIDED = "transfer_decided", _("A case transfer was decided")
    CASE_MERGED = "case_merged", _("Two cases were merged")
    SEARCH_MATCH = "search_match", _("A search matched a case of your team")


NOTIFICATION_KINDS = [*ReminderKind.choices, *NotificationKind.choices]

# The same kinds in groups, for the inbox's field and the e-mail choice on the settings page.
_KIND_GROUPS: list[tuple[Any, list[ReminderKind | NotificationKind]]] = [
    (
        _("My cases"),
        [
            NotificationKind.ASSIGNED,
            NotificationKind.CASE_MOVED,
            NotificationKind.CASE_EDITED,
            NotificationKind.MENTIONED,
            NotificationKind.HANDOVER,
            NotificationKind.CASE_MERGED,
        ],
    ),
    (
        _("Decisions"),
        [
            NotificationKind.APPROVAL_ASKED,
            NotificationKind.APPROVAL_DECIDED,
            NotificationKind.TRANSFER_ASKED,
            NotificationKind.TRANSFER_DECIDED,
            ReminderKind.GRANT,
            ReminderKind.GRANT_DECIDED,
        ],
    ),
    (
        _("Reminders and alarms"),
        [
            ReminderKind.STAGE_OVERDUE,
            ReminderKind.FOLLOW_UP,
            ReminderKind.UNTRIAGED_INTAKE,
            ReminderKind.DUPLICATE_MATCH,
            ReminderKind.CROSSING_CHECK_IN,
            ReminderKind.TRANSIT_CHECK_IN,
            ReminderKind.CHECK_IN_CANCELLED,
            ReminderKind.LOST_CONTACT,
            ReminderKind.MEMBER_LEFT,
        ],
    ),
    (
        _("Security"),
        [ReminderKind.SECURITY_ALERT, ReminderKind.REASSESS, NotificationKind.SEARCH_MATCH],
    ),
]
NOTIFICATION_KIND_GROUPS = [
    (group, [(kind.value, FIRED_LABELS.get(kind, kind.label)) for kind in kinds])
    for group, kinds in _KIND_GROUPS
]


class Notification(models.Model):
    """What a person finds in their inbox: a kind and a reference, nothing personal.

    Its e-mail copy is a state on the row, set pending in the transaction that makes it and
    sent by a periodic task (casework.emails): a broker that is down delays the copy, and a
    message the broker lost loses nothing.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    reminder = models.ForeignKey(
        Reminder, on_delete=models.CASCADE, null=True, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=NOTIFICATION_KIND_GROUPS)
    subject = models.CharField(max_length=16)
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(max_length=16, choices=EmailState, default=EmailState.NOT_WANTED)
    # Tries so far; the next is due at email_next_try_at (casework.emails.backoff).
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_next_try_at = models.DateTimeField(null=True, blank=True)
    # The last failure's exception class, never its message: that can quote the address.
    email_error = models.CharField(max_length=64, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"]),
            # What an anonymised case takes with it (services.retention).
            models.Index(fields=["subject"], name="notification_subject"),
            # The sender's due copies and the health page's counts: a few rows among many.
            models.Index(
                fields=["email_state", "email_next_try_at"],
                name="notification_email_open",
                condition=models.Q(email_state__in=["pending", "failed"]),
            ),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}"

    @property
    def kind_label(self) -> str:
        """get_kind_display() for the inbox's rows (config/choices.py)."""
        if self.kind in FIRED_LABELS:
            return str(FIRED_LABELS[self.kind])
        return label_of(NotificationKind, ReminderKind, value=self.kind)


class Heartbeat(models.Model):
    """When the dispatcher last ran and the worker last answered, for the health page."""

    name = models.CharField(max_length=32, primary_key=True)
    seen_at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name


class CaseMerge(models.Model):
    """One case folded into another, and what moved, so that it can be undone until the
    next nightly purge (casework.services.merge). Ids and field names only: the values
    stay in their own rows (the folded person keeps its details until the merge is undone
    or purged)."""

    kept = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="merges")
    folded = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)
    # The folded case as it was: what undoing the merge gives back.
    folded_stage = models.CharField(max_length=16, choices=Stage)
    folded_stage_entered_at = models.DateTimeField()
    folded_outcome = models.CharField(max_length=16, choices=Outcome, blank=True)
    folded_held_from = models.CharField(max_length=16, choices=Stage, blank=True)
    # What moved: {"events": [ids], "legs": {id: position}, "reminders": [ids],
    # "cancelled": [ids], "requests": [ids], "indexes": {id: source}, "copied": [ids],
    # "person_fields": [names], "case_fields": [names]}.
    moved = models.JSONField(default=dict)
    # The nightly purge ran after the merge: from then on it cannot be undone.
    settled_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-merged_at", "-id"]
        indexes = [
            # The purge's question: which merges can still be undone?
            models.Index(
                fields=["merged_at"],
                condition=models.Q(settled_at__isnull=True, undone_at__isnull=True),
                name="merge_undoable",
            ),
        ]

    def __str__(self) -> str:
        return f"merge {self.folded_id} into {self.kept_id}"

    @property
    def undoable(self) -> bool:
        return self.undone_at is None and self.settled_at is None


class ApprovalState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    LAPSED = "lapsed", _("Lapsed")


class ApprovalRequest(Sealed):
    """A move someone who works the case asked the team's coordinator to make.

    It holds for the case as it was when asked (`asked_version`): once the case changes,
    the request has lapsed, whatever its state still says (casework.services.approvals
    records that when someone next acts on it). The note and the reason for declining may
    name the person or the route: encrypted.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="approvals")
    to_stage = models.CharField(_("move to"), max_length=16, choices=Stage)
    # Only for closing: the outcome the asker proposes.
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome, blank=True)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now)
    asked_version = models.PositiveIntegerField()
    note = EncryptedTextField(_("note"), blank=True, purgeable=True)
    state = models.CharField(max_length=16, choices=ApprovalState, default=ApprovalState.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = EncryptedTextField(_("reason for declining"), blank=True, purgeable=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state="pending"),
                name="one_pending_approval_per_case",
            )
        ]
        indexes = [
            # The coordinators' "waiting for your approval": the few pending among many.
            models.Index(
                fields=["asked_at"],
                condition=models.Q(state="pending"),
                name="approval_pending",
            ),
        ]
        ordering = ["-asked_at", "-id"]

    def __str__(self) -> str:
        return f"approval {self.case_id} {self.to_stage} {self.state}"

    @property
    def is_pending(self) -> bool:
        return self.state == ApprovalState.PENDING

    def has_lapsed_for(self, case: Case) -> bool:
        """Asked of a case that has changed since (or recorded as lapsed)."""
        return self.state == ApprovalState.LAPSED or (
            self.is_pending and case.version != self.asked_version
        )


class TimelineUndo(models.Model):
    """A contact or check-in logged at one tap, undoable for a few minutes by the one who
    logged it (casework.services.undo): what the tap changed, to put back."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    # Set null when undone (the entry goes) or purged with the case's events.
    event = models.ForeignKey(CaseEvent, on_delete=models.SET_NULL, null=True, related_name="+")
    kind = models.CharField(max_length=16, choices=EventKind)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()
    last_contact_at_before = models.DateTimeField(null=True)
    last_contact_at_set = models.DateTimeField(null=True)
    lost_contact_at_before = models.DateTimeField(null=True)
    # {reminder id: its state before}: the check-ins answered and lost-contact alarms closed.
    reminders_closed = models.JSONField(default=dict)
    # The next transit check-in a check-in scheduled.
    reminder_scheduled = models.ForeignKey(
        Reminder, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["case", "by", "expires_at"])]

    def __str__(self) -> str:
        return f"undo {self.case_id} {self.kind}"
