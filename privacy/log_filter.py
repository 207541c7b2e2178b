"""A logging filter that blanks anything shaped like a phone number, e-mail or handle.

Our own code logs references, never personal data; this catches what libraries, tracebacks
and careless lines let through.
"""

import logging
import re

PATTERNS = (
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),  # e-mail
    re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,}"),  # @handle
    re.compile(r"(?:t\.me|telegram\.me)/[A-Za-z0-9_]+"),  # messenger link
    re.compile(r"\+\d[\d\s().-]{7,}\d"),  # international number
    # A Russian mobile written the domestic way: 8 (9xx) xxx-xx-xx.
    re.compile(r"(?<![\w-])[78][\s(-]*9\d{2}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?![\w-])"),
    re.compile(r"(?<![\w-])\d{10,15}(?![\w-])"),  # a bare run of digits as long as a phone
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
