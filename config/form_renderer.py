"""Django's form renderer, writing the commonest widgets in Python.

Django writes every widget through templates: an input through two or three (text.html
includes input.html, which includes attrs.html), a select through one more per option and
another per option's attributes. That is about 300,000 instructions an option: the case
list's filter form cost more than the whole of the cheapest page. Here inputs, textareas
and selects are written by functions that give exactly what Django's templates give
(tests/config/test_form_renderer.py holds them to it); every other widget, and any of these
whose template a project or app overrides, still goes through its template.
"""

from pathlib import Path

import django.forms
from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.template.defaultfilters import stringformat
from django.utils.safestring import SafeData

WIDGETS = "django/forms/widgets/"
# Each of these templates is `{% include "django/forms/widgets/input.html" %}` (a test checks).
INPUT_TEMPLATES = frozenset(
    f"{WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "checkbox",
        "tel",
        "search",
        "color",
    )
)
SELECT_TEMPLATE = f"{WIDGETS}select.html"
OPTION_TEMPLATE = f"{WIDGETS}select_option.html"
TEXTAREA_TEMPLATE = f"{WIDGETS}textarea.html"
DJANGO_TEMPLATES = Path(django.forms.__file__).parent / "templates"


class _WidgetContext:
    """What a widget template's Context says about showing values: the defaults."""

    use_tz = None
    use_l10n = None
    autoescape = True


def _show(value) -> str:
    """{{ value }}"""
    return render_value_in_context(value, _WidgetContext)


def _formatted(value) -> str:
    """{{ value|stringformat:'s' }}: a safe value stays unescaped, as the filter is safe."""
    text = stringformat(value, "s")
    return text if isinstance(value, SafeData) else _show(text)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html"""
    written = []
    for name, value in attrs.items():
        if value is not False:
            written.append(f" {_show(name)}")
            if value is not True:
                written.append(f'="{_formatted(value)}"')
    return "".join(written)


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html"""
    value = f' value="{_formatted(widget["value"])}"' if widget["value"] is not None else ""
    return (
        f'<input type="{_show(widget["type"])}" name="{_show(widget["name"])}"{value}'
        f"{_attrs(widget['attrs'])}>"
    )


def _textarea(widget: dict) -> str:
    """django/forms/widgets/textarea.html"""
    value = _show(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_show(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _option(option: dict) -> str:
    """django/forms/widgets/select_option.html, with the newline that ends the file."""
    return (
        f'<option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
        f"{_show(option['label'])}</option>\n"
    )


def _select(widget: dict) -> str | None:
    """django/forms/widgets/select.html; None if an option has a template of its own."""
    written = [f'<select name="{_show(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            written.append(f'\n  <optgroup label="{_show(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            written.append(f"\n  {_option(option)}")
        if group_name:
            written.append("\n  </optgroup>")
    written.append("\n</select>")
    return "".join(written)


WRITERS = {
    **dict.fromkeys(INPUT_TEMPLATES, _input),
    TEXTAREA_TEMPLATE: _textarea,
    SELECT_TEMPLATE: _select,
}


class FormRenderer(DjangoTemplates):
    """settings.FORM_RENDERER: Django's DjangoTemplates renderer, with the widgets above
    written in Python while their templates are Django's own."""

    def __init__(self):
        super().__init__()
        self._writers: dict[str, object] = {}

    def _writer(self, template_name: str):
        if template_name not in self._writers:
            writer = WRITERS.get(template_name)
            if writer is not None:
                origin = Path(self.get_template(template_name).origin.name)
                if not origin.is_relative_to(DJANGO_TEMPLATES):
                    writer = None  # overridden: the override is what must show
            self._writers[template_name] = writer
        return self._writers[template_name]

    def render(self, template_name, context, request=None):
        writer = self._writer(template_name)
        if writer is not None and (written := writer(context["widget"])) is not None:
            return written
        return super().render(template_name, context, request=request)
