"""A case's address in a list: `{{ case.reference|case_url }}`.

`{% url 'casework:case_detail' reference %}` works the address out from the URL patterns
each time, about 20 µs; a coordinator's dashboard lists up to a hundred cases. Here the
pattern is worked out once per process and script prefix, and each reference put into it,
quoted as Django's reverse() quotes it (tests/casework/test_case_links.py holds the two
equal).
"""

from functools import cache
from urllib.parse import quote

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.http import RFC3986_SUBDELIMS

register = template.Library()

MARK = "C-0000-00000"  # shaped like a reference: the pattern takes nothing else


@cache
def _around(script_prefix: str) -> tuple[str, str]:
    before, _mark, after = reverse("casework:case_detail", args=[MARK]).rpartition(MARK)
    return before, after


@register.filter
def case_url(reference) -> str:
    before, after = _around(get_script_prefix())
    # reverse() keeps "/" too, but a case's URL pattern takes none: quoted, it cannot
    # reach another address.
    return before + quote(str(reference), safe=RFC3986_SUBDELIMS + "~:@") + after
