"""Flash messages as Django keeps them by default (a signed cookie, the session when too
long), with the cookie named like the session's: `__Host-messages` where cookies are
Secure, so no sibling subdomain or plain-http hop can set or replace it.

Not in the session alone: every message would write the session twice (set, then read),
three queries each on every form sent.
"""

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.messages.storage.session import SessionStorage


class HostCookieStorage(CookieStorage):
    @property
    def cookie_name(self) -> str:  # type: ignore[override]
        return "__Host-messages" if settings.SESSION_COOKIE_SECURE else "messages"


class MessageStorage(FallbackStorage):
    storage_classes = (HostCookieStorage, SessionStorage)
