"""Every URL pattern x every role: the answer is exactly the one the table below allows.

The patterns come from walking the resolver (tests/security/urlconf.py), so a view added
without a line here fails `test_every_url_pattern_has_a_row`, and one whose arguments the
world cannot fill fails with what to add. Each URL is requested with GET and with POST (valid
data for the roles that may act, from POST_DATA); each request runs in a transaction that is
rolled back, and the client's cookies are restored, so every role meets the same world.

Outcomes: "200", "403", "404", "405", … or "302 <url name>" for a redirect to that page.
Anonymous visitors go to the sign-in page and password-only sessions to the second-factor
page unless a row says otherwise; the verified roles are spelt out for every URL.
"""

import copy
import io
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from axes.models import AccessAttempt
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, Sum
from django.urls import Resolver404, resolve
from django.utils import timezone
from PIL import Image

from accounts.models import AccessChange, AuthenticatorDevice, Team, User
from casework.models import (
    BreakGlass,
    Case,
    CaseEvent,
    CaseTransfer,
    EventKind,
    Notification,
    Reminder,
    RouteLeg,
    TimelineUndo,
)
from casework.services.cases import case_note_add
from destinations.models import DestinationRisk
from documents.models import Document
from intake.models import IntakeRequest, Message
from tests.conftest import current_code
from tests.factories import PASSWORD
from tests.security.conftest import (
    MATRIX_CHECKED,
    MATRIX_REQUESTS,
    ROLES,
    VERIFIED_ROLES,
    World,
    body,
    rolled_back,
)
from tests.security.urlconf import Unfillable, all_patterns, variants

pytestmark = pytest.mark.django_db

LOGIN = "302 accounts:login"
VERIFY = "302 accounts:verify"
ADMIN_LOGIN = "302 admin:login"


def roles(default: str | None = None, *, anonymous=LOGIN, password_only=VERIFY, **verified):
    """One outcome per role; every verified role named or covered by `default`."""
    unknown = set(verified) - set(VERIFIED_ROLES)
    assert not unknown, unknown
    table = {"anonymous": anonymous, "password_only": password_only}
    for role in VERIFIED_ROLES:
        table[role] = verified.get(role, default)
        assert table[role] is not None, f"no outcome for {role}"
    return table


def same(outcomes: dict) -> dict:
    """The view does not look at the method: POST answers as GET does."""
    return {"GET": outcomes, "POST": outcomes}


def post_only(post: dict) -> dict:
    """require_POST: a signed-in GET is 405 (anonymous and password-only are sent away first)."""
    return {"GET": roles("405"), "POST": post}


def get_only(get: dict) -> dict:
    """require_GET: a signed-in POST is 405 (anonymous and password-only are sent away first)."""
    return {"GET": get, "POST": roles("405")}


def only(role: str, allowed: str, other: str) -> dict:
    """One role gets `allowed`, the other verified roles `other`."""
    return roles(other, **{role: allowed})


CASE = "302 casework:case_detail"
REQUEST = "302 intake:detail"


def admin_row(
    get: str, post: str | None = None, non_staff: str = ADMIN_LOGIN, anonymous: str = ADMIN_LOGIN
) -> dict:
    """Django admin: staff with a verified second factor (our admin role). Signed-in
    non-staff are sent to the admin's login (which sends them to ours), as are anonymous
    visitors of the site's own pages (a model's pages send them to ours directly); a
    password-only session is sent to the second step first."""
    others = {role: non_staff for role in ("volunteer_a", "volunteer_b", "coordinator_b")}
    return {
        "GET": roles(anonymous=anonymous, **others, admin=get),
        "POST": roles(anonymous=anonymous, **others, admin=post or get),
    }


