"""Every form of the project, fuzzed through its real view: never a 500, and a refused form
comes back with what was typed (escaped).

The forms are found by importing each app's modules and walking the subclasses of Django's
Form and ModelForm; one without a row in TARGETS, or whose constructor takes an argument the
row does not know, fails the suite, so a new form is fuzzed from its first day. Each example
runs in a transaction that is rolled back, with a client built inside the example.
"""

import importlib
import inspect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from django import forms
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth.forms import ReadOnlyPasswordHashField
from django.test import Client
from django.utils.html import escape
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.models import Team
from accounts.roles import Role
from tests.conftest import verified_client
from tests.factories import UserFactory
from tests.intake.public.conftest import PUBLIC_HOST, make_public
from tests.security.conftest import World, password_only_client, rolled_back

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("SECURITY_FUZZ_EXAMPLES", "30"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no example database: each run explores afresh
    print_blob=True,  # a failure prints how to replay it
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
TRICKY = [
    "",
    " ",
    "\x00",
    "\r\n",
    "\ufeff",
    "\u202e",
    "²",  # a digit to str.isdigit(), not to int()
    "١٢٣",
    "-1",
    "0",
    "9" * 40,
    "1e309",
    "NaN",
    "Infinity",
    "2026-02-30T25:61",
    "0000-00-00",
    "9999-12-31T23:59",
    XSS,
    "'; DROP TABLE casework_case; --",
    '" OR 1=1 --',
    "{{ 7|add:35 }}{% debug %}",
    "gAAAAA" + "B" * 120,  # shaped like an encrypted value
    "C-2026-00001",
    "../../../etc/passwd",
    "%00%0d%0a",
    "\U0001d518\U0001d52b\U0001d526 \u2713 \u1e9e \u0130",  # astral letters, odd case maps
    "+7 900 000-00-00",
    "@handle",
    "a@b.co",
]
text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=50),
    st.sampled_from(TRICKY),
    st.builds(
        lambda part, times: part * times, st.text(min_size=1, max_size=5), st.integers(1000, 30000)
    ),
)
OMIT = object()


def field_strategy(form_field: forms.Field) -> st.SearchStrategy:
    """Valid-looking values for the field, mixed with anything at all."""
    if isinstance(form_field, forms.ModelMultipleChoiceField):
        pks = [str(pk) for pk in form_field.queryset.values_list("pk", flat=True)[:10]]
        return st.lists(st.one_of(st.sampled_from(pks or ["1"]), text), max_size=4)
    if isinstance(form_field, forms.ModelChoiceField):
        pks = [str(pk) for pk in form_field.queryset.values_list("pk", flat=True)[:10]]
        return st.one_of(st.sampled_from(pks or ["1"]), text)
    if isinstance(form_field, forms.BooleanField):
        return st.one_of(st.sampled_from(["on", "", "true", "false", "0", "1"]), text)
    if isinstance(form_field, forms.ChoiceField):
        values = [
            str(value) for value, _label in form_field.choices if not isinstance(_label, list)
        ]
        return st.one_of(st.sampled_from(values or [""]), text)
    if isinstance(form_field, forms.DateTimeField):
        moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1))
        return st.one_of(moments.map(lambda value: value.strftime("%Y-%m-%dT%H:%M")), text)
    if isinstance(form_field, forms.DateField):
        return st.one_of(st.dates().map(lambda value: value.isoformat()), text)
    if isinstance(form_field, forms.IntegerField):
        return st.one_of(st.integers().map(str), text)
    if isinstance(form_field, forms.EmailField):
        return st.one_of(st.emails(), text)
    return text


ECHOED_INPUTS = {"text", "email", "date", "datetime-local", "number", "tel", "url", "search"}


def echoed(form_field: forms.Field) -> bool:
    """Does the field's widget show the typed text back (password and choices do not)?"""
    widget = form_field.widget
    return isinstance(widget, forms.Textarea) or (
        getattr(widget, "input_type", None) in ECHOED_INPUTS
        and not isinstance(widget, forms.PasswordInput)
    )


