from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import transaction

from accounts.models import Team, User
from audit.log import record
from audit.models import Action


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

    def save_related(self, request, form, formsets, change):
        # Roles and teams are many-to-many: recorded once they are saved, in one transaction.
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            record(
                Action.ACCOUNT_CHANGED,
                actor=request.user,
                target_type="user",
                target_ref=str(form.instance.pk),
            )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    search_fields = ("name",)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            record(
                Action.ACCOUNT_CHANGED,
                actor=request.user,
                target_type="team",
                target_ref=str(obj.pk),
            )
