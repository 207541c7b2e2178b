"""The app's URLconf and the benchmark's reference pages (tests/bench/floor.py)."""

from django.urls import path

from config.urls import urlpatterns as app_urlpatterns
from tests.bench import floor

urlpatterns = [
    *app_urlpatterns,
    path("bench/floor/", floor.floor, name="bench_floor"),
    path("bench/layout/", floor.layout, name="bench_layout"),
]
