import base64
import re
from typing import cast
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.models import Device

from accounts import permissions, selectors, services
from accounts.client_address import client_address
from accounts.decorators import second_factor_not_required
from accounts.forms import (
    BackupCodeForm,
    CodeForm,
    EnrolmentForm,
    LoginForm,
    MemberFilterForm,
    PasswordChangeForm,
    ProfileForm,
    StepUpForm,
    TeamForm,
)
from accounts.http import AuthenticatedHttpRequest
from accounts.middleware import mark_session_start
from accounts.models import AuthenticatorDevice, User
from accounts.second_factor import (
    backup_codes_issue,
    backup_codes_left,
    enrolment_confirm,
    enrolment_device,
    has_authenticator,
    second_factor_verify,
    throttled_until,
)
from audit.models import Action
from config.step_up import mark_step_up, require_step_up, step_up_is_fresh, step_up_url


def safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        mark_session_start(self.request.session)
        return response

    def get_success_url(self) -> str:
        # Django asks only with someone signed in: once form_valid has signed them in, or
        # when a signed-in user opens this page (redirect_authenticated_user).
        user = cast(User, self.request.user)
        target = "accounts:verify" if has_authenticator(user) else "accounts:enrol"
        return with_next(
            target, self.get_redirect_url() or resolve_url(settings.LOGIN_REDIRECT_URL)
        )


@method_decorator(second_factor_not_required, name="dispatch")
class LogoutView(auth_views.LogoutView):
    pass


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What django-axes answers once a username and address are locked out."""
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        logout(request)
    hours = int(settings.AXES_COOLOFF_TIME.total_seconds() // 3600)
    return render(request, "accounts/locked_out.html", {"hours": hours}, status=429)


def _is_locked(request: HttpRequest) -> bool:
    return AxesProxyHandler.is_locked(request, credentials={"username": request.user.username})


def _record_failure(request: HttpRequest, sender: str = __name__) -> None:
    """A wrong second-factor code counts towards the same lock-out as a wrong password."""
    user_login_failed.send(
        sender=sender, credentials={"username": request.user.username}, request=request
    )


def _complete_sign_in(
    request: AuthenticatedHttpRequest, device: Device, action=Action.SECOND_FACTOR
) -> None:
    # A new session key now: whoever knew the pre-verification key (fixation) gets nothing.
    request.session.cycle_key()
    otp_login(request, device)
    # Password and code were typed just now: that is a fresh confirmation too.
    mark_step_up(request.session)
    services.audit_account(action, target=request.user, by=request.user)
    services.sign_in_completed(user=request.user)
    AxesProxyHandler.reset_attempts(
        ip_address=client_address(request), username=request.user.username
    )


def _wrong_code_message(was_throttled: bool) -> str:
    if was_throttled:
        return _("Too many wrong codes. Wait a few seconds, then try the newest code.")
    return _("That code is not valid, or it was already used. Try the newest code.")


@second_factor_not_required
@sensitive_post_parameters("code")
@never_cache
def verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    next_url = safe_next(request)
    if request.user.is_verified():
        return redirect(next_url)
    if not has_authenticator(request.user):
        return redirect(with_next("accounts:enrol", next_url))
    # The same check takes either kind of code; the backup form only brings a keyboard
    # with letters on a phone, and words about the codes written down.
    use_backup = request.GET.get("use") == "backup"
    form = (BackupCodeForm if use_backup else CodeForm)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _is_locked(request):
            return locked_out(request)
        code = form.cleaned_data["code"]
        was_throttled = throttled_until(request.user, code) is not None
        device = second_factor_verify(user=request.user, code=code)
        if device is not None:
            _complete_sign_in(request, device)
            return redirect(next_url)
        _record_failure(request)
        form.add_error("code", _wrong_code_message(was_throttled))
    context = {
        "form": form,
        "next": next_url,
        "use_backup": use_backup,
        "backup_url": with_next("accounts:verify", next_url) + "&use=backup",
        "app_url": with_next("accounts:verify", next_url),
    }
    return render(request, "accounts/verify.html", context)


@sensitive_post_parameters("password", "code")
@never_cache
def step_up(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Password and code again: sensitive pages (config.step_up) accept it for minutes."""
    next_url = safe_next(request)
    form = StepUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if _is_locked(request):
            return locked_out(request)
        user = request.user
        device = None
        if user.check_password(form.cleaned_data["password"]):
            device = second_factor_verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            request.session.cycle_key()
            mark_step_up(request.session)
            services.audit_account(Action.STEP_UP, target=user, by=user)
            return redirect(next_url)
        _record_failure(request, sender="accounts.step_up")
        form.add_error(None, _("That password and code do not match. Try the newest code."))
    return render(
        request,
        "accounts/step_up.html",
        {"form": form, "next": next_url},
        status=400 if form.errors else 200,
    )


