from django.conf import settings
from django.contrib import admin
from django.urls import include, path, register_converter

from config.converters import CountryCodeConverter, ReferenceConverter

# Registered before the apps' URLconfs below are included (and imported).
register_converter(ReferenceConverter, "ref")
register_converter(CountryCodeConverter, "country")

urlpatterns = [
    path("", include("dashboard.urls")),
    path("", include("casework.urls")),
    path("", include("documents.urls")),
    path("account/", include("accounts.urls")),
    path("intake/", include("intake.urls")),
    # Telegram's calls to the bot (a 404 while the bot is off).
    path("telegram/", include("intake.channels.urls")),
    path("audit/", include("audit.urls")),
    path("destinations/", include("destinations.urls")),
    # admin.site is our OTP admin site (accounts.apps.AdminConfig).
    path(settings.ADMIN_URL, admin.site.urls),
]