@dataclass
class Target:
    """How to fuzz one form: who posts it where, and where the page keeps it."""

    role: str
    url: Callable[[World], str]
    make: Callable[[World], forms.BaseForm]  # an unbound form, for its fields
    context: tuple[str, ...] = ("form",)
    method: str = "POST"
    fixed: Callable[[World], dict] = lambda world: {}
    init: frozenset[str] = frozenset()  # the constructor's own keyword arguments
    not_echoed: frozenset[str] = frozenset()
    # Context keys of a page that says the form was taken (one shown once, not a redirect).
    done: tuple[str, ...] = ()


def _a(world: World) -> str:
    return world.case_a.reference


def _b(world: World) -> str:
    return world.case_b.reference


def _assign_form(world: World):
    from casework.forms import AssignForm
    from casework.selectors.cases import assignable_members

    return AssignForm(members=assignable_members(world.case_b))


def _case_filter_form(world: World):
    from casework.forms import CaseFilterForm
    from casework.selectors.cases import filter_members

    return CaseFilterForm(members=filter_members(world.users["volunteer_a"]))


def _leg_form(world: World):
    from casework.forms import LegForm
    from casework.selectors.cases import assignable_members

    return LegForm(members=assignable_members(world.case_b))


def _transfer_ask_form(world: World):
    from casework.forms import TransferAskForm
    from casework.selectors.handover import transfer_targets

    return TransferAskForm(teams=transfer_targets(world.case_b))


def _transfer_decide_form(world: World):
    from casework.forms import TransferDecideForm
    from casework.selectors.handover import receiving_members

    return TransferDecideForm(members=receiving_members(world.transfer))


def _public_conversation() -> dict[str, str]:
    """A request sent through the public form (inside the example's transaction): its
    reference and passphrase, for the fields the example leaves out."""
    from intake.public.services import public_request_submit

    sent = public_request_submit(text="Help", contact="", language="en", source="192.0.2.1")
    return {"reference": sent.request.reference, "passphrase": sent.passphrase}


def _teams():
    from accounts.models import Team

    return Team.objects.order_by("pk")


def _form(dotted: str, **kwargs) -> Callable[[World], forms.BaseForm]:
    module, name = dotted.rsplit(".", 1)
    return lambda world: getattr(importlib.import_module(module), name)(**kwargs)


