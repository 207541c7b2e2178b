"""Where a request came from, kept coarse and short.

No clear client address is stored: a dump of the audit log would tell a security service
where each volunteer lives and works, and an append-only table would keep it for ever. An
event keeps instead, in two columns outside its hash chain so that they can be blanked:

- the network: the /24 of an IPv4 address, the /48 of an IPv6 one. Enough for an admin to
  tell "the usual provider" from "somewhere else", not enough to point at a house;
- on a completed sign-in only, a keyed digest of the account and the address, which the
  "new address" alert compares. Keyed (under a key derived from ``BLIND_INDEX_KEY``, which
  is not in the database), so a dump cannot be searched by trying every IPv4 address; bound
  to the account, so two volunteers signing in from one flat do not share a digest.

Both are blanked ``ADDRESS_RETENTION_DAYS`` after the event by a nightly task. Whoever also
holds the key needs only 256 guesses to turn a digest and its /24 back into the address:
that is why the digest is written only where the alert needs it, and dropped on the same day.
"""

from datetime import datetime, timedelta
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

from django.conf import settings
from django.utils import timezone

from audit.models import ADDRESS_KEPT, AccessEvent
from privacy.blind_index import keyed_digest

IPV4_PREFIX = 24
IPV6_PREFIX = 48
KEY_PURPOSE = b"audit source address"

Address = IPv4Address | IPv6Address


def parse(raw: str | None) -> Address | None:
    """The address as the lock-out resolved it; an IPv4 address written as IPv6 (::ffff:…)
    counts as IPv4, so one client on a dual-stack host keeps one network and one digest."""
    try:
        address = ip_address(raw) if raw else None
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def network_of(address: Address | None) -> str:
    """``203.0.113.0/24`` or ``2001:db8:1234::/48``; blank without an address."""
    if address is None:
        return ""
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ip_network(f"{address}/{prefix}", strict=False))


def digest_of(actor_id: int | None, address: Address | None) -> str:
    """Hex HMAC-SHA256 of ``account NUL address``; blank without both."""
    if actor_id is None or address is None:
        return ""
    return keyed_digest(KEY_PURPOSE, f"{actor_id}\x00{address}")


def kept_since(now: datetime | None = None) -> datetime:
    """Events older than this keep neither network nor digest."""
    return (now or timezone.now()) - timedelta(days=settings.ADDRESS_RETENTION_DAYS)


def purge_expired(now: datetime | None = None) -> int:
    """Blanks the network and digest of every event older than the retention; returns how
    many events lost them. One UPDATE, served by a partial index of the events that still
    keep either, so a night's work does not grow with the length of the log."""
    expired = AccessEvent.objects.filter(ADDRESS_KEPT, created_at__lt=kept_since(now))
    return expired.update(source_network="", source_digest="")
