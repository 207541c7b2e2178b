from django.urls import path

from documents import views

app_name = "documents"

urlpatterns = [
    path("cases/<ref:reference>/documents/", views.document_attach, name="document_attach"),
    path(
        "cases/<ref:reference>/documents/<int:pk>/",
        views.document_download,
        name="document_download",
    ),
    path(
        "cases/<ref:reference>/legs/<int:pk>/documents/",
        views.leg_document_attach,
        name="leg_document_attach",
    ),
    path(
        "cases/<ref:reference>/documents/<int:pk>/preview/",
        views.document_preview,
        name="document_preview",
    ),
]