TARGETS: dict[str, Target] = {
    "casework.forms.CaseFilterForm": Target(
        "volunteer_a",
        lambda w: "/cases/",
        _case_filter_form,
        method="GET",
        init=frozenset({"members"}),
    ),
    "casework.forms.MoveForm": Target(
        "volunteer_a",
        lambda w: f"/cases/{_a(w)}/move/",
        _form("casework.forms.MoveForm"),
        context=("move_form",),
        init=frozenset({"targets", "warning"}),
    ),
    "casework.forms.AssignForm": Target(
        "coordinator_b",
        lambda w: f"/cases/{_b(w)}/assign/",
        _assign_form,
        context=("assign_form",),
        init=frozenset({"members"}),
    ),
    "casework.forms.TimelineForm": Target(
        "volunteer_a",
        lambda w: f"/cases/{_a(w)}/timeline/",
        _form("casework.forms.TimelineForm"),
        context=("timeline_form",),
        init=frozenset({"mentionable"}),
    ),
    "casework.forms.PersonForm": Target(
        "volunteer_a",
        lambda w: f"/cases/{_a(w)}/edit/",
        lambda w: _form("casework.forms.PersonForm", prefix="person")(w),
        context=("person_form", "details_form"),
        fixed=lambda w: {"version": w.case_a.version},
    ),
    "casework.forms.CaseDetailsForm": Target(
        "volunteer_a",
        lambda w: f"/cases/{_a(w)}/edit/",
        _form("casework.forms.CaseDetailsForm", prefix="case"),
        context=("person_form", "details_form"),
        fixed=lambda w: {"version": w.case_a.version, "person-preferred_language": "ru"},
    ),
    "casework.forms.BreakGlassForm": Target(
        "coordinator_b", lambda w: "/cases/break-glass/", _form("casework.forms.BreakGlassForm")
    ),
    "casework.forms.FollowUpForm": Target(
        "volunteer_a",
        lambda w: f"/cases/{_a(w)}/follow-up/",
        _form("casework.forms.FollowUpForm"),
        context=("follow_up_form",),
    ),
    # "until" is not shown again after an error: see test_a_refused_snooze_keeps_its_time.
    "casework.forms.SnoozeForm": Target(
        "volunteer_a",
        lambda w: f"/cases/{_a(w)}/reminders/{w.reminder_a.pk}/",
        _form("casework.forms.SnoozeForm"),
        context=("reminder_form",),
    ),
    # Hidden or implied fields: a redirect with a message, or the case page of a conflict.
    "casework.forms.VersionForm": Target(
        "volunteer_a",
        lambda w: f"/cases/{_a(w)}/risk-reviewed/",
        _form("casework.forms.VersionForm"),
        context=("move_form",),
    ),
    "casework.forms.UndoForm": Target(
        "volunteer_a",
        lambda w: f"/cases/{_a(w)}/timeline/undo/",
        _form("casework.forms.UndoForm"),
        context=(),
    ),
    "casework.forms.NotificationChoice": Target(
        "volunteer_a",
        lambda w: "/inbox/read/",
        _form("casework.forms.NotificationChoice"),
        context=(),
    ),
    "casework.forms.InboxGroupChoice": Target(
        "volunteer_a",
        lambda w: "/inbox/read/",
        _form("casework.forms.InboxGroupChoice"),
        context=(),
    ),
    "casework.forms.LegalHoldForm": Target(
        "coordinator_b",
        lambda w: f"/cases/{_b(w)}/legal-hold/",
        _form("casework.forms.LegalHoldForm"),
    ),
    "casework.forms.ErasureForm": Target(
        "coordinator_b", lambda w: f"/cases/{_b(w)}/erase/", _form("casework.forms.ErasureForm")
    ),
    "casework.forms.MergeForm": Target(
        "coordinator_b", lambda w: f"/cases/{_b(w)}/merge/", _form("casework.forms.MergeForm")
    ),
    "casework.forms.ContainForm": Target(
        "admin",
        lambda w: f"/members/{w.users['volunteer_a'].pk}/contain/",
        _form("casework.forms.ContainForm"),
    ),
    "casework.forms.BreakGlassReviewForm": Target(
        "admin",
        lambda w: f"/break-glass/reviews/{w.break_glass.pk}/",
        _form("casework.forms.BreakGlassReviewForm"),
    ),
    "casework.forms.LegForm": Target(
        "coordinator_b",
        lambda w: f"/cases/{_b(w)}/legs/new/",
        _leg_form,
        init=frozenset({"members"}),
        fixed=lambda w: {"version": w.case_b.version},
    ),
    "casework.forms.ProvocationForm": Target(
        "coordinator_b",
        lambda w: f"/cases/{_b(w)}/provocation/",
        _form("casework.forms.ProvocationForm"),
    ),
    "casework.forms.ApprovalAskForm": Target(
        "volunteer_a",
        lambda w: f"/cases/{_a(w)}/approvals/",
        _form("casework.forms.ApprovalAskForm"),
        context=("ask_form",),
        init=frozenset({"targets"}),
        fixed=lambda w: {"version": w.case_a.version},
    ),
    "casework.forms.ApprovalDecisionForm": Target(
        "coordinator_b",
        lambda w: f"/cases/{_b(w)}/approvals/{w.approval_b.pk}/",
        _form("casework.forms.ApprovalDecisionForm"),
        context=("decision_form",),
        init=frozenset({"warning"}),
    ),
    "casework.forms.HandOverForm": Target(
        "volunteer_a",
        lambda w: f"/cases/{_a(w)}/hand-over/",
        _form("casework.forms.HandOverForm"),
        fixed=lambda w: {"version": w.case_a.version},
    ),
    "casework.forms.TransferAskForm": Target(
        "coordinator_b",
        lambda w: f"/cases/{_b(w)}/transfer/",
        _transfer_ask_form,
        init=frozenset({"teams"}),
        fixed=lambda w: {"version": w.case_b.version},
    ),
    "casework.forms.TransferDecideForm": Target(
        "coordinator_b",
        lambda w: f"/transfers/{w.transfer.pk}/",
        _transfer_decide_form,
        init=frozenset({"members"}),
        fixed=lambda w: {"version": w.case_a.version},
    ),
    # Posted by a member of two teams, so the team choice is fuzzed too.
    "intake.forms.IntakeForm": Target(
        "two_teams",
        lambda w: "/intake/new/",
        lambda w: _form("intake.forms.IntakeForm", teams=Team.objects.all())(w),
        init=frozenset({"teams"}),
    ),
    # The case reference is a hidden field of each listed duplicate, never typed.
    "intake.forms.TriageForm": Target(
        "volunteer_a",
        lambda w: f"/intake/{w.intake_a.reference}/",
        _form("intake.forms.TriageForm"),
        not_echoed=frozenset({"case_reference"}),
    ),
    # A reply to the person from the request's page; "back" is a hidden field, never typed.
    "intake.conversation_forms.ReplyForm": Target(
        "volunteer_a",
        lambda w: f"/intake/{w.intake_a.reference}/reply/",
        _form("intake.conversation_forms.ReplyForm"),
        not_echoed=frozenset({"back"}),
    ),
    # The queue's possible floods, rejected together; the requests are ticked, never typed.
    "intake.conversation_forms.FloodRejectForm": Target(
        "volunteer_a",
        lambda w: "/intake/flood/",
        lambda w: _form(
            "intake.conversation_forms.FloodRejectForm", references=[w.intake_a.reference]
        )(w),
        init=frozenset({"references"}),
    ),
    # The search box: what was typed is read, never kept; a refused query is shown again.
    "dashboard.forms.SearchForm": Target(
        "coordinator_b", lambda w: "/search/", _form("dashboard.forms.SearchForm")
    ),
    "destinations.forms.DestinationRiskForm": Target(
        "coordinator_b",
        lambda w: "/destinations/new/",
        _form("destinations.forms.DestinationRiskForm", adding=True),
        init=frozenset({"adding"}),
    ),
    "accounts.forms.LoginForm": Target(
        "anonymous", lambda w: "/account/login/", _form("accounts.forms.LoginForm")
    ),
    "accounts.forms.CodeForm": Target(
        "password_only", lambda w: "/account/verify/", _form("accounts.forms.CodeForm")
    ),
    "accounts.forms.BackupCodeForm": Target(
        "password_only",
        lambda w: "/account/verify/?use=backup",
        _form("accounts.forms.BackupCodeForm"),
    ),
    "accounts.forms.MemberFilterForm": Target(
        "admin",
        lambda w: "/account/members/",
        _form("accounts.forms.MemberFilterForm"),
        method="GET",
    ),
    "accounts.forms.EnrolmentForm": Target(
        "newcomer", lambda w: "/account/enrol/", _form("accounts.forms.EnrolmentForm")
    ),
    "accounts.forms.PasswordChangeForm": Target(
        "volunteer_a",
        lambda w: "/account/password/",
        lambda w: _form("accounts.forms.PasswordChangeForm", user=w.users["volunteer_a"])(w),
    ),
    "accounts.forms.ProfileForm": Target(
        "volunteer_a", lambda w: "/account/", _form("accounts.forms.ProfileForm")
    ),
    "audit.forms.EventFilterForm": Target(
        "admin", lambda w: "/audit/", _form("audit.forms.EventFilterForm"), method="GET"
    ),
    "accounts.forms.TeamForm": Target(
        "admin", lambda w: "/account/teams/new/", _form("accounts.forms.TeamForm")
    ),
    "accounts.forms.StepUpForm": Target(
        "volunteer_a", lambda w: "/account/confirm/", _form("accounts.forms.StepUpForm")
    ),
    "accounts.forms.AccessChangeForm": Target(
        "admin",
        lambda w: f"/members/{w.users['volunteer_a'].pk}/change/",
        lambda w: _form("accounts.forms.AccessChangeForm", teams=_teams())(w),
        init=frozenset({"teams"}),
    ),
    "accounts.forms.InviteForm": Target(
        "admin",
        lambda w: "/members/invite/",
        lambda w: _form("accounts.forms.InviteForm", teams=_teams())(w),
        init=frozenset({"teams"}),
        done=("link",),  # the invitation link, shown once
    ),
    # The file field gets text, not a file: a form without a file still keeps the rest.
    "documents.forms.DocumentForm": Target(
        "volunteer_a",
        lambda w: f"/cases/{_a(w)}/documents/",
        _form("documents.forms.DocumentForm"),
    ),
    # The public form, on its own host (PUBLIC_HOSTS; the "public" role's client).
    "intake.public.forms.RequestForm": Target(
        "public",
        lambda w: "/",
        _form("intake.public.forms.RequestForm"),
        done=("passphrase",),  # the reference and passphrase, shown once
    ),
    "intake.public.forms.ComeBackForm": Target(
        "public",
        lambda w: "/back/",
        _form("intake.public.forms.ComeBackForm"),
        fixed=lambda w: _public_conversation(),
    ),
    # The reference and passphrase ride in hidden fields of the conversation page.
    "intake.public.forms.WriteForm": Target(
        "public",
        lambda w: "/back/write/",
        _form("intake.public.forms.WriteForm"),
        fixed=lambda w: _public_conversation(),
    ),
}
# Forms that are only ever used through their subclasses, or never rendered as a form.
ABSTRACT = {
    "casework.forms.VersionedForm": "the base of MoveForm and AssignForm",
    "accounts.forms.RefuseForm": "a reason box written out on the list of changes",
}
# Views of ours that post Django's own forms.
EXTRA_TARGETS: dict[str, Target] = {
    "destination edit": Target(
        "coordinator_b",
        lambda w: f"/destinations/{w.destination.country}/edit/",
        lambda w: _form("destinations.forms.DestinationRiskForm", instance=w.destination)(w),
        fixed=lambda w: {"version": w.destination.version},
    ),
}


