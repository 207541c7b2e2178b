from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import Team, User


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username",)


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = ("username", "is_active", "is_staff", "groups", "teams")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = ("username", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff", "groups", "teams")
    search_fields = ("username",)
    ordering = ("username",)
    filter_horizontal = ("groups", "teams")
    # Superuser status and single permissions stay out of the web: roles are the groups.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Access", {"fields": ("is_active", "is_staff", "groups", "teams")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    search_fields = ("name",)
