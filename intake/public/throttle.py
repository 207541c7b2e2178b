"""Wrong references and passphrases at the public form, counted in the database (several
web processes run; a per-process cache would let each count on its own).

Each wrong try counts against the reference typed and against the network address it came
from (an IPv6 address by its /64, which one client holds whole), both as keyed digests. A
key with PUBLIC_FAILURES_PER_* wrong tries within PUBLIC_FAILURE_MINUTES is locked: further
tries are refused without being checked, a right one included, so a guess that happens to
be right during a lock teaches nothing. Refused tries do not count, so a lock ends once the
oldest wrong try is older than the window, however hard someone keeps knocking: that bounds
what anyone can do to a real person's reference to a wait.
"""

from datetime import datetime, timedelta
from ipaddress import IPv6Address, ip_address, ip_network

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from intake.public.models import PassphraseFailure
from privacy.blind_index import keyed_digest

KEY_PURPOSE = b"public form failures"


def _digest(kind: str, value: str) -> str:
    return keyed_digest(KEY_PURPOSE, f"{kind}\x00{value}")


def _network(source: str) -> str:
    try:
        address = ip_address(source)
    except ValueError:
        return source
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ip_network(f"{address}/64", strict=False))
    return str(address)


def _limits(reference: str, source: str) -> dict[str, int]:
    """Digest → how many wrong tries lock it; a limit of 0 is off."""
    limits = {_digest("reference", reference): settings.PUBLIC_FAILURES_PER_REFERENCE}
    if source:
        limits[_digest("address", _network(source))] = settings.PUBLIC_FAILURES_PER_ADDRESS
    return {digest: limit for digest, limit in limits.items() if limit > 0}


def _window_start(now: datetime) -> datetime:
    return now - timedelta(minutes=settings.PUBLIC_FAILURE_MINUTES)


def is_locked(*, reference: str, source: str, now: datetime | None = None) -> bool:
    limits = _limits(reference, source)
    if not limits:
        return False
    counts = (
        PassphraseFailure.objects.filter(
            digest__in=limits, failed_at__gte=_window_start(now or timezone.now())
        )
        .values("digest")
        .annotate(tries=Count("id"))
    )
    return any(row["tries"] >= limits[row["digest"]] for row in counts)


def failure_record(*, reference: str, source: str, now: datetime | None = None) -> None:
    """Counts one wrong try, and drops the tries that no longer count."""
    now = now or timezone.now()
    PassphraseFailure.objects.bulk_create(
        PassphraseFailure(digest=digest, failed_at=now) for digest in _limits(reference, source)
    )
    PassphraseFailure.objects.filter(failed_at__lt=_window_start(now)).delete()
