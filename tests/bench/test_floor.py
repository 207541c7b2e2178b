"""The benchmark floor (tests/bench/floor.py): served only through the benchmarks' own
settings and URLconf, never by the app's; nothing personal on it."""

import os
import subprocess
import sys

import pytest
from django.urls import NoReverseMatch, reverse

from casework.models import Case, Person
from tests.config.test_settings import ROOT, manage, production_env

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "path"), [("bench_floor", "/bench/floor/"), ("bench_layout", "/bench/layout/")]
)
def test_the_app_does_not_serve_it(coordinator_client, name, path):
    with pytest.raises(NoReverseMatch):
        reverse(name)
    assert coordinator_client.get(path).status_code == 404


@pytest.mark.urls("tests.bench.urls")
def test_it_lists_only_references_of_the_users_own_teams(coordinator_client, team, other_team):
    own = Person.objects.create(codename="Own-1", legal_name="Secret Name")
    other = Person.objects.create(codename="Other-1")
    Case.objects.create(reference="C-2026-00001", person=own, team=team)
    Case.objects.create(reference="C-2026-00002", person=other, team=other_team)
    page = coordinator_client.get(reverse("bench_floor")).content.decode()
    assert "C-2026-00001" in page
    assert "C-2026-00002" not in page
    assert "Secret Name" not in page and "Own-1" not in page


@pytest.mark.urls("tests.bench.urls")
def test_the_layout_page_is_the_apps_layout_with_nothing_in_it(coordinator_client, team):
    Case.objects.create(
        reference="C-2026-00001", person=Person.objects.create(codename="Own-1"), team=team
    )
    page = coordinator_client.get(reverse("bench_layout")).content.decode()
    assert 'class="site-header"' in page and 'href="/cases/"' in page  # the navigation
    assert "C-2026-00001" not in page and "Own-1" not in page


def test_the_benchmarks_serve_the_app_and_the_floor(tmp_path):
    """What tests/bench/pages_size.py (and the gunicorn it starts) runs with."""
    script = (
        "import tests.bench.pages_size\n"
        "from django.urls import reverse\n"
        "print(reverse('bench_floor'), reverse('casework:case_detail', args=['C-2026-00001']))"
    )
    env = {
        **{name: value for name, value in os.environ.items() if name != "DATABASE_OWNER_URL"},
        "DJANGO_SETTINGS_MODULE": "config.settings",  # which pages_size replaces
        "SAFE_PASSAGE_MODE": "embedded",
        "SAFE_PASSAGE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["/bench/floor/", "/cases/C-2026-00001/"]


def test_production_refuses_the_benchmark_settings():
    result = manage("check", env=production_env(DJANGO_SETTINGS_MODULE="tests.bench.settings"))
    assert result.returncode != 0
    assert "tests.bench.settings is for benchmarks on the embedded mode only" in result.stderr
