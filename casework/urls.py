from django.urls import path

from casework import (
    access_change_views,
    break_glass_review_views,
    containment_views,
    reminder_views,
    retention_views,
    route_views,
    views,
)

app_name = "casework"

urlpatterns = [
    path("inbox/", reminder_views.inbox, name="inbox"),
    path("inbox/read/", reminder_views.inbox_read, name="inbox_read"),
    path("containments/", containment_views.containment_list, name="containment_list"),
    path("containments/<int:pk>/", containment_views.containment_detail, name="containment_detail"),
    path("members/<int:pk>/contain/", containment_views.account_contain, name="account_contain"),
    path(
        "members/<int:pk>/change/", access_change_views.access_change_new, name="access_change_new"
    ),
    path("members/invite/", access_change_views.member_invite, name="member_invite"),
    path("access-changes/", access_change_views.access_change_list, name="access_changes"),
    path(
        "access-changes/<int:pk>/decide/",
        access_change_views.access_change_decide,
        name="access_change_decide",
    ),
    path(
        "break-glass/reviews/",
        break_glass_review_views.break_glass_reviews,
        name="break_glass_reviews",
    ),
    path(
        "break-glass/reviews/<int:pk>/",
        break_glass_review_views.break_glass_review,
        name="break_glass_review",
    ),
    path(
        "break-glass/reviews/<int:pk>/reason/",
        break_glass_review_views.break_glass_reason,
        name="break_glass_reason",
    ),
    path("legs/", route_views.leg_list, name="leg_list"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/board/", views.board, name="board"),
    path("cases/break-glass/", views.break_glass, name="break_glass"),
    path("cases/<ref:reference>/", views.case_detail, name="case_detail"),
    path("cases/<ref:reference>/edit/", views.case_edit, name="case_edit"),
    path("cases/<ref:reference>/move/", views.case_move, name="case_move"),
    path("cases/<ref:reference>/assign/", views.case_assign, name="case_assign"),
    path("cases/<ref:reference>/take/", views.case_take, name="case_take"),
    path("cases/<ref:reference>/timeline/", views.case_timeline_add, name="case_timeline_add"),
    path(
        "cases/<ref:reference>/timeline/older/",
        views.case_timeline_older,
        name="case_timeline_older",
    ),
    path(
        "cases/<ref:reference>/risk-reviewed/", views.case_risk_reviewed, name="case_risk_reviewed"
    ),
    path("cases/<ref:reference>/history/", views.case_history, name="case_history"),
    path("cases/<ref:reference>/legal-hold/", retention_views.legal_hold, name="case_legal_hold"),
    path("cases/<ref:reference>/erase/", retention_views.case_erase, name="case_erase"),
    path("cases/<ref:reference>/legs/new/", route_views.leg_new, name="leg_new"),
    path("cases/<ref:reference>/legs/<int:pk>/", route_views.leg_detail, name="leg_detail"),
    path("cases/<ref:reference>/legs/<int:pk>/edit/", route_views.leg_edit, name="leg_edit"),
    path("cases/<ref:reference>/legs/<int:pk>/remove/", route_views.leg_remove, name="leg_remove"),
    path(
        "cases/<ref:reference>/provocation/",
        route_views.case_provocation,
        name="case_provocation",
    ),
    path("cases/<ref:reference>/follow-up/", reminder_views.follow_up, name="follow_up"),
    path(
        "cases/<ref:reference>/reminders/<int:pk>/",
        reminder_views.reminder_change,
        name="reminder_change",
    ),
]