def project_app_configs():
    base = Path(django_settings.BASE_DIR)
    return [
        config
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(base) and ".venv" not in Path(config.path).parts
    ]


# Where forms live: forms.py (or a forms/ package), admin.py, and views (a form kept
# beside its view is found too).
FORM_HOMES = re.compile(r"^(forms|admin|\w*views?|\w*forms?)\.py$")


def project_forms() -> dict[str, type]:
    """Every Form and ModelForm class defined in the project, once its modules are loaded."""
    roots = {config.name for config in project_app_configs()} | {"config"}
    for root in roots:
        folder = Path(django_settings.BASE_DIR) / root
        for path in folder.rglob("*.py"):
            home = FORM_HOMES.search(path.name) or "forms" in path.parts
            if "migrations" in path.parts or not home:
                continue
            module = ".".join(path.relative_to(django_settings.BASE_DIR).with_suffix("").parts)
            importlib.import_module(module.removesuffix(".__init__"))
    found, stack = {}, [forms.Form, forms.ModelForm]
    while stack:
        for subclass in stack.pop().__subclasses__():
            stack.append(subclass)
            if subclass.__module__.split(".")[0] in roots:
                found[f"{subclass.__module__}.{subclass.__qualname__}"] = subclass
    return found


BASE_PARAMETERS = set(inspect.signature(forms.BaseForm.__init__).parameters) | set(
    inspect.signature(forms.BaseModelForm.__init__).parameters
)


