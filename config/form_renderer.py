"""Django's form renderer, writing the commonest widgets, and our field wrapper, in Python.

Django writes every widget through templates: an input through two or three (text.html
includes input.html, which includes attrs.html), a select through one more per option and
another per option's attributes. That is about 300,000 instructions an option: the case
list's filter form cost more than the whole of the cheapest page. Here inputs, textareas
and selects are written by functions that give exactly what Django's templates give
(tests/config/test_form_renderer.py holds them to it); every other widget, and any of these
whose template a project or app overrides, still goes through its template.

The same for templates/_field.html, the label, help text and errors around each field
(about 0.3 ms a field through the template): it is the renderer's field template, so
`{{ field.as_field_group }}` gives it, written by a function that gives exactly what the
template gives (tests/config/test_field_renderer.py). The template stays the reference:
if another file is found under its name, that file is what shows.
"""

from pathlib import Path

import django.forms
from django.forms.renderers import DjangoTemplates
from django.template import loader
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
# The project's field wrapper, found by the project's template engines as {% include %} finds it.
FIELD_TEMPLATE = "_field.html"
PROJECT_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


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


def _field(field) -> str:
    """templates/_field.html, for a BoundField: its label (a legend for a group of choices),
    the widget, the help text and the errors, all as the template writes them."""
    errors = field.errors
    help_text = field.help_text
    auto_id = _show(field.auto_id) if help_text or errors else ""
    error_class = " field-error" if errors else ""
    if field.use_fieldset and not field.is_hidden:
        described = ""
        if help_text or errors:
            ids = []
            if help_text:
                ids.append(f"{auto_id}_helptext")
            if errors:
                ids.append(f"{auto_id}_error")
            described = f' aria-describedby="{" ".join(ids)}"'
        start = (
            f'\n<fieldset class="field field-group{error_class}"{described}>\n'
            f"  <legend>{_show(field.label)}</legend>\n  {_show(field)}\n"
        )
        end = "</fieldset>"
    else:
        hidden = field.is_hidden
        if hidden:
            inner = _show(field)
        elif getattr(field.field.widget, "input_type", None) == "checkbox":
            inner = (
                f'\n  <label class="check" for="{_show(field.id_for_label)}">'
                f"{_show(field)} {_show(field.label)}</label>\n  "
            )
        else:
            inner = (
                f'\n  <label for="{_show(field.id_for_label)}">{_show(field.label)}</label>\n'
                f"  {_show(field)}\n  "
            )
        hidden_class = " hidden-field" if hidden else ""
        start = f'\n<div class="field{error_class}{hidden_class}">\n  {inner}\n'
        end = "</div>"
    help_html = (
        f'<p class="help" id="{auto_id}_helptext">{_show(help_text)}</p>' if help_text else ""
    )
    errors_html = ""
    if errors:
        shown = "".join(f'<p class="error" role="alert">{_show(error)}</p>' for error in errors)
        errors_html = f'<div id="{auto_id}_error">{shown}</div>'
    return f"{start}\n  {help_html}\n  {errors_html}\n{end}\n"


def _widget(write):
    """A writer of a widget template: from the template's context, its widget."""
    return lambda context: write(context["widget"])


def _field_group(context) -> str:
    """The field template, stripped as the renderer strips what a template writes."""
    return _field(context["field"]).strip()


# Each writer, and the template file it copies.
WRITERS = {
    **{name: (_widget(_input), DJANGO_TEMPLATES / name) for name in INPUT_TEMPLATES},
    TEXTAREA_TEMPLATE: (_widget(_textarea), DJANGO_TEMPLATES / TEXTAREA_TEMPLATE),
    SELECT_TEMPLATE: (_widget(_select), DJANGO_TEMPLATES / SELECT_TEMPLATE),
    FIELD_TEMPLATE: (_field_group, PROJECT_TEMPLATES / FIELD_TEMPLATE),
}


class FormRenderer(DjangoTemplates):
    """settings.FORM_RENDERER: Django's DjangoTemplates renderer, with the widgets above
    written in Python while their templates are Django's own, and templates/_field.html as
    the template of a field group ({{ field.as_field_group }}), written in Python too."""

    field_template_name = FIELD_TEMPLATE

    def __init__(self):
        super().__init__()
        self._writers: dict[str, object] = {}

    def get_template(self, template_name):
        if template_name == FIELD_TEMPLATE:
            # Not among the forms engine's templates: the project's, as {% include %} had it.
            return loader.get_template(template_name)
        return super().get_template(template_name)

    def _writer(self, template_name: str):
        if template_name not in self._writers:
            writer, copied = WRITERS.get(template_name, (None, None))
            if writer is not None:
                origin = Path(self.get_template(template_name).origin.name)
                if origin.resolve() != copied.resolve():
                    writer = None  # overridden: the override is what must show
            self._writers[template_name] = writer
        return self._writers[template_name]

    def render(self, template_name, context, request=None):
        writer = self._writer(template_name)
        if writer is not None and (written := writer(context)) is not None:
            return written
        return super().render(template_name, context, request=request)
