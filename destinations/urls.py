from django.urls import path

from destinations import views

app_name = "destinations"

urlpatterns = [
    path("", views.register, name="register"),
    path("new/", views.entry_add, name="entry_add"),
    path("<country:country>/", views.entry, name="entry"),
    path("<country:country>/edit/", views.entry_edit, name="entry_edit"),
]
