"""Widgets written in Python (config/form_renderer.py) come out exactly as Django's templates
write them: every input, textarea and select of the project's forms, and odd values too."""

from datetime import date, datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.template import engines
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from audit.forms import EventFilterForm
from casework import forms as case_forms
from casework.models import Stage
from config.form_renderer import (
    DJANGO_TEMPLATES,
    INPUT_TEMPLATES,
    OPTION_TEMPLATE,
    SELECT_TEMPLATE,
    TEXTAREA_TEMPLATE,
    FormRenderer,
)
from intake.forms import IntakeForm, TriageForm

XSS = "<script>alert(1)</script>\"'&"
DJANGO = DjangoTemplates()
OURS = FormRenderer()


def both(widget: forms.Widget, value, attrs=None) -> tuple[str, str]:
    return (
        widget.render("field", value, attrs, renderer=OURS),
        widget.render("field", value, attrs, renderer=DJANGO),
    )


def test_it_is_the_renderer_forms_use():
    assert isinstance(get_default_renderer(), FormRenderer)


def test_djangos_templates_are_still_the_ones_it_copies():
    """If a Django upgrade changes these, the writers must change with them."""
    widgets = DJANGO_TEMPLATES / "django/forms/widgets"
    for name in INPUT_TEMPLATES - {"django/forms/widgets/input.html"}:
        text = (DJANGO_TEMPLATES / name).read_text()
        assert text == '{% include "django/forms/widgets/input.html" %}\n', name
    expected = {
        "input.html": '<input type="{{ widget.type }}" name="{{ widget.name }}"'
        "{% if widget.value != None %} value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}"
        '{% include "django/forms/widgets/attrs.html" %}>\n',
        "attrs.html": "{% for name, value in widget.attrs.items %}{% if value is not False %} "
        "{{ name }}{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}"
        "{% endif %}{% endfor %}",
        "select_option.html": "<option value=\"{{ widget.value|stringformat:'s' }}\""
        '{% include "django/forms/widgets/attrs.html" %}>{{ widget.label }}</option>\n',
        "textarea.html": '<textarea name="{{ widget.name }}"'
        '{% include "django/forms/widgets/attrs.html" %}>\n'
        "{% if widget.value %}{{ widget.value }}{% endif %}</textarea>\n",
        "select.html": '<select name="{{ widget.name }}"'
        '{% include "django/forms/widgets/attrs.html" %}>'
        "{% for group_name, group_choices, group_index in widget.optgroups %}"
        '{% if group_name %}\n  <optgroup label="{{ group_name }}">{% endif %}'
        "{% for option in group_choices %}\n  "
        "{% include option.template_name with widget=option %}{% endfor %}"
        "{% if group_name %}\n  </optgroup>{% endif %}{% endfor %}\n</select>\n",
    }
    for name, text in expected.items():
        assert (widgets / name).read_text() == text, name
    assert {SELECT_TEMPLATE, OPTION_TEMPLATE, TEXTAREA_TEMPLATE} <= {
        f"django/forms/widgets/{path.name}" for path in widgets.iterdir()
    }


VALUES = [None, "", "plain", XSS, mark_safe("<b>safe</b>"), 0, 42, 3.5, date(2026, 3, 9)]
ATTRS = [
    None,
    {"id": "id_field", "required": True, "disabled": False, "autocomplete": "off"},
    {"class": XSS, "data-n": 7, "aria-describedby": mark_safe("a&b"), "hidden": None},
]
INPUTS = [
    forms.TextInput(),
    forms.NumberInput(),
    forms.EmailInput(),
    forms.URLInput(),
    forms.PasswordInput(render_value=True),
    forms.HiddenInput(),
    forms.DateInput(),
    forms.DateTimeInput(),
    forms.TimeInput(),
    forms.CheckboxInput(),
    case_forms.DateInput(),
    case_forms.DateTimeInput(),
    forms.Textarea(attrs={"rows": 3}),
]


@pytest.mark.parametrize("widget", INPUTS, ids=lambda widget: type(widget).__name__)
@pytest.mark.parametrize("attrs", ATTRS)
def test_inputs_and_textareas_come_out_as_djangos(widget, attrs):
    for value in [*VALUES, datetime(2026, 3, 9, 14, 5)]:
        ours, djangos = both(widget, value, attrs)
        assert ours == djangos, value


CHOICES = [
    [],
    [("", gettext_lazy("Any stage")), *Stage.choices],
    [(1, "one"), (2, XSS), ("3", mark_safe("<i>three</i>")), (None, "none")],
    [("Group A", [("a", "A"), ("b", "B")]), ("c", "C"), (XSS, [("d", "D")])],
]


@pytest.mark.parametrize("choices", CHOICES)
@pytest.mark.parametrize("attrs", ATTRS)
@pytest.mark.parametrize("language", ["en", "ru"])
def test_selects_come_out_as_djangos(choices, attrs, language):
    with translation.override(language):
        for widget in (forms.Select(choices=choices), forms.SelectMultiple(choices=choices)):
            for value in [None, "", "planning", "a", 2, ["a", "d"], XSS]:
                ours, djangos = both(widget, value, attrs)
                assert ours == djangos, (type(widget).__name__, value)


def project_forms():
    data = {"stage": "planning", "risk": "flag_wanted", "action": "case_viewed", "text": XSS}
    return [
        case_forms.CaseFilterForm(),
        case_forms.CaseFilterForm(data),
        EventFilterForm(data),
        case_forms.MoveForm(targets=[Stage.PLANNING, Stage.ON_HOLD], warning=None),
        case_forms.MoveForm(data, targets=[Stage.PLANNING], warning=None),
        case_forms.TimelineForm(data),
        case_forms.FollowUpForm(),
        case_forms.BreakGlassForm({"reference": XSS}),
        IntakeForm(),
        IntakeForm({"channel": "phone", "contact": XSS, "message": XSS}),
        TriageForm(),
    ]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_projects_forms_come_out_as_djangos(language):
    with translation.override(language):
        for form in project_forms():
            if form.is_bound:
                form.is_valid()  # shown with its errors, as a refused form is
            for field in form:
                ours = field.as_widget()
                form.renderer = DJANGO
                djangos = field.as_widget()
                form.renderer = OURS
                assert ours == djangos, (type(form).__name__, field.name)


def test_an_overridden_widget_template_is_what_shows():
    class Overridden(FormRenderer):
        def get_template(self, template_name):
            if template_name == SELECT_TEMPLATE:
                return engines["django"].from_string("overridden {{ widget.name }}")
            return super().get_template(template_name)

    widget = forms.Select(choices=[("a", "A")])
    assert widget.render("field", "a", renderer=Overridden()) == "overridden field"
