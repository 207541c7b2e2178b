"""The public form's pages, served on PUBLIC_HOSTS only (config/hosts.py).

Every view here is open to anyone (login_not_required) and exempt from CSRF: nothing on a
public host rides on a cookie (none is read or set there), so a forged post from another
site could do nothing the forger cannot do by posting the form themselves; writing to a
conversation needs its passphrase, which is in the post, not in the browser.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters

from config.hosts import public_source
from intake.models import Direction
from intake.public import services
from intake.public.forms import ComeBackForm, RequestForm, WriteForm
from intake.public.language import public_language
from intake.public.services import Outcome

REFUSALS = {
    # The same words for an unknown reference and a wrong passphrase: probing learns nothing.
    Outcome.WRONG: (
        400,
        _("The reference or the passphrase is not right. Check both and try again."),
    ),
    Outcome.LOCKED: (
        429,
        _(
            "Too many wrong tries for this reference or from this connection. Wait a quarter "
            "of an hour, then try again."
        ),
    ),
    Outcome.DELETED: (
        410,
        _("This conversation has been deleted. To ask for help again, send a new request."),
    ),
}


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of the public form: open to all, no CSRF cookie, in the visitor's language."""

    @wraps(view)
    def page(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        language = public_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        return view(request, *args, **kwargs)

    return login_not_required(csrf_exempt(page))


def _not_allowed(request: HttpRequest, allowed: list[str]) -> HttpResponse:
    response = render(request, "public/not_allowed.html", status=405)
    response["Allow"] = ", ".join(allowed)
    return response


@public_page
@sensitive_post_parameters("contact", "message", "once")
def request_form(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD", "POST"):
        return _not_allowed(request, ["GET", "POST"])
    form = RequestForm(request.POST if request.method == "POST" else None)
    if not form.is_valid():
        return render(
            request, "public/request_form.html", {"form": form}, status=400 if form.errors else 200
        )
    submitted = services.public_request_submit(
        text=form.cleaned_data["message"],
        contact=form.cleaned_data["contact"],
        language=request.LANGUAGE_CODE,
        source=public_source(request),
        token=form.cleaned_data["once"],
    )
    if submitted is None:
        # This page was sent before (a reload): nothing opened, nothing shown again.
        return render(request, "public/already_sent.html")
    context = {"reference": submitted.request.reference, "passphrase": submitted.passphrase}
    return render(request, "public/submitted.html", context)


@public_page
@sensitive_post_parameters("passphrase")
def come_back(request: HttpRequest) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        return render(request, "public/come_back.html", {"form": ComeBackForm()})
    if request.method != "POST":
        return _not_allowed(request, ["GET", "POST"])
    form = ComeBackForm(request.POST)
    return _open(request, form, lambda intake: _conversation(request, intake, form))


@public_page
@sensitive_post_parameters("passphrase", "text")
def write_again(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _not_allowed(request, ["POST"])
    form = WriteForm(request.POST)

    def write(intake) -> HttpResponse:
        if "text" in form.errors:
            return _conversation(request, intake, form, status=400)
        services.conversation_write(
            request=intake, text=form.cleaned_data["text"], source=public_source(request)
        )
        return _conversation(request, intake, form, written=True)

    return _open(request, form, write)


def _open(request: HttpRequest, form: ComeBackForm, then) -> HttpResponse:
    """Checks the reference and passphrase of a come-back or write-again form, and goes on
    with the request they open; else the come-back page again, what was typed kept."""
    if "reference" in form.errors or "passphrase" in form.errors or not form.is_bound:
        return render(request, "public/come_back.html", {"form": form}, status=400)
    opened = services.conversation_open(
        reference=form.cleaned_data["reference"],
        passphrase=form.cleaned_data["passphrase"],
        source=public_source(request),
    )
    if opened.outcome is not Outcome.OPEN:
        status, message = REFUSALS[opened.outcome]
        form.add_error(None, message)
        return render(request, "public/come_back.html", {"form": form}, status=status)
    return then(opened.request)


def _conversation(request, intake, form, *, status: int = 200, written: bool = False):
    """The conversation, with a box to write again. `form` opened it: its reference and
    passphrase ride along in the page's hidden fields (there is no session to keep them)."""
    passphrase = form.cleaned_data["passphrase"]
    if written or not isinstance(form, WriteForm):
        form = WriteForm()
    shown = services.conversation_shown(intake)
    services.conversation_read(request=intake, shown=shown)
    context = {
        "reference": intake.reference,
        "passphrase": passphrase,
        "shown": shown,
        "replied": any(message.direction == Direction.OUT for message in shown),
        "form": form,
        "written": written,
    }
    return render(request, "public/conversation.html", context, status=status)


# Error pages of the public host: its own frame, no staff navigation, no staff link.


def _error(request: HttpRequest, status: int, title, message) -> HttpResponse:
    context = {"title": title, "message": message}
    return render(request, "public/error.html", context, status=status)


@public_page
def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 404, _("Not found"), _("There is nothing at this address."))


@public_page
def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(
        request,
        400,
        _("This could not be read"),
        _("What was sent is too long or malformed. Go back, shorten it and send it again."),
    )


@public_page
def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 403, _("Not allowed"), _("This cannot be done here."))


def server_error(request: HttpRequest) -> HttpResponse:
    """Stands alone: no database, no context processor."""
    return HttpResponse(loader.get_template("public/500.html").render(), status=500)
