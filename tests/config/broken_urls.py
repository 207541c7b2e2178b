"""A URLconf with a view that fails, to see what a visitor gets from an error."""

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path


@login_not_required
def explode(request):
    raise RuntimeError("secret detail: volunteer phone +7 900 000-00-00")


urlpatterns = [
    path("explode/", explode),
    path("", include("config.urls")),
]
