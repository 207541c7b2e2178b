from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("verify/", views.verify, name="verify"),
    path("enrol/", views.enrol, name="enrol"),
    path("confirm/", views.step_up, name="step_up"),
    path("", views.profile, name="profile"),
    path("backup-codes/", views.backup_codes_new, name="backup_codes_new"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("members/", views.members, name="members"),
    path(
        "members/<int:pk>/reset-second-factor/",
        views.member_second_factor_reset,
        name="member_second_factor_reset",
    ),
    path("members/<int:pk>/end-sessions/", views.member_sessions_end, name="member_sessions_end"),
    path("teams/new/", views.team_new, name="team_new"),
    path("members/<int:pk>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path("members/<int:pk>/unlock/", views.member_unlock, name="member_unlock"),
    path(
        "members/<int:pk>/password-reset/",
        views.member_password_reset,
        name="member_password_reset",
    ),
    path("link/set/", views.link_set_password, name="link_set"),
    path("link/<slug:token>/", views.link_open, name="link"),
]
