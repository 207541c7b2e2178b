from django.urls import path

from casework import views

app_name = "casework"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/board/", views.board, name="board"),
    path("cases/break-glass/", views.break_glass, name="break_glass"),
    path("cases/<str:reference>/", views.case_detail, name="case_detail"),
    path("cases/<str:reference>/edit/", views.case_edit, name="case_edit"),
    path("cases/<str:reference>/move/", views.case_move, name="case_move"),
    path("cases/<str:reference>/assign/", views.case_assign, name="case_assign"),
    path("cases/<str:reference>/take/", views.case_take, name="case_take"),
    path("cases/<str:reference>/timeline/", views.case_timeline_add, name="case_timeline_add"),
    path(
        "cases/<str:reference>/risk-reviewed/", views.case_risk_reviewed, name="case_risk_reviewed"
    ),
]
