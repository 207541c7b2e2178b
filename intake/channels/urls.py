from django.urls import path

from intake.channels import views

app_name = "telegram"

urlpatterns = [
    path("webhook/", views.telegram_webhook, name="webhook"),
]
