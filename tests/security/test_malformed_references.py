"""Malformed URL arguments and query values: a 404 or a refused form, never a 500.

A NUL byte reaching PostgreSQL raises ("A string literal cannot contain NUL"), so a
reference like `C-2026-00001%00` used to answer 500 from every case and request page. Every
pattern of the resolver is walked (tests/security/urlconf.py); each of its arguments in turn
gets each malformed value below while the others stay valid. A malformed reference must
match no pattern at all: the resolver's 404, before any view or query, on any database.

Requests are spent where a view can tell the difference: a URL the resolver refuses runs no
view, so one request (role and method taking turns) shows the whole stack answers 404; a
URL that reaches its view is requested by each role with GET and with POST. Last, every
page each role may open is asked with NUL and over-long query values.
"""

import itertools
import re
from urllib.parse import quote, unquote

import pytest
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from config.converters import ReferenceConverter
from tests.security.conftest import World, rolled_back
from tests.security.urlconf import ARGUMENT, FILLERS, GROUP, Pattern, all_patterns

pytestmark = pytest.mark.django_db

# As they travel in a request line: percent-encoded where a browser would encode.
MALFORMED = {
    "nul": "%00",
    "nul after a reference": "C-2026-00001%00",
    "two characters with nul": "G%00",  # the length of a country code
    "control characters": "%01%1F%7F",
    "cr lf": "%0D%0A",
    "newline after a reference": "C-2026-00001%0A",  # what `$` lets through and `\Z` not
    "over-long": "C-2026-" + "0" * 5000,
    "number past bigint": "9" * 30,
    "cyrillic es for C": quote("\u0421-2026-00001"),
    # Digits to `\d`, not to `[0-9]`.
    "arabic-indic digits": quote("C-2026-\u0660\u0660\u0660\u0660\u0661"),
    "emoji": quote("C-2026-🙂"),
    "broken utf-8": "%C0%80%FF",
    "dot-dot slash": "..%2F..%2Fetc%2Fpasswd",
}
ROLES = ("admin", "coordinator_b", "anonymous")
METHODS = ("GET", "POST")


def _path(pattern: Pattern, arguments: dict[str, str]) -> str:
    """The pattern's route with these arguments, whether or not it resolves."""
    path = GROUP.sub(lambda match: str(arguments[match["name"]]), pattern.route)
    path = ARGUMENT.sub(lambda match: str(arguments[match["name"]]), path)
    return "/" + path.replace("^", "").replace("$", "")


def _fillings(world: World, pattern: Pattern) -> list[dict[str, str]]:
    """Each way the access matrix fills the pattern, every argument well-formed."""
    if not pattern.arguments:
        return [{}]
    found = FILLERS[pattern.namespace](world, pattern)
    return [{name: str(value) for name, value in arguments.items()} for _, arguments in found]


def _resolves(url: str) -> bool:
    """Does the resolver hand this URL (as WSGI decodes it) to any view?"""
    try:
        resolve(unquote(url))
    except Resolver404:
        return False
    return True


def _reference_patterns() -> list[Pattern]:
    return [pattern for pattern in all_patterns() if "reference" in pattern.arguments]


def test_every_reference_argument_takes_only_a_reference():
    """A new `<str:reference>` would hand anything to its view (and to SQL)."""
    patterns = _reference_patterns()
    assert len(patterns) >= 19
    for pattern in patterns:
        assert "<ref:reference>" in pattern.route, pattern.key
        valid = {**dict.fromkeys(pattern.arguments, "1"), "reference": "C-2026-00001"}
        assert resolve(_path(pattern, valid)).kwargs["reference"] == "C-2026-00001"


