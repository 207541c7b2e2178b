"""Second-factor mechanics: enrolment, verification, backup codes.

Every check runs with the device row locked (``select_for_update``) and consumes the code
with a conditional UPDATE, so two simultaneous submissions of one code cannot both pass,
on PostgreSQL and on SQLite alike.

Accepted clock drift: one 30-second step either side (``OTP_TOTP_TOLERANCE = 1``), so a
code shown by an authenticator app is accepted for about 90 seconds, and once only.
"""

from django.contrib.auth.hashers import get_hasher
from django.db import transaction
from django_otp.models import Device

from accounts.models import (
    AuthenticatorDevice,
    BackupCode,
    BackupCodeDevice,
    User,
    new_backup_code,
    normalise_code,
    verify_device,
)

BACKUP_CODE_COUNT = 10


def is_authenticator_code(code: str) -> bool:
    return code.isdigit() and len(code) == AuthenticatorDevice.digits


def _device_model(normalised: str) -> type[AuthenticatorDevice] | type[BackupCodeDevice]:
    return AuthenticatorDevice if is_authenticator_code(normalised) else BackupCodeDevice


def throttled_until(user: User, code: str = ""):
    """When the device this code is for (the authenticator unless it reads as a backup
    code) accepts codes again, or None if it does now."""
    model = _device_model(normalise_code(code)) if code else AuthenticatorDevice
    device = model.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return None
    allowed, details = device.verify_is_allowed()
    return None if allowed else details.get("locked_until")


def has_authenticator(user: User) -> bool:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_verify(*, user: User, code: str) -> Device | None:
    """The device that accepts this code (an authenticator code or a backup code), or None."""
    normalised = normalise_code(code)
    model = _device_model(normalised)
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is not None and verify_device(device, normalised):
            return device
    return None


def enrolment_device(*, user: User) -> AuthenticatorDevice:
    """The unconfirmed authenticator being set up; the same one until it is confirmed.

    Reloading the page must not change the secret the user may already have scanned.
    """
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = AuthenticatorDevice.objects.create(
            user=user, name="authenticator", confirmed=False
        )
    return device


def enrolment_confirm(*, user: User, code: str) -> list[str] | None:
    """Confirms the new authenticator with one valid code; returns fresh backup codes.

    Returns None when the code is wrong (or throttled). Any earlier authenticator of the
    user is replaced.
    """
    with transaction.atomic():
        device = (
            AuthenticatorDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .first()
        )
        if device is None or not verify_device(device, code):
            return None
        AuthenticatorDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return backup_codes_issue(user=user)


def backup_codes_issue(*, user: User) -> list[str]:
    """Ten new single-use codes, distinct, shown once; any older codes stop working."""
    codes: set[str] = set()
    while len(codes) < BACKUP_CODE_COUNT:
        codes.add(new_backup_code())
    device = BackupCodeDevice(
        user=user, name="backup codes", confirmed=True, salt=get_hasher().salt()
    )
    # Ten slow hashes (a second or so with Argon2), made before any row is locked.
    rows = [BackupCode(device=device, digest=device.code_hash(code)) for code in codes]
    with transaction.atomic():
        BackupCodeDevice.objects.filter(user=user).delete()
        device.save()
        BackupCode.objects.bulk_create(rows)
    return sorted(codes)


def backup_codes_left(user: User) -> int:
    return BackupCode.objects.filter(device__user=user, used_at__isnull=True).count()


def devices_remove(*, user: User) -> None:
    AuthenticatorDevice.objects.filter(user=user).delete()
    BackupCodeDevice.objects.filter(user=user).delete()