def own_parameters(form: type) -> set[str]:
    return {
        name
        for name, parameter in inspect.signature(form.__init__).parameters.items()
        if name not in BASE_PARAMETERS
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    }


def test_every_form_of_the_project_is_fuzzed():
    found = project_forms()
    assert {"casework.forms.MoveForm", "accounts.forms.LoginForm"} <= set(found)
    missing = sorted(set(found) - set(TARGETS) - set(ABSTRACT))
    assert not missing, (
        f"forms without a row in TARGETS (tests/security/test_fuzz_forms.py): {missing}. "
        "Say which role posts each, to which URL, and under which name the page keeps it."
    )
    stale = sorted(set(TARGETS) - set(found))
    assert not stale, f"TARGETS rows for forms that no longer exist: {stale}"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_the_form_constructor_is_the_one_the_fuzzer_knows(name):
    form = project_forms()[name]
    assert own_parameters(form) == set(TARGETS[name].init), (
        f"{name}.__init__ takes {sorted(own_parameters(form))}: teach TARGETS[{name!r}] how "
        "the view builds it."
    )


# Running one target ------------------------------------------------------------------------


def client_for(world: World, role: str) -> Client:
    """A fresh client inside the example: nothing of one example's session leaks into
    the next."""
    if role == "anonymous":
        return Client()
    if role == "public":
        return Client(HTTP_HOST=PUBLIC_HOST)
    if role == "password_only":
        return password_only_client(world.users["password_only"])
    if role == "newcomer":
        return password_only_client(world.users["newcomer"])
    return verified_client(world.users[role])


