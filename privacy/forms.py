"""What a browser may remember of a form."""

from django.forms.widgets import Input

# The one-line inputs whose values a browser keeps in its form history and offers again.
REMEMBERED_TYPES = frozenset({"text", "tel", "email", "search", "url"})


class OffTheRecord:
    """A form mixin: every one-line field says autocomplete="off", so a stolen, unlocked
    laptop does not offer a person's name, number or route to whoever types a first letter.
    A field that already says what it is (autocomplete="username", ...) keeps its hint."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, Input) and widget.input_type in REMEMBERED_TYPES:
                widget.attrs.setdefault("autocomplete", "off")
