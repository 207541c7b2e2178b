import hashlib
import secrets
import time
from base64 import b32encode
from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_otp.models import (
    MAX_THROTTLE_DELAY_SECONDS,
    Device,
    ThrottlingMixin,
    TimestampMixin,
    VerifyNotAllowed,
)
from django_otp.oath import TOTP

from accounts.grants import Grants, load_grants
from accounts.roles import ROLE_ORDER, Role
from privacy.fields import EncryptedCharField, EncryptedEmailField, EncryptedTextField
from privacy.models import Sealed


class Team(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra) -> "User":
        if not username:
            raise ValueError("A username is required.")
        user = self.model(username=self.model.normalize_username(username), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username, password, **extra)


# The ignore: the two device models' managers are django-otp's, which has no type hints,
# so the django-stubs plugin cannot type their reverse relations here (unused anyway).
class User(Sealed, PermissionsMixin, AbstractBaseUser):  # type: ignore[django-manager-missing]
    """A volunteer, coordinator or admin.

    Deliberately no name or e-mail in clear: the username is a working pseudonym, and
    volunteers' identities are exactly what a hostile service wants from a dump.
    """

    username = models.CharField(
        _("username"),
        max_length=40,
        unique=True,
        validators=[UnicodeUsernameValidator()],
        help_text=_("A working pseudonym: letters, digits and @/./+/-/_ only."),
        error_messages={"unique": _("That username is taken.")},
    )
    teams = models.ManyToManyField(
        Team, related_name="members", blank=True, verbose_name=_("teams")
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Optional e-mail copies of notifications: a reference and a link, nothing personal.
    notification_email = EncryptedEmailField(_("e-mail for notifications"), blank=True)
    email_notifications = models.BooleanField(_("send notifications by e-mail"), default=False)
    # The kinds of notification NOT copied by e-mail (casework's Notification.kind values):
    # kept as the ones turned off, so whoever wants copies gets every kind until they say
    # otherwise, a kind added later included.
    email_kinds_off = models.JSONField(default=list, blank=True)
    # Empty: the browser's language (Accept-Language), as before sign-in.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True, default=""
    )
    # The last two completed sign-ins (password and code): "since your last shift" lists
    # what changed after the one before this. Django's last_login is written at the
    # password step already, so a wrong code would move it; these move only on success.
    signed_in_at = models.DateTimeField(null=True, blank=True, editable=False)
    previous_login = models.DateTimeField(null=True, blank=True, editable=False)
    # Bumped to end every session of this user at once (logout everywhere, device reset).
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("log_intake", "Can log and triage incoming requests"),
            ("work_cases", "Can work the cases assigned to them"),
            ("coordinate_cases", "Can assign, approve and close their teams' cases"),
            ("break_glass", "Can open another team's case with a recorded reason"),
            ("reset_second_factor", "Can reset a user's second factor"),
            ("manage_accounts", "Can manage accounts, roles and teams"),
            ("end_sessions", "Can log a user out everywhere"),
            ("review_audit", "Can review the audit log"),
        ]

    def __str__(self) -> str:
        return self.username

    @cached_property
    def grants(self) -> Grants:
        """Role names and permissions, one query for this User object (so per request)."""
        return load_grants(self)

    @cached_property
    def team_ids(self) -> frozenset[int]:
        """The teams this user belongs to now, one query per User object (so per request):
        access to a team's cases and requests follows current membership, for everyone.
        Membership is asked here and nowhere else; after changing it, read the user again."""
        if "teams" in getattr(self, "_prefetched_objects_cache", {}):
            # A list of users with prefetch_related("teams"): no query per user.
            return frozenset(team.pk for team in self.teams.all())
        return frozenset(self.teams.values_list("pk", flat=True))

    @cached_property
    def roles(self) -> frozenset[Role]:
        if "groups" in getattr(self, "_prefetched_objects_cache", {}):
            # A list of users with prefetch_related("groups"): no query per user.
            names = frozenset(group.name for group in self.groups.all())
        else:
            names = self.grants.role_names
        return frozenset(role for role in Role if role.value in names)

    @property
    def role(self) -> Role | None:
        """The strongest role held, for display and navigation."""
        return next((role for role in ROLE_ORDER if role in self.roles), None)

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    # Sessions carry an HMAC of the password hash; adding the generation lets one UPDATE end
    # every session of the user, whichever server or store holds them.
    def _session_hash(self, secret: str | None) -> str:
        return salted_hmac(
            "accounts.User.session_hash",
            f"{self.password}:{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def get_session_auth_hash(self) -> str:
        return self._session_hash(None)

    def get_session_auth_fallback_hash(self):
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(fallback_secret)


def random_totp_key() -> str:
    return secrets.token_hex(20)


class ForgivingThrottlingMixin(ThrottlingMixin):
    """django-otp's back-off, after a few free tries.

    django-otp makes the user wait factor * 2**(failures - 1) seconds from the first wrong
    code on, so one typo refused the right code typed a second later. Here the first
    OTP_THROTTLE_FREE_FAILURES wrong codes cost no wait; from then on the wait doubles as
    in django-otp. Guessing stays bounded: every wrong code also counts towards the
    django-axes lock-out (AXES_FAILURE_LIMIT per hour for a username and address).
    """

    class Meta:
        abstract = True

    def get_throttle_factor(self) -> int:
        return settings.OTP_TOTP_THROTTLE_FACTOR

    def verify_is_allowed(self):
        counted = self.throttling_failure_count - settings.OTP_THROTTLE_FREE_FAILURES
        if self.throttling_enabled and counted > 0 and self.throttling_failure_timestamp:
            wait = min(self.get_throttle_factor() * 2 ** (counted - 1), MAX_THROTTLE_DELAY_SECONDS)
            locked_until = self.throttling_failure_timestamp + timedelta(seconds=wait)
            if timezone.now() < locked_until:
                return False, {
                    "reason": VerifyNotAllowed.N_FAILED_ATTEMPTS,
                    "failure_count": self.throttling_failure_count,
                    "locked_until": locked_until,
                }
        # Past ThrottlingMixin's own check, on to the device's others (none today).
        return super(ThrottlingMixin, self).verify_is_allowed()


class AuthenticatorDevice(Sealed, TimestampMixin, ForgivingThrottlingMixin, Device):
    """A TOTP authenticator app; its secret is encrypted at rest.

    django-otp's own TOTPDevice keeps the secret in clear, so a database dump would clone
    every account's second factor. The verification logic is django-otp's TOTP.
    """

    key = EncryptedCharField(max_length=80, default=random_totp_key)
    step = 30
    digits = 6
    drift = models.SmallIntegerField(default=0)
    # Time step of the last accepted code: a code is never accepted twice.
    last_t = models.BigIntegerField(default=-1)

    # django-otp has no type hints, so its manager is named here for the type checker.
    objects: ClassVar[models.Manager["AuthenticatorDevice"]]

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    @property
    def bin_key(self) -> bytes:
        return bytes.fromhex(self.key)

    @property
    def base32_secret(self) -> str:
        return b32encode(self.bin_key).decode("ascii").rstrip("=")

    def totp(self) -> TOTP:
        totp = TOTP(self.bin_key, self.step, 0, self.digits, self.drift)
        totp.time = time.time()
        return totp

    def matching_step(self, token: str) -> int | None:
        """The time step the code belongs to, if valid and newer than the last one used."""
        if not (token.isdigit() and len(token) == self.digits):
            return None
        totp = self.totp()
        if totp.verify(int(token), settings.OTP_TOTP_TOLERANCE, self.last_t + 1):
            return totp.t()
        return None

    def verify_token(self, token) -> bool:
        # Only reached through accounts.second_factor, which holds the row locked.
        return verify_device(self, str(token))


# Backup codes: 16 characters of Crockford's base32 (no i, l, o or u), 80 random bits.
BACKUP_CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
BACKUP_CODE_LENGTH = 16
# Read the way Crockford's base32 reads them: o as zero, i and l as one.
CROCKFORD_READING = str.maketrans("oil", "011")


def new_backup_code() -> str:
    """Shown as four groups of four: k7m2-9xq4-wp3h-c8dv."""
    raw = "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, BACKUP_CODE_LENGTH, 4))


def crockford_canonical(code: str) -> str:
    return normalise_code(code).translate(CROCKFORD_READING)


def legacy_backup_code_digest(code: str) -> str:
    """Codes issued before 2026-12: 120 random bits (24 characters of RFC 4648 base32, where
    o, i and l are letters of their own), stored as a plain SHA-256."""
    normalised = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalised.encode("ascii", "ignore")).hexdigest()


