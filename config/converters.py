"""Path converters: what a URL argument may look like before any view or query sees it.

Anything else matches no pattern and is the resolver's 404. PostgreSQL refuses a NUL byte in
a query with an error, so `/cases/C-2026-00001%00/` used to be a 500 from every case page;
now no view runs for it.
"""

from casework.references import CASE_PREFIX, REQUEST_PREFIX


class ReferenceConverter:
    """`<ref:reference>`: C-2026-00042 or R-2026-00042, as `next_reference` makes them. The
    number has five digits or more, and at most nine (the column holds 16 characters)."""

    regex = f"[{CASE_PREFIX}{REQUEST_PREFIX}]-[0-9]{{4}}-[0-9]{{5,9}}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class CountryCodeConverter:
    """`<country:country>`: two ASCII letters; the register upper-cases them."""

    regex = "[A-Za-z]{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
