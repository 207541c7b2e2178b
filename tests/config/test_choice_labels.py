"""get_FOO_display() through config.choice_labels says what Django's own would, in the
language of whoever asks, and translates only the label it shows."""

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation
from django.utils.translation import trans_real

from audit.models import AccessEvent, Action
from config.choice_labels import ChoiceLabelsMixin

MODELS = [model for model in apps.get_models() if issubclass(model, ChoiceLabelsMixin)]
FIELDS = [
    pytest.param(model, field, id=f"{model.__name__}.{field.name}")
    for model in MODELS
    for field in model._meta.concrete_fields
    if field.choices
]


def test_the_models_shown_in_lists_use_it():
    names = {model.__name__ for model in MODELS}
    assert {"Case", "CaseEvent", "Person", "Reminder", "IntakeRequest", "AccessEvent"} <= names


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(("model", "field"), FIELDS)
def test_every_label_is_the_one_django_would_show(model, field, language):
    display = getattr(model, f"get_{field.name}_display")
    values = [value for value, _label in field.flatchoices] + ["not-a-choice", ""]
    with translation.override(language):
        for value in values:
            instance = model(**{field.attname: value})
            assert display(instance) == models.Model._get_FIELD_display(instance, field)


def test_the_label_follows_the_language_of_each_request():
    event = AccessEvent(action=Action.CASE_VIEWED)
    with translation.override("ru"):
        russian = event.get_action_display()
    with translation.override("en"):
        english = event.get_action_display()
    assert (english, russian) == ("Case viewed", "Просмотр дела")


def test_it_translates_only_the_label_it_shows(monkeypatch):
    translated = []
    real = trans_real.gettext

    def counting(message):
        translated.append(message)
        return real(message)

    # Where translation.gettext, and so every lazy label, ends up.
    monkeypatch.setattr(translation._trans, "gettext", counting)
    with translation.override("ru"):
        AccessEvent(action=Action.CASE_VIEWED).get_action_display()
    assert translated == ["Case viewed"]