# The table. Keys are URL names, or the route of an unnamed pattern; a dict of variants
# (case_a, case_b, …, see urlconf.variants) where the world fills a pattern more than once.
EXPECTED: dict[str, dict] = {
    # Dashboard, inbox, lists: every verified role, each seeing only its own.
    "dashboard:home": same(roles("200")),
    "casework:inbox": same(roles("200")),
    "casework:inbox_read": post_only(roles("302 casework:inbox")),
    "dashboard:health": same(only("admin", "200", "403")),
    # Search: whoever works cases or requests, each finding only what they may open; the
    # admins have no path to personal data. A GET shows the empty box.
    "dashboard:search": same(only("admin", "403", "200")),
    "casework:case_list": same(roles("200")),
    "casework:board": same(roles("200")),
    # Break-glass: coordinators only; it opens case A (another team's) for coordinator B.
    "casework:break_glass": {
        "GET": only("coordinator_b", "200", "403"),
        "POST": only("coordinator_b", CASE, "403"),
    },
    # A case page: its assignee and its team's coordinators; 404 to everyone else.
    "casework:case_detail": {
        "case_a": same(only("volunteer_a", "200", "404")),
        "case_b": same(only("coordinator_b", "200", "404")),
    },
    # Its older timeline entries (what the page folds away): whoever sees the case page.
    "casework:case_timeline_older": {
        "case_a": get_only(only("volunteer_a", "200", "404")),
        "case_b": get_only(only("coordinator_b", "200", "404")),
    },
    "casework:case_edit": {
        "case_a": {
            "GET": only("volunteer_a", "200", "404"),
            "POST": only("volunteer_a", CASE, "404"),
        },
        "case_b": {
            "GET": only("coordinator_b", "200", "404"),
            "POST": only("coordinator_b", CASE, "404"),
        },
    },
    "casework:case_move": {
        "case_a": post_only(only("volunteer_a", CASE, "404")),
        "case_b": post_only(only("coordinator_b", CASE, "404")),
    },
    # Assigning: the team's coordinator; the assignee sees the case but may not reassign.
    "casework:case_assign": {
        "case_a": post_only(only("volunteer_a", "403", "404")),
        "case_b": post_only(only("coordinator_b", CASE, "404")),
    },
    # Taking: a volunteer of the team, an unassigned open case. A coordinator of the team
    # is sent back to the dashboard ("someone else took it"); case A is taken already.
    "casework:case_take": {
        "case_a": post_only(roles("404")),
        "case_b": post_only(roles("404", volunteer_b=CASE, coordinator_b="302 dashboard:home")),
    },
    "casework:case_timeline_add": {
        "case_a": post_only(only("volunteer_a", CASE, "404")),
        "case_b": post_only(only("coordinator_b", CASE, "404")),
    },
    # Undo: only the one who logged the contact (a teammate who may work the case: 403).
    "casework:case_timeline_undo": {
        "case_a": post_only(only("volunteer_a", CASE, "404")),
        "case_b": post_only(only("coordinator_b", CASE, "404")),
    },
    "casework:case_risk_reviewed": {
        "case_a": post_only(only("volunteer_a", CASE, "404")),
        "case_b": post_only(only("coordinator_b", CASE, "404")),
    },
    # Access history, legal hold, erasure: the team's coordinators; the assignee gets 403.
    "casework:case_history": {
        "case_a": same(only("volunteer_a", "403", "404")),
        "case_b": same(only("coordinator_b", "200", "404")),
    },
    "casework:case_legal_hold": {
        "case_a": same(only("volunteer_a", "403", "404")),
        "case_b": {
            "GET": only("coordinator_b", "200", "404"),
            "POST": only("coordinator_b", CASE, "404"),
        },
    },
    "casework:case_erase": {
        "case_a": same(only("volunteer_a", "403", "404")),
        "case_b": {
            "GET": only("coordinator_b", "200", "404"),
            "POST": only("coordinator_b", CASE, "404"),
        },
    },
    # Merging: the team's coordinators (the assignee sees the case, so 403). POST names
    # another team's case, which reads as a missing one (400). Undoing is asked of a merged
    # case's reference; the world has none merged, so it is a 404 for all.
    "casework:case_merge": {
        "case_a": same(only("volunteer_a", "403", "404")),
        "case_b": {
            "GET": only("coordinator_b", "200", "404"),
            "POST": only("coordinator_b", "400", "404"),
        },
    },
    "casework:case_merge_undo": {
        "case_a": post_only(roles("404")),
        "case_b": post_only(roles("404")),
    },
    # Route legs. The list: everyone, each their own legs. Adding, editing and removing:
    # the team's coordinators (the assignee sees the case, so 403). A leg's page: its
    # volunteer (volunteer B is not on case B otherwise) and the team's coordinators.
    "casework:leg_list": same(roles("200")),
    "casework:leg_new": {
        "case_a": same(only("volunteer_a", "403", "404")),
        "case_b": {
            "GET": only("coordinator_b", "200", "404"),
            "POST": only("coordinator_b", CASE, "404"),
        },
    },
    "casework:leg_detail": {
        "case_a": same(only("volunteer_a", "200", "404")),
        "case_b": same(roles("404", volunteer_b="200", coordinator_b="200")),
    },
    "casework:leg_edit": {
        "case_a": same(only("volunteer_a", "403", "404")),
        "case_b": {
            "GET": only("coordinator_b", "200", "404"),
            "POST": only("coordinator_b", CASE, "404"),
        },
    },
    "casework:leg_remove": {
        "case_a": post_only(only("volunteer_a", "403", "404")),
        "case_b": post_only(only("coordinator_b", CASE, "404")),
    },
    # Documents: attached by whoever works the case; downloaded by whoever sees it, a leg's
    # file by the leg's volunteer and the coordinators only (the assignee of case A is also
    # leg A's volunteer; volunteer B is not on case B, only on its leg). Unseen is a 404.
    "documents:document_attach": {
        "case_a": post_only(only("volunteer_a", CASE, "404")),
        "case_b": post_only(only("coordinator_b", CASE, "404")),
    },
    # A leg's file: the leg's volunteer (volunteer A on leg A, volunteer B on leg B, who is
    # not on case B) and the team's coordinators.
    "documents:leg_document_attach": {
        "case_a": post_only(only("volunteer_a", "302 casework:leg_detail", "404")),
        "case_b": post_only(
            roles(
                "404",
                volunteer_b="302 casework:leg_detail",
                coordinator_b="302 casework:leg_detail",
            )
        ),
    },
    "documents:document_download": {
        "case_a": get_only(only("volunteer_a", "200", "404")),
        "case_b": get_only(only("coordinator_b", "200", "404")),
        "leg_b": get_only(roles("404", volunteer_b="200", coordinator_b="200")),
    },
    # An image's small preview: the download's rules exactly.
    "documents:document_preview": {
        "case_a": get_only(only("volunteer_a", "200", "404")),
        "case_b": get_only(only("coordinator_b", "200", "404")),
        "leg_b": get_only(roles("404", volunteer_b="200", coordinator_b="200")),
    },
    # Flagging a suspected provocation: the assignee (the screener) and the coordinators.
    "casework:case_provocation": {
        "case_a": {
            "GET": only("volunteer_a", "200", "404"),
            "POST": only("volunteer_a", CASE, "404"),
        },
        "case_b": {
            "GET": only("coordinator_b", "200", "404"),
            "POST": only("coordinator_b", CASE, "404"),
        },
    },
    "casework:follow_up": {
        "case_a": post_only(only("volunteer_a", CASE, "404")),
        "case_b": post_only(only("coordinator_b", CASE, "404")),
    },
    "casework:reminder_change": {
        "case_a": post_only(only("volunteer_a", CASE, "404")),
        "case_b": post_only(only("coordinator_b", CASE, "404")),
    },
    # Asking for approval: whoever works the case but is not its team's coordinator (they
    # move it themselves); deciding: the team's coordinators, never the one who asked.
    # Team A has no active coordinator (it left, see the world): volunteer A's ask reaches
    # the service and is refused with a message (400); tests/casework/test_approvals.py
    # asks in a team that has one.
    "casework:approval_ask": {
        "case_a": post_only(only("volunteer_a", "400", "404")),
        "case_b": post_only(only("coordinator_b", "403", "404")),
    },
    "casework:approval_decide": {
        "case_a": post_only(only("volunteer_a", "403", "404")),
        "case_b": post_only(only("coordinator_b", CASE, "404")),
    },
    # Handing over: the assignee (a volunteer); the team's coordinator reassigns instead.
    "casework:case_hand_over": {
        "case_a": {
            "GET": only("volunteer_a", "200", "404"),
            "POST": only("volunteer_a", "302 casework:case_list", "404"),
        },
        "case_b": same(only("coordinator_b", "403", "404")),
    },
    # Asking to transfer: the team's coordinators. Team A has no active coordinator, so
    # coordinator B's proposal of case B to team A is refused with a message (400).
    "casework:case_transfer_ask": {
        "case_a": same(only("volunteer_a", "403", "404")),
        "case_b": {
            "GET": only("coordinator_b", "200", "404"),
            "POST": only("coordinator_b", "400", "404"),
        },
    },
    # Transfers: coordinators list theirs; the pending transfer of case A to team B is seen
    # and decided by team B's coordinator, and by nobody else (404). Only the asking team
    # may withdraw it (coordinator B: 403).
    "casework:transfer_list": same(only("coordinator_b", "200", "403")),
    "casework:transfer_detail": {
        "GET": roles("404", coordinator_b="200"),
        "POST": roles("404", coordinator_b=CASE),
    },
    "casework:transfer_withdraw": post_only(roles("404", coordinator_b="403")),
    # What others changed on one's cases: volunteers and coordinators; admins have none.
    "casework:since_last_shift": same(roles("200", admin="403")),
    # Containing a compromised account and its lists: admins only, on anyone else.
    "casework:account_contain": {
        "member_a": {
            "GET": only("admin", "200", "403"),
            "POST": only("admin", "302 casework:containment_detail", "403"),
        },
        "member_b": {
            "GET": only("admin", "200", "403"),
            "POST": only("admin", "302 casework:containment_detail", "403"),
        },
    },
    "casework:containment_list": same(only("admin", "200", "403")),
    "casework:containment_detail": same(only("admin", "200", "403")),
    # Break-glass review: admins (review_audit) only; the reasons are shown there alone.
    "casework:break_glass_reviews": same(only("admin", "200", "403")),
    "casework:break_glass_review": post_only(
        only("admin", "302 casework:break_glass_reviews", "403")
    ),
    # A grant's reason, one at a time on a POST, audited: admins only.
    "casework:break_glass_reason": post_only(only("admin", "200", "403")),
    # Signing in. The sign-in page is the one public page; signed-in people are sent on to
    # the second step (which sends the verified on to the dashboard).
    "accounts:login": {
        "GET": roles(VERIFY, anonymous="200"),
        "POST": roles(VERIFY, anonymous=VERIFY),
    },
    "accounts:logout": {
        "GET": roles("405", password_only="405"),
        "POST": roles(LOGIN, password_only=LOGIN),
    },
    "accounts:verify": {
        "GET": roles("302 dashboard:home", password_only="200"),
        "POST": roles("302 dashboard:home", password_only="302 dashboard:home"),
    },
    # Enrolling: a verified user may replace their authenticator; a password-only session
    # with an authenticator must verify first.
    "accounts:enrol": {
        "GET": roles("200", password_only=VERIFY),
        "POST": roles("200", password_only=VERIFY),
    },
    "accounts:profile": {"GET": roles("200"), "POST": roles("302 accounts:profile")},
    "accounts:backup_codes_new": post_only(roles("200")),
    "accounts:password_change": {"GET": roles("200"), "POST": roles("302 accounts:profile")},
    "accounts:members": same(roles("403", coordinator_b="200", admin="200")),
    # Confirming password and code again (config.step_up): any verified member; a form
    # without them is refused.
    "accounts:step_up": {"GET": roles("200"), "POST": roles("400")},
    # Deactivating and clearing a lock-out: admins, on anyone but themselves; a coordinator
    # sees their team's volunteer but may do neither.
    **{
        name: {
            "member_a": {
                "GET": only("admin", "200", "404"),
                "POST": only("admin", "302 accounts:members", "404"),
            },
            "member_b": {
                "GET": roles("404", coordinator_b="200", admin="200"),
                "POST": roles("404", coordinator_b="403", admin="302 accounts:members"),
            },
        }
        for name in ("accounts:member_deactivate", "accounts:member_unlock")
    },
    # A password-reset link, shown once: whoever may reset the member's second factor.
    "accounts:member_password_reset": {
        "member_a": same(only("admin", "200", "404")),
        "member_b": same(roles("404", coordinator_b="200", admin="200")),
    },
    # The link itself: public, and without a live token it opens nothing (404).
    "accounts:link": same(
        roles(
            "302 accounts:link_set",
            anonymous="302 accounts:link_set",
            password_only="302 accounts:link_set",
        )
    ),
    "accounts:link_set": same(roles("404", anonymous="404", password_only="404")),
    # Role and team changes: admins and coordinators list what concerns them; proposing
    # needs to see the member; a decision needs to see the change, and its proposer
    # (coordinator B here) may not decide it.
    # A new team (admins): nobody in it until two people add them.
    "accounts:team_new": {
        "GET": only("admin", "200", "403"),
        "POST": only("admin", "302 accounts:members", "403"),
    },
    "casework:access_changes": same(roles("403", coordinator_b="200", admin="200")),
    "casework:access_change_new": {
        "member_a": same(only("admin", "302 casework:access_changes", "404"))
        | {"GET": only("admin", "200", "404")},
        "member_b": {
            "GET": roles("404", coordinator_b="200", admin="200"),
            "POST": roles(
                "404",
                coordinator_b="302 casework:access_changes",
                admin="302 casework:access_changes",
            ),
        },
    },
    "casework:access_change_decide": post_only(
        roles("404", coordinator_b="403", admin="302 casework:access_changes")
    ),
    "casework:member_invite": {
        "GET": only("admin", "200", "403"),
        "POST": only("admin", "200", "403"),
    },
    # Member actions: admins on anyone; a coordinator resets their own team's volunteers'
    # second factor (not sign-out-everywhere); nobody else even sees the member (404).
    "accounts:member_second_factor_reset": {
        "member_a": {
            "GET": only("admin", "200", "404"),
            "POST": only("admin", "302 accounts:members", "404"),
        },
        "member_b": {
            "GET": roles("404", coordinator_b="200", admin="200"),
            "POST": roles(
                "404", coordinator_b="302 accounts:members", admin="302 accounts:members"
            ),
        },
    },
    "accounts:member_sessions_end": {
        "member_a": {
            "GET": only("admin", "200", "404"),
            "POST": only("admin", "302 accounts:members", "404"),
        },
        "member_b": {
            "GET": roles("404", coordinator_b="200", admin="200"),
            "POST": roles("404", coordinator_b="403", admin="302 accounts:members"),
        },
    },
    # Intake: volunteers and coordinators of the request's team while it waits for triage,
    # then its coordinators and whoever may see its case; admins see no requests.
    "intake:queue": same(roles("200", admin="403")),
    "intake:new": {
        "GET": roles("200", admin="403"),
        "POST": roles("302 intake:queue", admin="403"),
    },
    "intake:detail": {
        "intake_a": {
            "GET": only("volunteer_a", "200", "404"),
            "POST": only("volunteer_a", "302 intake:queue", "404"),
        },
        "intake_b": {
            "GET": roles("404", volunteer_b="200", coordinator_b="200"),
            "POST": roles("404", volunteer_b="302 intake:queue", coordinator_b="302 intake:queue"),
        },
        # Triaged into a case volunteer B does not work: only the team's coordinators read
        # it (and nobody triages it again).
        "intake_b_decided": {
            "GET": only("coordinator_b", "200", "404"),
            "POST": only("coordinator_b", "403", "404"),
        },
    },
    # A request's files at triage: attached by whoever may triage it (a decided request
    # takes none: 403 to the coordinator who still reads it), read by whoever may read it.
    # Once the request is decided its files are its case's: the request's URL is a 404.
    "intake:document_attach": {
        "intake_a": post_only(only("volunteer_a", "302 intake:detail", "404")),
        "intake_b": post_only(
            roles("404", volunteer_b="302 intake:detail", coordinator_b="302 intake:detail")
        ),
        "intake_b_decided": post_only(only("coordinator_b", "403", "404")),
    },
    "intake:document_download": {
        "intake_a": get_only(only("volunteer_a", "200", "404")),
        "intake_b": get_only(roles("404", volunteer_b="200", coordinator_b="200")),
        "intake_b_decided": get_only(roles("404")),
    },
    "intake:document_preview": {
        "intake_a": get_only(only("volunteer_a", "200", "404")),
        "intake_b": get_only(roles("404", volunteer_b="200", coordinator_b="200")),
        "intake_b_decided": get_only(roles("404")),
    },
    # A reply to the person: whoever may triage the request or work its case; another
    # team's request is a 404; admins, who work no requests, 403 before any look-up.
    "intake:reply": {
        "intake_a": post_only(roles("404", volunteer_a=REQUEST, admin="403")),
        "intake_b": post_only(
            roles("404", volunteer_b=REQUEST, coordinator_b=REQUEST, admin="403")
        ),
        # Its case is coordinator B's alone to work.
        "intake_b_decided": post_only(roles("404", coordinator_b=REQUEST, admin="403")),
    },
    # The queue's possible floods: each member their own teams' (the world has none, so a
    # bulk rejection names no listed request: 400); admins 403.
    "intake:flood": {"GET": roles("200", admin="403"), "POST": roles("400", admin="403")},
    # Telegram's calls to the bot: no session, no CSRF token, the secret header instead. The
    # bot is off here, so the page does not exist for anyone; with the bot on, a call
    # without the secret is a 403 whoever makes it (tests/intake/telegram/test_webhook.py).
    "telegram:webhook": same(roles("404", anonymous="404", password_only="404")),
    # The destination-risk register: shared by all teams; volunteers and coordinators read
    # it, coordinators add and change entries; admins (no operational data) get 403.
    "destinations:register": same(roles("200", admin="403")),
    "destinations:entry": same(roles("200", admin="403")),
    "destinations:entry_add": {
        "GET": only("coordinator_b", "200", "403"),
        "POST": only("coordinator_b", "302 destinations:entry", "403"),
    },
    "destinations:entry_edit": {
        "GET": only("coordinator_b", "200", "403"),
        "POST": only("coordinator_b", "302 destinations:entry", "403"),
    },
    # Audit: admins only.
    "audit:events": same(only("admin", "200", "403")),
    "audit:export": same(only("admin", "200", "403")),
    "audit:alerts": same(only("admin", "200", "403")),
    # The Django admin (django-otp's site): staff with a verified second factor. The admin
    # role may view, add and change users and teams; groups (roles) and lock-out records
    # are out of its reach, and nothing may be deleted.
    "admin:index": admin_row("200"),
    # Our admin login sends everyone to the one sign-in page; once signed in and verified,
    # staff go to the admin and everyone else is refused (not sent round in a loop).
    "admin:login": same(roles("403", admin="302 admin:index")),
    # Signing out of the admin is signing out (POST only); non-staff go to the admin index.
    "admin:logout": admin_row("405", LOGIN, non_staff="302 admin:index"),
    "admin:password_change": admin_row("200"),
    "admin:password_change_done": admin_row("200", "405"),
    "admin:autocomplete": admin_row("403", "405"),
    "admin:jsi18n": admin_row("200", "405"),
    "admin:view_on_site": admin_row("404"),
    "admin:app_list": {"axes": admin_row("404")},
    "admin/(?P<url>.*)": admin_row("404"),
}
# The Django admin's pages of each model: does the admin role manage it (view, add and
# change; it deletes nothing), or is it out of its reach altogether?
# Users, groups (roles) and teams have no admin page: members are managed in the app.
ADMIN_MODELS = {
    ("axes", "accessattempt"): False,
    ("axes", "accesslog"): False,
    ("axes", "accessfailurelog"): False,
}