class BackupCodeDevice(ForgivingThrottlingMixin, Device):
    """Ten single-use recovery codes, stored only as slow, salted hashes.

    Why 80 bits are enough against a stolen database: each code is stored as a password
    hash (PASSWORD_HASHERS: Argon2id in production, 100 MiB and two passes) with one random
    salt for the device's ten codes. A thief's guess then costs one Argon2 computation,
    some 2^25 times the work of a SHA-256 and bound by memory rather than arithmetic, so
    finding a code takes about 2^80 / 10 (ten codes share a salt) of them: ~2^102
    SHA-256 equivalents, in memory no GPU farm has. That is less than the 2^120 SHA-256
    computations the old 24-character codes asked for on paper, and as far out of reach in
    practice; nor can it be bought with SHA-256 hardware. Online, every wrong code is
    throttled (ForgivingThrottlingMixin) and counts towards the django-axes lock-out.
    """

    # One salt for the device's codes, so a typed code costs one slow hash and a lookup.
    # Empty on devices issued before: their codes are checked as legacy SHA-256 digests.
    salt: "models.CharField[str, str]" = models.CharField(
        max_length=32, blank=True, default="", db_default=""
    )

    class Meta(Device.Meta):
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")

    def verify_token(self, token) -> bool:
        return verify_device(self, str(token))

    def unused_count(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def code_hash(self, code: str) -> str:
        return make_password(crockford_canonical(code), salt=self.salt)

    def use_code(self, code: str) -> bool:
        """Marks the code used if it is one of the device's unused codes.

        The time taken does not depend on which code matched: one hash, then one indexed
        UPDATE, as with the SHA-256 digests before.
        """
        unused = self.codes.filter(used_at__isnull=True)
        now = timezone.now()
        if not self.salt:
            return bool(unused.filter(digest=legacy_backup_code_digest(code)).update(used_at=now))
        encoded = self.code_hash(code)
        if unused.filter(digest=encoded).update(used_at=now):
            return True
        # Codes hashed before the hasher or its parameters changed (PASSWORD_HASHERS, a
        # Django upgrade) give another encoding: each is checked, all of them every time.
        stale = unused.exclude(digest__startswith=encoded.rsplit("$", 1)[0] + "$")
        canonical = crockford_canonical(code)
        matched = [row.pk for row in stale if check_password(canonical, row.digest)]
        return bool(matched) and bool(unused.filter(pk=matched[0]).update(used_at=now))


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    # A password hash ("argon2$argon2id$v=19$m=...$salt$hash"), or a legacy SHA-256 hex.
    digest = models.CharField(max_length=255)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")
        constraints = [
            models.UniqueConstraint(fields=["device", "digest"], name="backup_code_unique"),
        ]

    def __str__(self) -> str:
        return "used backup code" if self.used_at else "unused backup code"


# Second-factor checks (accounts.second_factor holds the device row locked around them).
THROTTLE_FIELDS = ["throttling_failure_timestamp", "throttling_failure_count"]


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isalnum()).lower()


