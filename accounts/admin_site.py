from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class AdminSite(OTPAdminSite):
    """django-otp's admin site (staff need a verified second factor) with one login path.

    The admin's own login form would be a second door with its own rules; it sends people
    to ours, which has the lock-out and throttling.
    """

    def __init__(self, name: str = "admin"):
        super().__init__(name=name)

    site_header = _("Safe Passage")
    site_title = _("Safe Passage")
    index_title = _("Administration")

    def login(self, request, extra_context=None):
        if request.user.is_authenticated and request.user.is_verified():
            # Signed in already: our sign-in page would send them straight back here, and
            # a non-staff member round and round for ever.
            if not self.has_permission(request):
                raise PermissionDenied
            return redirect("admin:index")
        target = request.GET.get("next") or reverse("admin:index")
        return redirect_to_login(target, reverse("accounts:login"))