def _admin_model_rows() -> dict[str, dict]:
    """A model's pages send anonymous visitors to our sign-in page directly."""
    rows = {}
    for (app, model), manages in ADMIN_MODELS.items():
        for page in ("changelist", "add", "history", "change", "delete"):
            outcome = "200" if manages and page != "delete" else "403"
            rows[f"admin:{app}_{model}_{page}"] = admin_row(outcome, anonymous=LOGIN)
        # /admin/<app>/<model>/<id>/ only redirects to the change page (which then decides).
        target = f"302 admin:{app}_{model}_change"
        rows[f"admin/{app}/{model}/<path:object_id>/"] = admin_row(target, anonymous=LOGIN)
    return rows


EXPECTED.update(_admin_model_rows())


# Valid POST data: what an allowed role sends when it means it.
class RewoundFile(SimpleUploadedFile):
    """The same data is posted once per role: each post reads the file from its start."""

    def read(self, *args, **kwargs):
        self.seek(0)
        return super().read(*args, **kwargs)


def _png() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (8, 8)).save(image, "PNG")
    return image.getvalue()


def _soon() -> str:
    return timezone.localtime(timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")


def _case(world: World, variant: str):
    case = world.case_a if variant == "case_a" else world.case_b
    case.refresh_from_db()
    return case


def _contact_to_undo(world: World, variant: str) -> dict:
    """A contact logged a moment ago by the one who works the case: theirs to undo."""
    case = _case(world, variant)
    by = world.users["volunteer_a" if variant == "case_a" else "coordinator_b"]
    case_note_add(case=case, by=by, kind=EventKind.CONTACT, text="")
    undo = TimelineUndo.objects.filter(case=case).latest("pk")
    return {"undo": undo.pk, "version": _case(world, variant).version}


def _member_of(world: World, variant: str):
    return world.users["volunteer_a" if variant == "case_a" else "volunteer_b"]


POST_DATA = {
    "documents:leg_document_attach": lambda w, v: POST_DATA["documents:document_attach"](w, v),
    "intake:document_attach": lambda w, v: POST_DATA["documents:document_attach"](w, v),
    "documents:document_attach": lambda w, v: {
        "document-kind": "other",
        "document-description": "Matrix upload",
        "document-file": RewoundFile("m.png", _png(), content_type="image/png"),
    },
    "casework:break_glass": lambda w, v: {
        "reference": w.case_a.reference,
        "reason": "Their coordinator cannot be reached tonight.",
    },
    "casework:case_edit": lambda w, v: {
        "version": _case(w, v).version,
        "person-legal_name": "Matrix Person",
        "person-preferred_language": "ru",
    },
    "casework:case_move": lambda w, v: {
        "version": _case(w, v).version,
        "to_stage": "on_hold",
        "reason": "Waiting for an answer",
    },
    "casework:case_assign": lambda w, v: {
        "version": _case(w, v).version,
        "assignee": _member_of(w, v).pk,
    },
    "casework:case_hand_over": lambda w, v: {
        "version": _case(w, v).version,
        "to": "phished1" if v == "case_a" else "volunteer_b",
        "note": "Matrix handover: calls back after six",
    },
    "casework:case_transfer_ask": lambda w, v: {
        "version": _case(w, v).version,
        "to_team": (w.team_b if v == "case_a" else w.team_a).pk,
        "note": "Matrix transfer: the person moved south",
    },
    "casework:transfer_detail": lambda w, v: {
        "decision": "accept",
        "version": Case.objects.get(pk=w.case_a.pk).version,
    },
    "casework:case_timeline_add": lambda w, v: {"kind": "note", "text": "Called back"},
    "casework:case_risk_reviewed": lambda w, v: {"version": _case(w, v).version},
    "casework:case_timeline_undo": _contact_to_undo,
    "casework:case_legal_hold": lambda w, v: {"action": "set", "reason": "A lawyer asked"},
    "casework:case_erase": lambda w, v: {"reason": "Asked on Signal", "confirm": "on"},
    "casework:case_merge": lambda w, v: {"other": w.case_a.reference},
    "casework:follow_up": lambda w, v: {"due_at": _soon(), "note": "Call back"},
    "casework:leg_new": lambda w, v: {
        "version": _case(w, v).version,
        "origin": "Matrix from",
        "destination": "Matrix to",
    },
    "casework:leg_edit": lambda w, v: {
        "version": _case(w, v).version,
        "origin": "Matrix changed",
        "destination": "Matrix to",
    },
    "casework:leg_remove": lambda w, v: {"version": _case(w, v).version},
    "casework:case_provocation": lambda w, v: {
        "action": "flag",
        "reason": "Asked for the volunteers' names first",
    },
    "casework:reminder_change": lambda w, v: {"action": "dismiss", "reason": "Done already"},
    "casework:approval_ask": lambda w, v: {
        "version": _case(w, v).version,
        "to_stage": "closed",
        "outcome": "withdrew",
        "note": "Matrix note",
    },
    "casework:approval_decide": lambda w, v: {"decision": "decline", "reason": "Matrix reason"},
    "casework:access_change_new": lambda w, v: {
        "kind": "remove_team" if v == "member_a" else "add_role",
        "team": w.team_a.pk if v == "member_a" else "",
        "role": "coordinator",
    },
    "casework:access_change_decide": lambda w, v: {"decision": "approve"},
    "accounts:team_new": lambda w, v: {"name": "Matrix team"},
    "casework:member_invite": lambda w, v: {
        "username": "matrix-invitee",
        "role": "volunteer",
        "team": w.team_b.pk,
    },
    "casework:account_contain": lambda w, v: {
        "since": timezone.localtime(timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "reason": "Phished through a fake sign-in page",
    },
    "casework:break_glass_review": lambda w, v: {"comment": "Justified: night shift"},
    "destinations:entry_add": lambda w, v: {"country": "KZ", "extradites": "yes"},
    "destinations:entry_edit": lambda w, v: {
        "version": DestinationRisk.objects.get(pk=w.destination.pk).version,
        "extradites": "yes",
        "notes": "Matrix note changed",
    },
    "accounts:login": lambda w, v: {"username": "phished1", "password": PASSWORD},
    "accounts:verify": lambda w, v: {
        "code": current_code(
            AuthenticatorDevice.objects.get(user=w.users["password_only"], confirmed=True)
        )
    },
    "accounts:enrol": lambda w, v: {"code": "000000"},
    "accounts:profile": lambda w, v: {"notification_email": ""},
    "accounts:password_change": lambda w, v: {
        "old_password": PASSWORD,
        "new_password1": "a new and long enough passphrase 7",
        "new_password2": "a new and long enough passphrase 7",
    },
    "intake:new": lambda w, v: {
        "channel": "telegram",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "contact": "@matrix_contact",
        "message": "Hello",
    },
    "intake:detail": lambda w, v: {"action": "reject", "reason": "Not a real request"},
    "intake:reply": lambda w, v: {"text": "We read you.", "back": "request"},
    "intake:flood": lambda w, v: {"requests": [w.intake_a.reference], "reason": "Spam"},
    "dashboard:search": lambda w, v: {"query": w.case_a.reference},
}


def observed(response) -> str:
    if response.status_code in (301, 302, 303):
        location = urlsplit(response["Location"]).path
        try:
            return f"{response.status_code} {resolve(location).view_name}"
        except Resolver404:
            return f"{response.status_code} {location} (no such page)"
    return str(response.status_code)


# Answers that refuse: whoever gets one must have changed nothing. (A coordinator trying to
# take a case is sent back to the dashboard: refused too.)
REFUSED = {"403", "404", "405", LOGIN, VERIFY, ADMIN_LOGIN, "302 dashboard:home"}
# Answers of an action done: the fingerprint must show it (or it would see nothing at all).
ACTED = {
    CASE,
    "302 casework:case_list",
    "302 intake:queue",
    REQUEST,
    "302 accounts:members",
    "302 casework:access_changes",
    "302 casework:containment_detail",
    "302 casework:break_glass_reviews",
    "302 destinations:entry",
}


def fingerprint() -> tuple:
    """A summary of the rows an action changes: cases, timelines, reminders, requests,
    grants and their reviews, notifications, second factors, session generations,
    register entries, case transfers, documents and messages to and from the person."""
    return (
        Case.objects.aggregate(total=Sum("version"), people=Count("person", distinct=True)),
        RouteLeg.objects.count(),
        Case.objects.filter(assignee__isnull=True).count(),
        CaseEvent.objects.count(),
        BreakGlass.objects.count(),
        BreakGlass.objects.filter(reviewed_at__isnull=False).count(),
        list(Reminder.objects.order_by("pk").values_list("state", "due_at")),
        list(IntakeRequest.objects.order_by("pk").values_list("state", flat=True)),
        Message.objects.count(),
        Notification.objects.filter(read_at__isnull=True).count(),
        User.objects.aggregate(Sum("session_generation")),
        AuthenticatorDevice.objects.count(),
        DestinationRisk.objects.aggregate(total=Count("pk"), versions=Sum("version")),
        list(AccessChange.objects.order_by("pk").values_list("state", flat=True)),
        User.objects.filter(is_active=True).count(),
        AccessAttempt.objects.count(),
        Team.objects.count(),
        list(CaseTransfer.objects.order_by("pk").values_list("state", flat=True)),
        Document.objects.count(),
    )


def request(world: World, role: str, method: str, url: str, data: dict):
    """The answer, and whether the world changed while giving it (always undone after)."""
    client = world.clients[role]
    cookies = copy.deepcopy(client.cookies)
    try:
        with rolled_back():
            before = fingerprint()
            response = client.get(url) if method == "GET" else client.post(url, data)
            body(response)
            changed = fingerprint() != before
    finally:
        client.cookies = cookies  # a sign-out (or sign-in) must not follow the next role
    return response, changed


def expected_for(key: str, variant: str) -> dict | None:
    row = EXPECTED.get(key)
    if row is None:
        return None
    if set(row) <= {"GET", "POST"}:
        return row
    return row.get(variant)


def sent_away(pattern, role: str, answer: str) -> bool:
    """Sent to sign in or verify first: the page asked for must come back as ?next=."""
    signing_out = pattern.key in {"accounts:logout", "admin:logout"}
    return (
        role in {"anonymous", "password_only"}
        and answer in {LOGIN, VERIFY, ADMIN_LOGIN}
        and not signing_out
    )


PATTERNS = all_patterns()


def test_every_url_pattern_has_a_row():
    missing = [f"{p.key}  ({p.route}, view {p.view})" for p in PATTERNS if p.key not in EXPECTED]
    assert not missing, (
        "URL patterns without a row in EXPECTED (tests/security/test_access_matrix.py): say "
        "which roles may GET and POST each, and what everyone else gets:\n  " + "\n  ".join(missing)
    )


# The only page anonymous visitors may see (static files are served before any URL).
PUBLIC = {"accounts:login"}


def test_only_the_listed_pages_are_public():
    public = set()
    for key, row in EXPECTED.items():
        rules = [row] if set(row) <= {"GET", "POST"} else list(row.values())
        if any(rule[method]["anonymous"] == "200" for rule in rules for method in rule):
            public.add(key)
    assert public == PUBLIC


def test_static_files_are_public_and_nothing_else_is_served_from_there(client):
    assert client.get("/static/css/app.css").status_code == 200
    for probe in ("/static/../config/settings.py", "/static/%2e%2e/config/settings.py"):
        assert client.get(probe).status_code in (302, 404), probe


def test_every_row_has_a_url_pattern():
    keys = {pattern.key for pattern in PATTERNS}
    stale = sorted(set(EXPECTED) - keys)
    assert not stale, f"rows in EXPECTED for URL patterns that no longer exist: {stale}"


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda pattern: pattern.key)
def test_each_role_gets_exactly_the_allowed_answer(world, pattern):
    try:
        concrete = variants(world, pattern)
    except Unfillable as error:
        pytest.fail(str(error))
    wrong = []
    for variant, url in concrete:
        rule = expected_for(pattern.key, variant)
        if rule is None:
            pytest.fail(
                f"{pattern.key} [{variant}] has no row in EXPECTED "
                "(tests/security/test_access_matrix.py): add one."
            )
        for method in ("GET", "POST"):
            data = POST_DATA.get(pattern.key, lambda w, v: {})(world, variant)
            for role in ROLES:
                response, changed = request(world, role, method, url, data)
                MATRIX_REQUESTS[0] += 1
                MATRIX_CHECKED.add((pattern.key, url, role))
                answer = observed(response)
                want = rule[method][role]
                if answer != want:
                    wrong.append(f"{method} {url} as {role}: got {answer}, allowed {want}")
                elif answer in REFUSED and changed:
                    wrong.append(f"{method} {url} as {role}: refused ({answer}) yet changed rows")
                elif method == "POST" and answer in ACTED and not changed:
                    wrong.append(f"POST {url} as {role}: {answer}, yet nothing changed")
                elif sent_away(pattern, role, answer) and "next" not in parse_qs(
                    urlsplit(response["Location"]).query
                ):
                    wrong.append(f"{method} {url} as {role}: sent away without ?next=")
    assert not wrong, f"{pattern.key}:\n  " + "\n  ".join(wrong)


@pytest.mark.parametrize("path", ["/admin/", "/admin/axes/accessattempt/", "/admin/logout/"])
@pytest.mark.parametrize("role", ["volunteer_a", "volunteer_b", "coordinator_b"])
def test_signed_in_non_staff_asking_for_the_admin_end_at_403_not_in_a_loop(world, role, path):
    response = world.clients[role].get(path, follow=True)
    assert response.status_code == 403
    assert len(response.redirect_chain) <= 3