def form_data(world: World, target: Target) -> st.SearchStrategy:
    form = target.make(world)
    fields = {
        form.add_prefix(name): st.one_of(st.just(OMIT), field_strategy(form_field))
        for name, form_field in form.fields.items()
        if not isinstance(form_field, ReadOnlyPasswordHashField) and not form_field.disabled
    }
    return st.fixed_dictionaries(fields).map(
        lambda values: {key: value for key, value in values.items() if value is not OMIT}
    )


def forms_in(response, keys: tuple[str, ...]) -> list[forms.BaseForm]:
    found = []
    for key in keys:
        value = response.context.get(key) if response.context is not None else None
        value = getattr(value, "form", value)  # the admin wraps its form
        if isinstance(value, forms.BaseForm):
            found.append(value)
    return found


def check(response, target: Target, data: dict) -> None:
    assert response.status_code < 500, response.status_code
    if response.status_code in (301, 302, 303) or response.status_code in (403, 404, 405):
        return
    if response.context is not None and any(key in response.context for key in target.done):
        return
    html = response.content.decode()
    kept = forms_in(response, target.context)
    assert kept, f"the page keeps none of {target.context} in its context"
    for form in kept:
        if not (form.is_bound and form.errors):
            continue
        for name, form_field in form.fields.items():
            typed = data.get(form.add_prefix(name))
            if not isinstance(typed, str) or not typed.strip():
                continue
            if name in target.not_echoed or not echoed(form_field):
                continue
            assert escape(typed) in html, f"{name!r}: what was typed is not on the page again"


def fuzz(world: World, target: Target) -> None:
    strategy = form_data(world, target)
    url = target.url(world)

    @FUZZ
    @given(data=strategy)
    @example(data={})
    def one(data):
        with rolled_back():
            client = client_for(world, target.role)
            data = {**target.fixed(world), **data}
            response = client.get(url, data) if target.method == "GET" else client.post(url, data)
            check(response, target, data)

    one()


@pytest.fixture(autouse=True)
def _public_host(settings):
    """The public form's host name answers the "public" role (tests/intake/public)."""
    make_public(settings)


@pytest.fixture
def fuzz_world(world: World) -> World:
    world.users["two_teams"] = UserFactory(
        username="two_teams", role=Role.VOLUNTEER, teams=[world.team_a, world.team_b]
    )
    world.users["newcomer"] = UserFactory(username="newcomer", role=Role.VOLUNTEER)
    return world


@pytest.mark.parametrize("name", sorted(TARGETS) + sorted(EXTRA_TARGETS))
def test_a_form_never_answers_500_and_keeps_what_was_typed(fuzz_world: World, name):
    fuzz(fuzz_world, TARGETS.get(name) or EXTRA_TARGETS[name])


# Parameters the views read by hand ---------------------------------------------------------


@dataclass
class Parameter:
    source: str  # the file that reads it
    name: str
    role: str
    method: str
    url: Callable[[World], str]
    fixed: Callable[[World], dict] = field(default=lambda world: {})


