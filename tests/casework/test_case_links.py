"""A case's address in lists (casework/templatetags/case_links.py) is the one Django's
reverse() gives, under any script prefix, and cannot be bent into another address."""

import pytest
from django.template import engines
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from casework.templatetags.case_links import case_url

REFERENCES = ["C-2026-00001", "C-2026-12345", "C-2026-123456789"]


@pytest.fixture(params=["/", "/safe/"])
def script_prefix(request):
    set_script_prefix(request.param)
    yield request.param
    clear_script_prefix()


@pytest.mark.parametrize("reference", REFERENCES)
def test_it_is_what_reverse_gives(reference, script_prefix):
    assert case_url(reference) == reverse("casework:case_detail", args=[reference])
    assert case_url(reference).startswith(script_prefix)


@pytest.mark.parametrize(
    "reference", ["../../account/logout", "x/y", "x?y#z", "a b", "ä~:@!$&()*+,;=x", "%41", "<x>"]
)
def test_a_reference_cannot_leave_the_case_address(reference):
    """reverse() refuses what is not a reference (the <ref:> converter); the filter quotes it
    into an address no pattern takes, a 404."""
    with pytest.raises(NoReverseMatch):
        reverse("casework:case_detail", args=[reference])
    assert case_url(reference).startswith("/cases/")
    assert case_url(reference).count("/") == 3


def test_in_a_template_it_is_the_url_tag_and_escaped():
    template = engines["django"].from_string(
        "{% load case_links %}{{ ref|case_url }}|{% url 'casework:case_detail' ref %}"
    )
    ours, django = template.render({"ref": "C-2026-00001"}).split("|")
    assert ours == django == "/cases/C-2026-00001/"
    template = engines["django"].from_string("{% load case_links %}{{ ref|case_url }}")
    assert "&amp;" in template.render({"ref": "a&b\"'"})
