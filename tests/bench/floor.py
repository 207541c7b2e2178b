"""The benchmark floor: the cheapest page a signed-in user can get from this process.

Served only by the benchmarks' URLconf (tests/bench/urls.py, through tests/bench/settings.py),
never by the app's. It passes every middleware a real page does (session, sign-in, second
factor, CSRF, CSP), runs one indexed query of 25 rows and renders a small template without
the navigation, so `make bench` can say what each real page costs on top of serving
anything at all. It lists the opaque references of all the user's teams' cases (a
volunteer's dashboard shows only their own).

Beside it, bench/layout/ is an empty page of the app's own layout (base.html: navigation,
unread count, sign-out form): what any real page costs before its own content.
"""

from functools import cache

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template import engines

from accounts.models import User
from casework.models import Case

ROWS = 25
# Compiled once per process, as the cached template loader does for the app's pages.
FLOOR = """{% load i18n %}<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{% translate "Benchmark floor" %}</title></head>
<body>
<h1>{% translate "Newest cases of your teams" %}</h1>
<ul>{% for reference in references %}<li>{{ reference }}</li>
{% empty %}<li>{% translate "No cases." %}</li>{% endfor %}</ul>
</body>
</html>
"""
LAYOUT = """{% extends "base.html" %}{% load i18n %}
{% block content %}<h1>{% translate "Benchmark layout" %}</h1>{% endblock %}
"""


@cache
def _template(source: str):
    return engines["django"].from_string(source)


def newest_references(user: User) -> QuerySet:
    """25 rows read from the (team, -created_at) index. The team ids come first, as every
    page reads them: as a subquery the planner read and sorted all 10,000 of a team's cases."""
    return (
        Case.objects.filter(team_id__in=user.team_ids)
        .order_by("-created_at")
        .values_list("reference", flat=True)[:ROWS]
    )


def floor(request: HttpRequest) -> HttpResponse:
    references = list(newest_references(request.user))
    return HttpResponse(_template(FLOOR).render({"references": references}))


def layout(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_template(LAYOUT).render({}, request))
