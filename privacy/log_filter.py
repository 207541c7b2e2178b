"""A logging filter that blanks anything shaped like a phone number, e-mail, handle or IP
address.

Our own code logs references, never personal data; this catches what libraries, tracebacks
and careless lines let through (django-axes, for one, names the client address in every
failure it logs).
"""

import logging
import re

PATTERNS = (
    # E-mail. Tried only where a run of its letters starts: tried inside the run too, a long
    # word without "@" (a 404's 5,000-character path) cost quadratic time, 4 s at 20,000.
    re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,}"),  # @handle
    re.compile(r"(?:t\.me|telegram\.me)/[A-Za-z0-9_]+"),  # messenger link
    re.compile(r"\+\d[\d\s().-]{7,}\d"),  # international number
    # A Russian mobile written the domestic way: 8 (9xx) xxx-xx-xx.
    re.compile(r"(?<![\w-])[78][\s(-]*9\d{2}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?![\w-])"),
    re.compile(r"(?<![\w-])\d{10,15}(?![\w-])"),  # a bare run of digits as long as a phone
    # Where a volunteer signs in from: IPv4, then IPv6 written out in full or with "::"
    # (a clock time has no "::" and too few groups to look like one).
    re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)"),
    re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])"),
    re.compile(
        r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?::"
        r"(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?(?![\w:])"
    ),
)
REDACTED = "[redacted]"


def scrub(text: str) -> str:
    for pattern in PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


class ScrubPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True
