"""The URLconf of the public host names (PUBLIC_HOSTS; config/hosts.py routes them here):
the form, the come-back pages, and nothing of the staff app. Its static files are the
public folder's only (config/hosts.py)."""

from django.urls import include, path

from intake.public import views

pages = [
    path("", views.request_form, name="form"),
    path("back/", views.come_back, name="back"),
    path("back/write/", views.write_again, name="write"),
]
# Included, so the pages are named "public:…" as an app's URLs are.
urlpatterns = [path("", include((pages, "public")))]

handler400 = views.bad_request
handler403 = views.forbidden
handler404 = views.not_found
handler500 = views.server_error
