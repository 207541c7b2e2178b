"""The client's address, the one rule used by lock-out and (later) the audit log.

Behind a TLS proxy set ``TRUSTED_PROXY_COUNT`` to the number of proxies that append to
``X-Forwarded-For`` (usually 1). The address is then taken that many entries from the
right, the part of the header our own proxies wrote; anything further left was sent by the
client and could be forged to dodge the lock-out. With 0, only ``REMOTE_ADDR`` counts.
"""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]
