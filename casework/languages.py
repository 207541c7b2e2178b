"""The languages a person may prefer, named in the reader's language, stored as a code.

Django's own list (global_settings.LANGUAGES) with the names Django translates: "Russian"
reads "Русский" on a Russian page. A code stored before the list (any short text) stays
valid and is shown as it was typed.
"""

from django.conf import global_settings
from django.utils.translation import gettext


def language_name(code: str) -> str:
    names = dict(global_settings.LANGUAGES)
    return gettext(names[code]) if code in names else code


def language_choices(keep: str = "") -> list[tuple[str, str]]:
    """Every language, by name in the active language; `keep` always among them."""
    choices = sorted(
        ((code, gettext(name)) for code, name in global_settings.LANGUAGES),
        key=lambda choice: choice[1].casefold(),
    )
    if keep and keep not in dict(choices):
        choices.insert(0, (keep, keep))
    return choices