@pytest.mark.parametrize("value", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_reference_matches_no_url_pattern(value):
    for pattern in _reference_patterns():
        arguments = {**dict.fromkeys(pattern.arguments, "1"), "reference": value}
        with pytest.raises(Resolver404):
            resolve(unquote(_path(pattern, arguments)))


def test_reverse_builds_reference_urls_and_refuses_malformed_ones():
    assert reverse("casework:case_move", args=["C-2026-00042"]) == "/cases/C-2026-00042/move/"
    assert reverse("intake:detail", args=["R-2026-100000"]) == "/intake/R-2026-100000/"
    assert reverse("destinations:entry", args=["ge"]) == "/destinations/ge/"
    for value in ("C-2026-00042\x00", "\u0421-2026-00042", "../C-2026-00042", "C-2026-" + "0" * 99):
        with pytest.raises(NoReverseMatch):
            reverse("casework:case_detail", args=[value])
    assert ReferenceConverter().to_url("C-2026-00042") == "C-2026-00042"


NAMESPACES = sorted({pattern.namespace for pattern in all_patterns() if pattern.arguments})


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_no_url_pattern_answers_5xx_to_a_malformed_argument(world: World, namespace: str):
    for client in world.clients.values():
        client.raise_request_exception = False  # a 500 is counted, not raised
    # A URL no pattern takes runs no view: one request, role and method taking turns. One
    # that reaches a view is asked by every role, GET and POST alternating with the value.
    turns = itertools.cycle(itertools.product(ROLES, METHODS))
    wrong = []
    patterns = [p for p in all_patterns() if p.arguments and p.namespace == namespace]
    for pattern in patterns:
        valid = _fillings(world, pattern)[0]
        for argument in pattern.arguments:
            for index, (name, value) in enumerate(MALFORMED.items()):
                url = _path(pattern, {**valid, argument: value})
                reaches = _resolves(url)
                if argument == "reference" and reaches:
                    wrong.append(f"{pattern.key} {argument}={name}: reaches a view")
                alternating = [(role, METHODS[index % 2]) for role in ROLES]
                asked = alternating if reaches else [next(turns)]
                for role, method in asked:
                    client = world.clients[role]
                    with rolled_back():
                        response = client.get(url) if method == "GET" else client.post(url)
                    status = response.status_code
                    if status >= 500 or (not reaches and status != 404):
                        wrong.append(f"{role} {method} {pattern.key} {argument}={name}: {status}")
    assert not wrong, "\n".join(wrong)


# Query strings -----------------------------------------------------------------------------

# What views read from the query string by hand, and the Django admin's changelist.
QUERY_NAMES = ("page", "before", "next", "q", "o", "p", "e", "_changelist_filters")
QUERY_VALUES = {"nul": "\x00", "over-long number": "9" * 5000}
GET_FORM = re.compile(r"<form\b[^>]*\bmethod=\"get\"[^>]*>(.*?)</form>", re.DOTALL)
FIELD_NAME = re.compile(r"\bname=\"([^\"]+)\"")
LINK_QUERY_NAME = re.compile(r"[?&](?:amp;)?(\w+)=")


def _names_the_page_reads(html: str) -> set[str]:
    """The fields of its GET forms and the names in its own query-string links."""
    forms = GET_FORM.findall(html)
    return {name for form in forms for name in FIELD_NAME.findall(form)} | set(
        LINK_QUERY_NAME.findall(html)
    )


def _pages(world: World, role: str) -> list[tuple[str, str, str]]:
    """(pattern key, URL, HTML) of every page the role may open, each way it is filled."""
    client, pages = world.clients[role], []
    for pattern in all_patterns():
        for arguments in _fillings(world, pattern):
            url = _path(pattern, arguments)
            with rolled_back():
                response = client.get(url)
            if response.status_code == 200 and "html" in response["Content-Type"]:
                pages.append((pattern.key, url, response.content.decode()))
    return pages


@pytest.mark.parametrize("role", ROLES)
def test_no_page_answers_5xx_to_a_nul_or_over_long_query_value(world: World, role: str):
    """Every page the role may open, with every name at once (one request per value), then
    each name its own GET forms and links carry, one at a time."""
    pages = _pages(world, role)
    assert len(pages) >= (1 if role == "anonymous" else 10)
    client = world.clients[role]
    client.raise_request_exception = False  # a 500 is counted, not raised
    wrong = []
    for key, url, html in pages:
        own = _names_the_page_reads(html)
        for name, value in QUERY_VALUES.items():
            asked = [dict.fromkeys((*QUERY_NAMES, *own), value)]
            asked += [{parameter: value} for parameter in sorted(own)]
            for query in asked:
                with rolled_back():
                    status = client.get(url, query).status_code
                if status >= 500:
                    wrong.append(f"{role} GET {key} ?{','.join(query)}={name}: {status}")
    assert not wrong, "\n".join(wrong)
