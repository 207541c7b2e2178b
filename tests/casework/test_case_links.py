"""A case's address in lists (casework/templatetags/case_links.py) is the one Django's
reverse() gives, under any script prefix, and cannot be bent into another address."""

import pytest
from django.template import engines
from django.urls import clear_script_prefix, reverse, set_script_prefix

from casework.templatetags.case_links import case_url

REFERENCES = ["C-2026-00001", "C-2026-12345", "a b", "ä~:@!$&()*+,;=x", "%41", "<x>"]


@pytest.fixture(params=["/", "/safe/"])
def script_prefix(request):
    set_script_prefix(request.param)
    yield request.param
    clear_script_prefix()


@pytest.mark.parametrize("reference", REFERENCES)
def test_it_is_what_reverse_gives(reference, script_prefix):
    assert case_url(reference) == reverse("casework:case_detail", args=[reference])
    assert case_url(reference).startswith(script_prefix)


@pytest.mark.parametrize("reference", ["../../account/logout", "x/y", "x?y#z"])
def test_a_reference_cannot_leave_the_case_address(reference):
    assert case_url(reference).startswith("/cases/")
    assert case_url(reference).count("/") == 3


def test_in_a_template_it_is_escaped_as_the_url_tag_is():
    template = engines["django"].from_string(
        "{% load case_links %}{{ ref|case_url }}|{% url 'casework:case_detail' ref %}"
    )
    ours, django = template.render({"ref": "a&b\"'"}).split("|")
    assert ours == django
    assert "&amp;" in ours
