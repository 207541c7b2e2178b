from django.urls import path

from intake import views

app_name = "intake"

urlpatterns = [
    path("", views.intake_queue, name="queue"),
    path("new/", views.intake_new, name="new"),
    path("<ref:reference>/", views.intake_detail, name="detail"),
]