def verify_device(device: Device, raw: str) -> bool:
    """Checks one code against a device the caller holds locked; records the outcome."""
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        return False
    code = normalise_code(raw)
    if isinstance(device, AuthenticatorDevice):
        step = device.matching_step(code)
        accepted = False
        if step is not None:
            # Conditional UPDATE: whoever moves last_t first wins; a replay or a racing twin
            # finds last_t already at this step and updates nothing.
            accepted = bool(
                AuthenticatorDevice.objects.filter(pk=device.pk, last_t__lt=step).update(
                    last_t=step
                )
            )
            if accepted:
                device.last_t = step
    else:
        accepted = device.use_code(code)
    if accepted:
        device.throttle_reset(commit=False)
        update_fields = list(THROTTLE_FIELDS)
        if isinstance(device, AuthenticatorDevice):
            device.set_last_used_timestamp(commit=False)
            update_fields.append("last_used_at")
        device.save(update_fields=update_fields)
    else:
        device.throttle_increment(commit=False)
        device.save(update_fields=THROTTLE_FIELDS)
    return accepted


class Containment(Sealed):
    """One "contain account" action: the account locked, its sessions and second factor
    gone, and the cases and requests it touched handed to their coordinators.

    The affected list is not copied here: it is read again from the append-only audit
    log, bounded by `since` and by this containment's own audit event (`audit_seq`).
    """

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="containments", verbose_name=_("account")
    )
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    since = models.DateTimeField(_("since"))
    created_at = models.DateTimeField(default=timezone.now)
    # Why the account is believed compromised; it may say more than a log line should.
    reason = EncryptedTextField(_("reason"))
    audit_seq = models.BigIntegerField()
    case_count = models.PositiveIntegerField(default=0)
    request_count = models.PositiveIntegerField(default=0)
    task_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("containment")
        verbose_name_plural = _("containments")
        indexes = [models.Index(fields=["-created_at"])]

    def __str__(self) -> str:
        return f"containment of {self.user_id}"


