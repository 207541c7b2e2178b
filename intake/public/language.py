"""The public pages' language: Russian unless the browser asks for English first, or the
person picked one with the ru/en links (a plain ?lang= on the address: no cookie)."""

from django.http import HttpRequest
from django.utils.translation.trans_real import parse_accept_lang_header

LANGUAGES = ("ru", "en")
DEFAULT = "ru"


def public_language(request: HttpRequest) -> str:
    chosen = request.GET.get("lang", "")
    if chosen in LANGUAGES:
        return chosen
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        base = code.split("-")[0]
        if base in LANGUAGES:
            return base
    return DEFAULT
