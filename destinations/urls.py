from django.urls import path

from destinations import views

app_name = "destinations"

urlpatterns = [
    path("", views.register, name="register"),
    path("new/", views.entry_add, name="entry_add"),
    path("<str:country>/", views.entry, name="entry"),
    path("<str:country>/edit/", views.entry_edit, name="entry_edit"),
]
