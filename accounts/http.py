"""The request a signed-in page receives, as type checkers should see it."""

from typing import TYPE_CHECKING

from django.http import HttpRequest

from accounts.models import User

if TYPE_CHECKING:
    from django_otp.models import Device

    class RequestUser(User):
        """`request.user` once django-otp's OTPMiddleware has run: it sets these two on
        the request's user only, so a User read from the database has neither."""

        otp_device: Device | None

        def is_verified(self) -> bool: ...

else:
    RequestUser = User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of every view not marked `login_not_required`.

    Only an annotation (Django still passes its own request class): Django's
    LoginRequiredMiddleware sends anonymous visitors to sign in before such a view runs,
    and accounts.middleware.SecondFactorRequiredMiddleware sends the unverified to verify
    or enrol, so `request.user` is always a signed-in User, and a verified one except on
    the views marked `second_factor_not_required` (verify, enrol, log out).
    """

    user: RequestUser
