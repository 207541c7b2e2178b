from django import template

from destinations.countries import country_name as name_of

register = template.Library()


@register.filter
def country_name(code: str) -> str:
    """ "GE" as "Georgia" (or "Грузия"), in the page's language."""
    return name_of(code)
