from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="events"),
    path("export.csv", views.export, name="export"),
    path("alerts/", views.alert_list, name="alerts"),
]
