from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config import floor

urlpatterns = [
    path("", include("casework.urls")),
    path("account/", include("accounts.urls")),
    path("intake/", include("intake.urls")),
    path("audit/", include("audit.urls")),
    path("destinations/", include("destinations.urls")),
    # admin.site is our OTP admin site (accounts.apps.AdminConfig).
    path(settings.ADMIN_URL, admin.site.urls),
    *(
        [
            path("bench/floor/", floor.floor, name="bench_floor"),
            path("bench/layout/", floor.layout, name="bench_layout"),
        ]
        if settings.BENCH_FLOOR_VIEW
        else []
    ),
]