def _otpauth_uri(device: AuthenticatorDevice) -> str:
    """The key as an authenticator app reads it, from the QR code or from a tapped link."""
    return (
        f"otpauth://totp/{quote(settings.OTP_TOTP_ISSUER)}:{quote(device.user.username)}"
        f"?{urlencode({'secret': device.base32_secret, 'issuer': settings.OTP_TOTP_ISSUER})}"
        f"&digits={device.digits}&period={device.step}"
    )


def _qr_data_uri(uri: str) -> str:
    # Drawn here, never by an outside service: the secret must not leave the server.
    svg = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, border=2).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


@second_factor_not_required
@sensitive_post_parameters("code")
@never_cache
def enrol(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up an authenticator: first login, after a reset, or to replace one (verified)."""
    user = request.user
    next_url = safe_next(request)
    if has_authenticator(user) and not user.is_verified():
        return redirect(with_next("accounts:verify", next_url))
    if user.is_verified() and not step_up_is_fresh(request):
        # Replacing the authenticator: a stolen session must not put its own app in.
        return redirect(step_up_url(request.get_full_path()))
    device = enrolment_device(user=user)
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _is_locked(request):
            return locked_out(request)
        was_throttled = not device.verify_is_allowed()[0]
        codes = enrolment_confirm(user=user, code=form.cleaned_data["code"])
        if codes is not None:
            _complete_sign_in(
                request,
                AuthenticatorDevice.objects.get(user=user, confirmed=True),
                action=Action.ENROLLED,
            )
            return render(request, "accounts/backup_codes.html", {"codes": codes, "next": next_url})
        _record_failure(request)
        form.add_error("code", _wrong_code_message(was_throttled))
    otpauth_uri = _otpauth_uri(device)
    context = {
        "form": form,
        "next": next_url,
        "otpauth_uri": otpauth_uri,
        "qr_data_uri": _qr_data_uri(otpauth_uri),
        # Groups of four are easier to type; authenticator apps ignore the spaces. Each
        # group is kept whole on a line (the template), so no group is split on a phone.
        "secret_groups": re.findall(".{1,4}", device.base32_secret),
        "replacing": user.is_verified(),
    }
    return render(request, "accounts/enrol.html", context)


@never_cache
@sensitive_post_parameters("notification_email")
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(request.POST or None, instance=user)
    stale = not step_up_is_fresh(request)
    if request.method == "POST" and form.is_valid() and form.changes_email and stale:
        # Where copies go is where a thief would read them: kept as typed, not saved.
        form.add_error(
            "notification_email",
            _("Confirm your password and code first, then save again."),
        )
    if request.method == "POST" and form.is_valid():
        services.profile_save(form=form, by=user)
        # Said in the language just chosen: the next page is in it already.
        with translation.override(user.language or translation.get_language_from_request(request)):
            messages.success(request, _("Settings saved."))
        return redirect("accounts:profile")
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    context = {
        "authenticator": device,
        "backup_codes_left": backup_codes_left(user),
        "teams": user.teams.order_by("name"),
        "form": form,
        "step_up_url": step_up_url(reverse("accounts:profile")),
    }
    return render(request, "accounts/profile.html", context, status=400 if form.errors else 200)


@require_POST
@never_cache
@require_step_up(back="accounts:profile")
def backup_codes_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    codes = backup_codes_issue(user=request.user)
    return render(
        request, "accounts/backup_codes.html", {"codes": codes, "next": reverse("accounts:profile")}
    )


@method_decorator(sensitive_post_parameters(), name="dispatch")
@method_decorator(require_step_up, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    """Changing the password ends every other session (Django keeps only this one)."""

    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        services.password_change(
            user=self.request.user, new_password=form.cleaned_data["new_password1"]
        )
        # The session hash follows the password: this session stays, every other ends.
        update_session_auth_hash(self.request, self.request.user)
        messages.success(
            self.request, _("Password changed. Every other session has been signed out.")
        )
        return redirect(self.get_success_url())


MEMBERS_PER_PAGE = 50


def members(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not permissions.can_see_member_list(request.user):
        raise PermissionDenied
    form = MemberFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    matching = selectors.members_matching(
        request.user,
        query=filters.get("q", ""),
        role=filters.get("role", ""),
        state=filters.get("state", ""),
    )
    page = Paginator(matching, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    locked = selectors.locked_out_until()
    rows = [
        {
            "member": member,
            "locked_until": locked.get(member.username),
            "can_reset": permissions.can_reset_second_factor(request.user, member),
            "can_end_sessions": permissions.can_end_sessions(request.user, member),
            "can_contain": permissions.can_contain_account(request.user, member),
            "can_propose": member.pk != request.user.pk,
            "can_deactivate": permissions.can_deactivate(request.user, member),
            "can_unlock": permissions.can_unlock(request.user, member),
        }
        for member in page.object_list
    ]
    manage = permissions.can_manage_accounts(request.user)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "rows": rows,
        "page": page,
        "form": form,
        "query": query.urlencode(),
        "filtered": any(filters.values()),
        "can_contain": manage,
        "can_manage": manage,
    }
    return render(request, "accounts/members.html", context)


def _confirm_member_action(
    request: AuthenticatedHttpRequest, pk: int, *, action, question: str, done: str
) -> HttpResponse:
    """Destructive actions on someone else's account: GET asks, POST does it."""
    member = selectors.member_for(request.user, pk)
    if request.method == "POST":
        action(target=member, by=request.user)
        messages.success(request, done % {"username": member.username})
        return redirect("accounts:members")
    context = {"member": member, "question": question % {"username": member.username}}
    return render(request, "accounts/member_confirm.html", context)


@require_http_methods(["GET", "POST"])
@require_step_up
def member_second_factor_reset(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _confirm_member_action(
        request,
        pk,
        action=services.second_factor_reset,
        question=_(
            "Reset the second factor of %(username)s? Their authenticator and backup codes stop "
            "working, all their sessions end, and they set up a new authenticator at their "
            "next sign-in."
        ),
        done=_("%(username)s must set up a new authenticator at their next sign-in."),
    )


@require_http_methods(["GET", "POST"])
def member_sessions_end(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _confirm_member_action(
        request,
        pk,
        action=services.sessions_end_all,
        question=_("Sign %(username)s out everywhere? Every session they have open ends now."),
        done=_("%(username)s is signed out everywhere."),
    )


@require_http_methods(["GET", "POST"])
@require_step_up
def member_deactivate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _confirm_member_action(
        request,
        pk,
        action=services.member_deactivate,
        question=_(
            "Deactivate %(username)s? They cannot sign in any more and every session of "
            "theirs ends now. Giving the account back takes two people."
        ),
        done=_("%(username)s is deactivated."),
    )


@require_http_methods(["GET", "POST"])
@require_step_up
def member_unlock(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _confirm_member_action(
        request,
        pk,
        action=services.lockout_clear,
        question=_(
            "Clear the lock-out of %(username)s? Their failed sign-ins and wrong codes are "
            "forgotten and they can try again at once, from any address."
        ),
        done=_("%(username)s can sign in again."),
    )


@require_http_methods(["GET", "POST"])
@require_step_up
@never_cache
def member_password_reset(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A single-use link for the member to choose a new password, shown once here."""
    member = selectors.member_for(request.user, pk)
    if not permissions.can_issue_link(request.user, member):
        raise PermissionDenied
    if request.method == "POST":
        token = services.password_reset_issue(target=member, by=request.user)
        return link_issued(request, member, token)
    question = _(
        "Make a password-reset link for %(username)s? Their password and second factor stop "
        "working now and every session ends; the link lets them choose a new password and "
        "set up their authenticator again."
    ) % {"username": member.username}
    return render(request, "accounts/member_confirm.html", {"member": member, "question": question})


def link_issued(request: HttpRequest, member, token: str) -> HttpResponse:
    """The page that shows a new invitation or reset link, once."""
    link = request.build_absolute_uri(reverse("accounts:link", args=[token]))
    context = {"member": member, "link": link, "hours": settings.ACCOUNT_LINK_HOURS}
    return render(request, "accounts/link_issued.html", context)


LINK_SESSION_KEY = "sp_account_link"


@login_not_required
@second_factor_not_required
@never_cache
def link_open(request: HttpRequest, token: str) -> HttpResponse:
    """Keeps the token in the session and leaves its address, as Django's password reset
    does: the token must not stay in the address bar or a later page's address."""
    request.session[LINK_SESSION_KEY] = token
    return redirect("accounts:link_set")


@login_not_required
@second_factor_not_required
@sensitive_post_parameters()
@never_cache
def link_set_password(request: HttpRequest) -> HttpResponse:
    token = request.session.get(LINK_SESSION_KEY, "")
    link = services.link_for(token) if token else None
    if link is None:
        return render(request, "accounts/link_set.html", {"spent": True}, status=404)
    form = SetPasswordForm(link.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.link_use(token=token, new_password=form.cleaned_data["new_password1"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            del request.session[LINK_SESSION_KEY]
            messages.success(
                request,
                _("Password set. Sign in with it; you will set up your authenticator next."),
            )
            return redirect("accounts:login")
    context = {"form": form, "member": link.user}
    return render(request, "accounts/link_set.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def team_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not permissions.can_manage_accounts(request.user):
        raise PermissionDenied
    form = TeamForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        team = services.team_create(name=form.cleaned_data["name"], by=request.user)
        messages.success(
            request,
            _("Team %(name)s added. Propose its first coordinator under Change role or team.")
            % {"name": team.name},
        )
        return redirect("accounts:members")
    return render(
        request, "accounts/team_new.html", {"form": form}, status=400 if form.errors else 200
    )