class AccountLink(models.Model):
    """A single-use, short-lived link that lets its holder choose the account's password:
    an invitation to a new member, or a reset. Only a digest of the token is kept, so a
    database dump opens no account; whoever made the link sees it once and passes it on,
    and never holds a working credential (the member also enrols their own authenticator).
    """

    class Purpose(models.TextChoices):
        INVITE = "invite", _("Invitation")
        RESET = "reset", _("Password reset")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="links")
    purpose = models.CharField(max_length=8, choices=Purpose)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("account link")
        verbose_name_plural = _("account links")

    def __str__(self) -> str:
        return f"{self.purpose} link for {self.user_id}"


class AccessChange(Sealed):
    """A proposed change of someone's role or team. It takes effect only when a second
    person approves it (accounts.permissions.can_decide_change says who)."""

    class Kind(models.TextChoices):
        ADD_ROLE = "add_role", _("Give the role")
        REMOVE_ROLE = "remove_role", _("Take the role away")
        ADD_TEAM = "add_team", _("Add to the team")
        REMOVE_TEAM = "remove_team", _("Remove from the team")
        REACTIVATE = "reactivate", _("Reactivate the account")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for a second person")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    target = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="access_changes", verbose_name=_("account")
    )
    kind = models.CharField(_("change"), max_length=16, choices=Kind)
    role = models.CharField(_("role"), max_length=16, choices=Role, blank=True)
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("team")
    )
    state = models.CharField(max_length=16, choices=State, default=State.PENDING)
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # Why it was refused: about an account, but it may name someone; kept encrypted.
    reason = EncryptedTextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("access change")
        verbose_name_plural = _("access changes")
        indexes = [models.Index(fields=["state", "-proposed_at"])]

    def __str__(self) -> str:
        return f"G-{self.pk} {self.kind}"

    @property
    def reference(self) -> str:
        return f"G-{self.pk}"

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING
