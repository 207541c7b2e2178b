"""A hidden field's error is never left hidden: the form says the page is out of date."""

import pytest
from django import forms
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from casework.models import Stage
from tests.factories import CaseFactory

RELOAD = "This page is out of date: nothing was saved. Reload it and try again."


class Versioned(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField()

    def clean(self):
        raise forms.ValidationError("Something about the form as a whole.")


def shown(form) -> str:
    with translation.override("en"):
        return Template('{% include "_form_errors.html" %}').render(Context({"form": form}))


def test_a_hidden_fields_error_shows_above_the_form_with_the_others():
    html = shown(Versioned({"version": "x", "reason": "kept"}))
    assert RELOAD in html
    assert "Something about the form as a whole." in html
    assert 'role="alert"' in html
    assert "whole number" not in html  # the hidden field's own words help nobody


def test_a_form_without_hidden_errors_says_nothing_more():
    assert RELOAD not in shown(Versioned({"version": "3", "reason": "kept"}))
    assert shown(Versioned()).strip() == ""  # unbound: no errors at all


@pytest.mark.django_db
def test_a_move_with_a_broken_version_says_so_and_keeps_the_reason(coordinator_client, team):
    case = CaseFactory(team=team, stage=Stage.PLANNING)
    response = coordinator_client.post(
        reverse("casework:case_move", args=[case.reference]),
        {"version": "not-a-number", "to_stage": Stage.ON_HOLD, "reason": "Waiting for papers"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert RELOAD in html
    assert "Waiting for papers" in html
    case.refresh_from_db()
    assert case.stage == Stage.PLANNING


@pytest.mark.django_db
def test_in_russian_too(coordinator_client, team):
    case = CaseFactory(team=team, stage=Stage.PLANNING)
    # The request switches this thread to Russian; put back what the next test expects.
    with translation.override(translation.get_language()):
        response = coordinator_client.post(
            reverse("casework:case_move", args=[case.reference]),
            {"version": "", "to_stage": Stage.ON_HOLD, "reason": "x"},
            HTTP_ACCEPT_LANGUAGE="ru",
        )
    assert response.status_code == 400
    assert RELOAD not in response.content.decode()
    assert "Страница устарела" in response.content.decode()
