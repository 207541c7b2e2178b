"""Every field of every form of the project, blank, refused and prefilled, comes out of
templates/django/forms/field.html (the field template of settings.FORM_RENDERER) with its
label, its help text and errors tied to it for a screen reader, and markup escaped."""

from html.parser import HTMLParser

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from accounts import forms as account_forms
from accounts.models import Team, User
from audit.forms import EventFilterForm
from casework import forms as case_forms
from casework.models import Stage
from dashboard.forms import SearchForm
from destinations.forms import DestinationRiskForm
from documents.forms import DocumentForm
from intake.conversation_forms import FloodRejectForm, ReplyForm
from intake.forms import IntakeForm, TriageForm
from intake.public import forms as public_forms
from tests.factories import TeamFactory, UserFactory
from tests.security.test_fuzz_forms import ABSTRACT, project_forms

XSS = "<script>alert(1)</script>\"'&"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;"


class Parts(HTMLParser):
    """The tags of one field group, with their attributes, and the text of its legend."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.legend = ""
        self._in_legend = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        self._in_legend = tag == "legend"

    def handle_endtag(self, tag):
        self._in_legend = False

    def handle_data(self, data):
        if self._in_legend:
            self.legend += data

    def find(self, tag: str, **wanted) -> list[dict[str, str]]:
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and all(attrs.get(key) == value for key, value in wanted.items())
        ]


def parts(field: forms.BoundField) -> Parts:
    parser = Parts()
    parser.feed(field.as_field_group())
    return parser


def assert_a_person_can_use(field: forms.BoundField, *why) -> None:
    """Labelled; help text and errors shown and tied to the control (or the group of them)
    by aria-describedby; a refused control marked invalid; a required one required."""
    why = (*why, field.name)
    found = parts(field)
    wrapper, wrapper_attrs = found.tags[0]
    if field.is_hidden:
        assert wrapper_attrs["class"].endswith("hidden-field"), why
        return
    controls = [
        attrs
        for tag, attrs in found.tags
        if tag in {"input", "select", "textarea"} and attrs.get("type") != "hidden"
    ]
    assert controls, why
    if field.use_fieldset:
        assert wrapper == "fieldset", why
        assert found.legend == str(field.label), why
        described = wrapper_attrs.get("aria-describedby", "").split()
    else:
        (control,) = controls
        assert found.find("label", **{"for": control["id"]}), why
        described = control.get("aria-describedby", "").split()
        assert ("aria-invalid" in control) == bool(field.errors), why
        # A select whose first choice is not empty has nothing to require (HTML's rule).
        required = field.field.required and field.field.widget.use_required_attribute(field.initial)
        assert ("required" in control) == required, why
    if field.help_text:
        assert found.find("p", id=f"{field.auto_id}_helptext"), why
        assert f"{field.auto_id}_helptext" in described, why
    if field.errors:
        assert "field-error" in wrapper_attrs["class"], why
        assert found.find("div", id=f"{field.auto_id}_error"), why
        assert len(found.find("p", role="alert")) == len(field.errors), why
        assert f"{field.auto_id}_error" in described, why


def members():
    return User.objects.order_by("pk")


# Every form of the project, by the name tests/security/test_fuzz_forms.py finds it under:
# how to build it, given the data (None: unbound) and the initial values.
FORMS = {
    "casework.forms.CaseFilterForm": lambda **kw: case_forms.CaseFilterForm(**kw),
    "casework.forms.MoveForm": lambda **kw: case_forms.MoveForm(
        targets=[Stage.PLANNING, Stage.ON_HOLD], warning="wanted", **kw
    ),
    "casework.forms.AssignForm": lambda **kw: case_forms.AssignForm(members=members(), **kw),
    "casework.forms.TimelineForm": lambda **kw: case_forms.TimelineForm(
        mentionable=["coordinator"], **kw
    ),
    "casework.forms.PersonForm": lambda **kw: case_forms.PersonForm(prefix="person", **kw),
    "casework.forms.CaseDetailsForm": lambda **kw: case_forms.CaseDetailsForm(prefix="case", **kw),
    "casework.forms.BreakGlassForm": lambda **kw: case_forms.BreakGlassForm(**kw),
    "casework.forms.InboxGroupChoice": lambda **kw: case_forms.InboxGroupChoice(**kw),
    "casework.forms.FollowUpForm": lambda **kw: case_forms.FollowUpForm(**kw),
    "casework.forms.SnoozeForm": lambda **kw: case_forms.SnoozeForm(**kw),
    "casework.forms.VersionForm": lambda **kw: case_forms.VersionForm(**kw),
    "casework.forms.UndoForm": lambda **kw: case_forms.UndoForm(**kw),
    "casework.forms.NotificationChoice": lambda **kw: case_forms.NotificationChoice(**kw),
    "casework.forms.LegalHoldForm": lambda **kw: case_forms.LegalHoldForm(**kw),
    "casework.forms.ErasureForm": lambda **kw: case_forms.ErasureForm(**kw),
    "casework.forms.MergeForm": lambda **kw: case_forms.MergeForm(**kw),
    "casework.forms.ContainForm": lambda **kw: case_forms.ContainForm(**kw),
    "casework.forms.BreakGlassReviewForm": lambda **kw: case_forms.BreakGlassReviewForm(**kw),
    "casework.forms.LegForm": lambda **kw: case_forms.LegForm(members=members(), **kw),
    "casework.forms.ProvocationForm": lambda **kw: case_forms.ProvocationForm(**kw),
    "casework.forms.ApprovalAskForm": lambda **kw: case_forms.ApprovalAskForm(
        targets=[Stage.IN_TRANSIT, Stage.CLOSED], **kw
    ),
    "casework.forms.ApprovalDecisionForm": lambda **kw: case_forms.ApprovalDecisionForm(
        warning="wanted", **kw
    ),
    "casework.forms.HandOverForm": lambda **kw: case_forms.HandOverForm(**kw),
    "casework.forms.TransferAskForm": lambda **kw: case_forms.TransferAskForm(
        teams=Team.objects.order_by("pk"), **kw
    ),
    "casework.forms.TransferDecideForm": lambda **kw: case_forms.TransferDecideForm(
        members=members(), **kw
    ),
    "intake.forms.IntakeForm": lambda **kw: IntakeForm(teams=Team.objects.order_by("pk"), **kw),
    "intake.forms.TriageForm": lambda **kw: TriageForm(**kw),
    "intake.conversation_forms.ReplyForm": lambda **kw: ReplyForm(**kw),
    "intake.conversation_forms.FloodRejectForm": lambda **kw: FloodRejectForm(
        references=["R-2026-00001", "R-2026-00002"], **kw
    ),
    "dashboard.forms.SearchForm": lambda **kw: SearchForm(**kw),
    "destinations.forms.DestinationRiskForm": lambda **kw: DestinationRiskForm(adding=True, **kw),
    "accounts.forms.LoginForm": lambda **kw: account_forms.LoginForm(
        RequestFactory().post("/account/login/"), **kw
    ),
    "accounts.forms.CodeForm": lambda **kw: account_forms.CodeForm(**kw),
    "accounts.forms.EnrolmentForm": lambda **kw: account_forms.EnrolmentForm(**kw),
    "accounts.forms.BackupCodeForm": lambda **kw: account_forms.BackupCodeForm(**kw),
    "accounts.forms.MemberFilterForm": lambda **kw: account_forms.MemberFilterForm(**kw),
    "accounts.forms.PasswordChangeForm": lambda **kw: account_forms.PasswordChangeForm(
        User(username="someone"), **kw
    ),
    "accounts.forms.ProfileForm": lambda **kw: account_forms.ProfileForm(**kw),
    "audit.forms.EventFilterForm": lambda **kw: EventFilterForm(**kw),
    "accounts.forms.StepUpForm": lambda **kw: account_forms.StepUpForm(**kw),
    "accounts.forms.AccessChangeForm": lambda **kw: account_forms.AccessChangeForm(
        teams=Team.objects.order_by("pk"), **kw
    ),
    "accounts.forms.InviteForm": lambda **kw: account_forms.InviteForm(
        teams=Team.objects.order_by("pk"), **kw
    ),
    "accounts.forms.RefuseForm": lambda **kw: account_forms.RefuseForm(**kw),
    "accounts.forms.TeamForm": lambda **kw: account_forms.TeamForm(**kw),
    "documents.forms.DocumentForm": lambda **kw: DocumentForm(**kw),
    "intake.public.forms.RequestForm": lambda **kw: public_forms.RequestForm(**kw),
    "intake.public.forms.ComeBackForm": lambda **kw: public_forms.ComeBackForm(**kw),
    "intake.public.forms.WriteForm": lambda **kw: public_forms.WriteForm(**kw),
}
# The same forms in their other shapes.
MORE_FORMS = {
    "move form without the warning": lambda **kw: case_forms.MoveForm(warning=None, **kw),
    "case details asking about the warning": lambda **kw: asking(
        case_forms.CaseDetailsForm(prefix="case", **kw)
    ),
    "destination edit": lambda **kw: DestinationRiskForm(**kw),
    "intake for one team": lambda **kw: IntakeForm(**kw),
}


def asking(form: case_forms.CaseDetailsForm) -> case_forms.CaseDetailsForm:
    form.ask_warning_seen()
    return form


def variants(make):
    """The form blank, prefilled with markup, and refused: with nothing, and with markup in
    every field (a choice's error repeats what was sent)."""
    names = [field.html_name for field in make()]
    yield "blank", make()
    yield "prefilled", make(initial={field.name: XSS for field in make()})
    for sent in ({}, dict.fromkeys(names, XSS), dict.fromkeys(names, "1")):
        form = make(data=sent)
        form.is_valid()  # shown with its errors, as a refused form is
        yield f"sent {sorted(set(sent.values()))}", form


@pytest.fixture
def world(db):
    """Members to choose from and two teams, so every select has options and the intake form
    asks for the team."""
    teams = [TeamFactory(name="North"), TeamFactory(name=f"South {XSS}")]
    UserFactory(username=f"volunteer{XSS}", teams=teams)
    UserFactory(username="volunteer2", teams=teams[:1])


def test_every_form_of_the_project_is_here():
    missing = sorted(set(project_forms()) - set(FORMS) - set(ABSTRACT))
    assert not missing, f"forms without a row in FORMS: {missing}"


@pytest.mark.parametrize("name", [*FORMS, *MORE_FORMS])
def test_every_field_of_the_projects_forms_is_labelled_and_described(world, name):
    make = FORMS.get(name) or MORE_FORMS[name]
    for shape, form in variants(make):
        for field in form:
            assert_a_person_can_use(field, name, shape)


class Odd(forms.Form):
    text = forms.CharField(label=XSS, help_text=XSS)
    safe = forms.CharField(
        label=mark_safe("<b>Safe</b> label"),
        help_text=mark_safe('See <a href="/help/">help</a>'),
        required=False,
    )
    lazy = forms.CharField(
        label=gettext_lazy("Reason"), help_text=gettext_lazy("Needed"), required=False
    )
    nameless = forms.CharField(required=False)  # labelled from its name
    unlabelled = forms.CharField(label="", required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, help_text="Help of a hidden field")
    hidden_initial = forms.CharField(show_hidden_initial=True, required=False)
    agree = forms.BooleanField(label=XSS, help_text="Tick it")
    maybe = forms.BooleanField(required=False)
    radio = forms.ChoiceField(
        label="Pick one",
        choices=[("a", XSS), ("b", "B")],
        widget=forms.RadioSelect,
        help_text="Only one",
    )
    radio_plain = forms.ChoiceField(choices=[("a", "A")], widget=forms.RadioSelect)
    boxes = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple, required=False
    )
    when = forms.DateField(widget=case_forms.DateInput, required=False)
    big = forms.CharField(widget=forms.Textarea, required=False)
    pick = forms.ChoiceField(choices=[("", "-"), ("x", XSS)], required=False)

    def clean_text(self):
        # User input in the message, as "Select a valid choice. X is not one of..." has.
        raise ValidationError(
            [
                ValidationError("%(value)s is not a thing we know", params={"value": XSS}),
                ValidationError(mark_safe("<em>Safe</em> message")),
                gettext_lazy("This field is required."),
            ]
        )


