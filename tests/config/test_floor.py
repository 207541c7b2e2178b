"""The benchmark floor page (config/floor.py): off unless BENCH_FLOOR_VIEW, nothing personal."""

import pytest
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from casework.models import Case, Person
from config import floor


@pytest.mark.parametrize("name", ["bench_floor", "bench_layout"])
def test_it_is_not_served_by_default(name):
    with pytest.raises(NoReverseMatch):
        reverse(name)


def test_it_lists_only_references_of_the_users_own_teams(coordinator, team, other_team):
    own = Person.objects.create(codename="Own-1", legal_name="Secret Name")
    other = Person.objects.create(codename="Other-1")
    Case.objects.create(reference="C-2026-00001", person=own, team=team)
    Case.objects.create(reference="C-2026-00002", person=other, team=other_team)
    request = RequestFactory().get("/bench/floor/")
    request.user = coordinator
    page = floor.floor(request).content.decode()
    assert "C-2026-00001" in page
    assert "C-2026-00002" not in page
    assert "Secret Name" not in page and "Own-1" not in page


def test_the_layout_page_is_the_apps_layout_with_nothing_in_it(coordinator, team):
    Case.objects.create(
        reference="C-2026-00001", person=Person.objects.create(codename="Own-1"), team=team
    )
    request = RequestFactory().get("/bench/layout/")
    request.user = coordinator
    request.user.is_verified = lambda: True  # what django-otp's middleware sets
    page = floor.layout(request).content.decode()
    assert 'class="site-header"' in page and 'href="/cases/"' in page  # the navigation
    assert "C-2026-00001" not in page and "Own-1" not in page


def test_production_refuses_to_start_with_it_on():
    from tests.config.test_settings import manage, production_env

    result = manage("check", env=production_env(BENCH_FLOOR_VIEW="true"))
    assert result.returncode != 0
    assert "BENCH_FLOOR_VIEW is for benchmarks on the embedded mode only" in result.stderr