HAND_READ = {
    "audit events ?before": Parameter(
        "audit/views.py", "before", "admin", "GET", lambda w: "/audit/"
    ),
    "inbox ?page": Parameter(
        "casework/views/reminders.py", "page", "volunteer_a", "GET", lambda w: "/inbox/"
    ),
    "inbox read group": Parameter(
        "casework/views/reminders.py", "group", "volunteer_a", "POST", lambda w: "/inbox/read/"
    ),
    "case list ?page": Parameter(
        "casework/views/cases.py", "page", "volunteer_a", "GET", lambda w: "/cases/"
    ),
    "sign-in ?next": Parameter(
        "accounts/views.py", "next", "anonymous", "GET", lambda w: "/account/login/"
    ),
    "verify next": Parameter(
        "accounts/views.py",
        "next",
        "password_only",
        "POST",
        lambda w: "/account/verify/",
        lambda w: {"code": "1"},
    ),
    "members ?page": Parameter(
        "accounts/views.py", "page", "admin", "GET", lambda w: "/account/members/"
    ),
    "verify ?use": Parameter(
        "accounts/views.py",
        "use",
        "password_only",
        "GET",
        lambda w: "/account/verify/",
    ),
    "admin login ?next": Parameter(
        "accounts/admin_site.py", "next", "anonymous", "GET", lambda w: "/admin/login/"
    ),
    "public form ?lang": Parameter(
        "intake/public/language.py", "lang", "public", "GET", lambda w: "/"
    ),
    "access change decision": Parameter(
        "casework/views/access.py",
        "decision",
        "admin",
        "POST",
        lambda w: f"/access-changes/{w.access_change.pk}/decide/",
    ),
}
# Found by this fuzz (each was a 500), fixed since; kept with what was found.
CASEWORK_BUGS = {
    "case history ?before": (
        Parameter(
            "casework/views/cases.py",
            "before",
            "coordinator_b",
            "GET",
            lambda w: f"/cases/{_b(w)}/history/",
        ),
        "casework/views/cases.py case_history: int(before) after str.isdigit(); '²' is a digit "
        "to isdigit() and a ValueError to int(): 500",
    ),
    "inbox read id": (
        Parameter(
            "casework/views/reminders.py", "id", "volunteer_a", "POST", lambda w: "/inbox/read/"
        ),
        "casework/views/reminders.py inbox_read: int(id) after str.isdigit(): '²' gives a 500",
    ),
    "risk reviewed version": (
        Parameter(
            "casework/views/cases.py",
            "version",
            "volunteer_a",
            "POST",
            lambda w: f"/cases/{_a(w)}/risk-reviewed/",
        ),
        "casework/views/cases.py case_risk_reviewed: int(request.POST['version']) unguarded: any "
        "non-number gives a 500",
    ),
    "case edit version": (
        Parameter(
            "casework/views/cases.py",
            "version",
            "volunteer_a",
            "POST",
            lambda w: f"/cases/{_a(w)}/edit/",
        ),
        "casework/views/cases.py case_edit: int(request.POST['version']) unguarded: any non-number "
        "gives a 500",
    ),
}
PARAMETERS = [pytest.param(HAND_READ[name], id=name) for name in HAND_READ] + [
    pytest.param(parameter, id=name) for name, (parameter, _found) in CASEWORK_BUGS.items()
]


@pytest.mark.parametrize("parameter", PARAMETERS)
def test_a_parameter_read_by_hand_never_answers_500(world: World, parameter: Parameter):
    url = parameter.url(world)

    @FUZZ
    @given(value=text)
    @example(value="²")
    def one(value):
        with rolled_back():
            client = client_for(world, parameter.role)
            data = {**parameter.fixed(world), parameter.name: value}
            if parameter.method == "GET":
                response = client.get(url, data)
            else:
                response = client.post(url, data)
            assert response.status_code < 500

    one()


HAND_READING = re.compile(r"request\.(?:GET|POST)(?:\.get\(|\[)\s*[\"'](\w+)[\"']")


def test_every_parameter_read_by_hand_is_fuzzed():
    """A view that reads request.GET or request.POST itself, not through a form, is listed
    above; a new read fails here until it is."""
    base = Path(django_settings.BASE_DIR)
    covered = {(p.source, p.name) for p in HAND_READ.values()}
    covered |= {(p.source, p.name) for p, _why in CASEWORK_BUGS.values()}
    found = set()
    for app in (*{c.name for c in project_app_configs()}, "config"):
        for path in (base / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for name in HAND_READING.findall(path.read_text()):
                found.add((str(path.relative_to(base)), name))
    assert {"before", "page", "next"} <= {name for _source, name in found}
    assert found <= covered, f"read by hand and not fuzzed: {sorted(found - covered)}"


def test_a_refused_snooze_keeps_the_time_typed(world: World):
    url = f"/cases/{world.case_a.reference}/reminders/{world.reminder_a.pk}/"
    typed = "2031-02-03T04:05"
    response = world.clients["volunteer_a"].post(url, {"action": "snooze", "until": typed})
    assert response.status_code == 400
    assert f'value="{typed}"' in response.content.decode()


def test_an_overlong_username_is_refused_by_the_form_not_by_the_database(world: World):
    """Found by the fuzz on PostgreSQL: the lock-out table holds 255 characters."""
    from axes.models import AccessAttempt

    attempts = AccessAttempt.objects.count()
    response = Client().post("/account/login/", {"username": "a" * 300, "password": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert AccessAttempt.objects.count() == attempts
