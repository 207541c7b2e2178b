"""The request form's one-time token: what makes sending one page twice open one request.

Reloading the "we have your request" page sends the form again (the browser asks first, and
a frightened person on a bad connection says yes). Without a cookie or a script the only
thing that can tell the second post from a new request is something in the page itself: a
random token in a hidden field, new with every form shown. The request it opened keeps a
keyed digest of it (IntakeRequest.submit_digest, unique), so the same page sent again, one
after the other or at the same moment, finds it and opens nothing.

The token says nothing about the person and is only in their own browser's page; its
digest is keyed from BLIND_INDEX_KEY (a database dump cannot test a token against it) and is
blanked when the request is purged. It cannot be recomputed (the token is not kept), so key
rotation leaves it as it is: after a rotation a page sent before it is a new request again.
"""

import re
import secrets

from privacy.blind_index import keyed_digest

KEY_PURPOSE = b"public form page"
TOKEN_BYTES = 16
# What secrets.token_urlsafe(16) gives: 22 characters of URL-safe base64, no padding.
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


def token_new() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_token(value: object) -> bool:
    return isinstance(value, str) and TOKEN.fullmatch(value) is not None


def token_digest(token: str) -> str:
    """Hex HMAC-SHA256 of the token under a key of its own; blank for no token."""
    if not token:
        return ""
    return keyed_digest(KEY_PURPOSE, token)
