from django.urls import path

from intake import conversation_views, views

app_name = "intake"

urlpatterns = [
    path("", views.intake_queue, name="queue"),
    path("new/", views.intake_new, name="new"),
    path("flood/", conversation_views.intake_flood, name="flood"),
    path("<ref:reference>/", views.intake_detail, name="detail"),
    path("<ref:reference>/documents/", views.intake_document_attach, name="document_attach"),
    path(
        "<ref:reference>/documents/<int:pk>/",
        views.intake_document_download,
        name="document_download",
    ),
    path(
        "<ref:reference>/documents/<int:pk>/preview/",
        views.intake_document_preview,
        name="document_preview",
    ),
    path("<ref:reference>/reply/", conversation_views.reply_send, name="reply"),
]
