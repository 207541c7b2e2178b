"""The Django admin speaks the reader's language: its titles and every app's label."""

import re

import pytest
from django.apps import apps
from django.utils import translation

from tests.conftest import verified_client

pytestmark = pytest.mark.django_db

CYRILLIC = re.compile("[\u0400-\u04ff]")

OWN_APPS = (
    "accounts",
    "axes",
    "audit",
    "casework",
    "dashboard",
    "destinations",
    "intake",
    "privacy",
)


def test_each_app_has_a_label_in_russian():
    with translation.override("ru"):
        for label in OWN_APPS:
            name = str(apps.get_app_config(label).verbose_name)
            assert CYRILLIC.search(name), label


def test_the_admin_index_is_in_russian(admin_user):
    admin_user.is_superuser = True
    admin_user.save(update_fields=["is_superuser"])
    page = verified_client(admin_user).get("/admin/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Администрирование" in page
    assert "Axes" not in page
    captions = re.findall(r"<caption>\s*<a [^>]*>([^<]+)</a>", page)
    for caption in captions:
        assert CYRILLIC.search(caption), caption
