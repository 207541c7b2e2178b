from django.urls import path

from casework.views import (
    access,
    approvals,
    cases,
    handover,
    merge,
    oversight,
    reminders,
    retention,
    routes,
)

app_name = "casework"

urlpatterns = [
    path("inbox/", reminders.inbox, name="inbox"),
    path("inbox/read/", reminders.inbox_read, name="inbox_read"),
    path("containments/", oversight.containment_list, name="containment_list"),
    path("containments/<int:pk>/", oversight.containment_detail, name="containment_detail"),
    path("members/<int:pk>/contain/", oversight.account_contain, name="account_contain"),
    path("members/<int:pk>/change/", access.access_change_new, name="access_change_new"),
    path("members/invite/", access.member_invite, name="member_invite"),
    path("access-changes/", access.access_change_list, name="access_changes"),
    path(
        "access-changes/<int:pk>/decide/",
        access.access_change_decide,
        name="access_change_decide",
    ),
    path(
        "break-glass/reviews/",
        oversight.break_glass_reviews,
        name="break_glass_reviews",
    ),
    path(
        "break-glass/reviews/<int:pk>/",
        oversight.break_glass_review,
        name="break_glass_review",
    ),
    path(
        "break-glass/reviews/<int:pk>/reason/",
        oversight.break_glass_reason,
        name="break_glass_reason",
    ),
    path("legs/", routes.leg_list, name="leg_list"),
    path("since-last-shift/", handover.since_last_shift, name="since_last_shift"),
    path("transfers/", handover.transfer_list, name="transfer_list"),
    path("transfers/<int:pk>/", handover.transfer_detail, name="transfer_detail"),
    path("transfers/<int:pk>/withdraw/", handover.transfer_withdraw, name="transfer_withdraw"),
    path("cases/", cases.case_list, name="case_list"),
    path("cases/board/", cases.board, name="board"),
    path("cases/break-glass/", oversight.break_glass, name="break_glass"),
    path("cases/<ref:reference>/", cases.case_detail, name="case_detail"),
    path("cases/<ref:reference>/edit/", cases.case_edit, name="case_edit"),
    path("cases/<ref:reference>/move/", cases.case_move, name="case_move"),
    path("cases/<ref:reference>/assign/", cases.case_assign, name="case_assign"),
    path("cases/<ref:reference>/take/", cases.case_take, name="case_take"),
    path("cases/<ref:reference>/hand-over/", handover.case_hand_over, name="case_hand_over"),
    path("cases/<ref:reference>/transfer/", handover.case_transfer_ask, name="case_transfer_ask"),
    path("cases/<ref:reference>/timeline/", cases.case_timeline_add, name="case_timeline_add"),
    path(
        "cases/<ref:reference>/timeline/undo/",
        cases.case_timeline_undo,
        name="case_timeline_undo",
    ),
    path(
        "cases/<ref:reference>/timeline/older/",
        cases.case_timeline_older,
        name="case_timeline_older",
    ),
    path(
        "cases/<ref:reference>/risk-reviewed/", cases.case_risk_reviewed, name="case_risk_reviewed"
    ),
    path("cases/<ref:reference>/history/", cases.case_history, name="case_history"),
    path("cases/<ref:reference>/legal-hold/", retention.legal_hold, name="case_legal_hold"),
    path("cases/<ref:reference>/erase/", retention.case_erase, name="case_erase"),
    path("cases/<ref:reference>/merge/", merge.case_merge, name="case_merge"),
    path("cases/<ref:reference>/merge/undo/", merge.case_merge_undo, name="case_merge_undo"),
    path("cases/<ref:reference>/legs/new/", routes.leg_new, name="leg_new"),
    path("cases/<ref:reference>/legs/<int:pk>/", routes.leg_detail, name="leg_detail"),
    path("cases/<ref:reference>/legs/<int:pk>/edit/", routes.leg_edit, name="leg_edit"),
    path("cases/<ref:reference>/legs/<int:pk>/remove/", routes.leg_remove, name="leg_remove"),
    path(
        "cases/<ref:reference>/provocation/",
        oversight.case_provocation,
        name="case_provocation",
    ),
    path("cases/<ref:reference>/follow-up/", reminders.follow_up, name="follow_up"),
    path("cases/<ref:reference>/approvals/", approvals.approval_ask, name="approval_ask"),
    path(
        "cases/<ref:reference>/approvals/<int:pk>/",
        approvals.approval_decide,
        name="approval_decide",
    ),
    path(
        "cases/<ref:reference>/reminders/<int:pk>/",
        reminders.reminder_change,
        name="reminder_change",
    ),
]