ODD_DATA = {
    "text": XSS,
    "hidden": XSS,
    "hidden_initial": XSS,
    "initial-hidden_initial": XSS,
    "radio": XSS,
    "boxes": ["a", XSS],
    "when": XSS,
    "big": XSS,
    "pick": XSS,
}
ODD_INITIAL = dict.fromkeys(
    ["text", "safe", "hidden", "hidden_initial", "when", "big", "pick", "radio"], XSS
)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="blank"),
        pytest.param({"auto_id": "x-%s"}, id="own ids"),
        pytest.param({"initial": ODD_INITIAL}, id="prefilled with markup"),
        pytest.param({"data": ODD_DATA}, id="sent markup"),
        pytest.param({"data": {}}, id="sent nothing"),
    ],
)
def test_odd_fields_are_labelled_and_described(options):
    form = Odd(**options)
    form.is_valid()
    for field in form:
        assert_a_person_can_use(field, options)


def test_markup_in_an_error_or_a_value_is_escaped():
    form = Odd(data=ODD_DATA)
    assert not form.is_valid()
    for name in ("text", "hidden", "big", "pick", "when", "radio"):
        written = form[name].as_field_group()
        assert "<script>" not in written, name
        assert ESCAPED in written, name
    text = form["text"].as_field_group()
    assert f'<p class="error" role="alert">{ESCAPED} is not a thing we know</p>' in text
    assert '<p class="error" role="alert"><em>Safe</em> message</p>' in text  # marked safe
    assert f'<label for="id_text">{ESCAPED}</label>' in text
    assert f'<p class="help" id="id_text_helptext">{ESCAPED}</p>' in text

    prefilled = Odd(initial=ODD_INITIAL)
    for name in ODD_INITIAL:
        written = prefilled[name].as_field_group()
        assert "<script>" not in written, name


def test_the_parts_of_a_field_are_where_the_template_puts_them():
    """Spot checks, so both sides being wrong the same way would show."""
    form = Odd(data={"radio": "zzz"})
    form.is_valid()
    assert (
        form["radio"]
        .as_field_group()
        .startswith(
            '<fieldset class="field field-group field-error" '
            'aria-describedby="id_radio_helptext id_radio_error">\n  <legend>Pick one</legend>'
        )
    )
    assert (
        form["agree"]
        .as_field_group()
        .startswith(
            '<div class="field field-error">\n  \n  <label class="check" for="id_agree">'
            '<input type="checkbox" name="agree"'
        )
    )
    assert (
        form["hidden"]
        .as_field_group()
        .startswith(
            '<div class="field field-error hidden-field">\n  <input type="hidden" name="hidden"'
        )
    )
    assert form["maybe"].as_field_group().endswith("\n  \n  \n</div>")
