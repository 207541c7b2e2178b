"""Every URL pattern of the project, walked from the resolver, made concrete from the world.

A pattern whose arguments this module cannot fill raises `Unfillable` with what to add:
that is how a new view is kept from slipping past the access matrix and the CSRF test.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from tests.security.conftest import World

ARGUMENT = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")


class Unfillable(Exception):
    pass


@dataclass(frozen=True)
class Pattern:
    key: str  # "namespace:name", or the route for an unnamed pattern
    route: str  # the whole route, prefixes included
    namespace: str
    arguments: tuple[str, ...]
    view: str  # dotted path of the view, for messages

    def url(self, arguments: dict[str, str]) -> str:
        """The concrete path; checked to resolve back to this very pattern."""
        if set(arguments) != set(self.arguments):
            raise Unfillable(f"{self.key}: arguments {sorted(arguments)} != {self.arguments}")
        path = GROUP.sub(lambda match: str(arguments[match["name"]]), self.route)
        path = ARGUMENT.sub(lambda match: str(arguments[match["name"]]), path)
        path = "/" + path.replace("^", "").replace("$", "")
        match = resolve(urlsplit(path).path)
        if _route(match.route) != _route(self.route):
            raise Unfillable(f"{self.key}: {path} resolves to {match.route}, not {self.route}")
        return path


def _route(route: str) -> str:
    return route.replace("^", "").replace("$", "")


def _arguments(pattern) -> list[str]:
    return list(pattern.regex.groupindex)


def walk(resolver: URLResolver | None = None, prefix: str = "", namespaces=(), arguments=()):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        here = (*arguments, *_arguments(entry.pattern))
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            names = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from walk(entry, route, names, here)
            continue
        assert isinstance(entry, URLPattern)
        namespace = ":".join(namespaces)
        name = f"{namespace}:{entry.name}" if namespace else entry.name
        key = name if entry.name else _route(route)
        yield Pattern(
            key=key,
            route=route,
            namespace=namespace,
            arguments=tuple(here),
            view=entry.lookup_str,
        )


def all_patterns() -> list[Pattern]:
    return list(walk())


# Filling arguments from the world -----------------------------------------------------------

ADMIN_OBJECT = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/")


def _admin_object(world: World, pattern: Pattern):
    match = ADMIN_OBJECT.match(_route(pattern.route))
    label = f"{match['app']}.{match['model']}" if match else ""
    if label not in world.admin_rows:
        raise Unfillable(
            f"{pattern.key}: the admin lists a model the world has no row of ({label or '?'}). "
            "Add one to admin_rows in tests/security/conftest.py."
        )
    return world.admin_rows[label]


def _variants_casework(world: World, pattern: Pattern):
    if pattern.arguments == ("reference",):
        return [
            ("case_a", {"reference": world.case_a.reference}),
            ("case_b", {"reference": world.case_b.reference}),
        ]
    if pattern.key == "casework:access_change_decide":
        return [("", {"pk": world.access_change.pk})]
    if pattern.key in ("casework:account_contain", "casework:access_change_new"):
        return [
            ("member_a", {"pk": world.users["volunteer_a"].pk}),
            ("member_b", {"pk": world.users["volunteer_b"].pk}),
        ]
    if pattern.key in ("casework:transfer_detail", "casework:transfer_withdraw"):
        return [("", {"pk": world.transfer.pk})]
    if pattern.key == "casework:containment_detail":
        return [("", {"pk": world.containment.pk})]
    if pattern.key in {"casework:break_glass_review", "casework:break_glass_reason"}:
        return [("", {"pk": world.break_glass.pk})]
    if pattern.arguments == ("reference", "pk") and pattern.key.startswith("casework:leg_"):
        return [
            ("case_a", {"reference": world.case_a.reference, "pk": world.leg_a.pk}),
            ("case_b", {"reference": world.case_b.reference, "pk": world.leg_b.pk}),
        ]
    if pattern.key == "casework:approval_decide":
        return [
            ("case_a", {"reference": world.case_a.reference, "pk": world.approval_a.pk}),
            ("case_b", {"reference": world.case_b.reference, "pk": world.approval_b.pk}),
        ]
    if pattern.arguments == ("reference", "pk") and pattern.key == "casework:reminder_change":
        return [
            ("case_a", {"reference": world.case_a.reference, "pk": world.reminder_a.pk}),
            ("case_b", {"reference": world.case_b.reference, "pk": world.reminder_b.pk}),
        ]
    return None


def _variants_intake(world: World, pattern: Pattern):
    if pattern.arguments == ("reference",):
        return [
            ("intake_a", {"reference": world.intake_a.reference}),
            ("intake_b", {"reference": world.intake_b.reference}),
            ("intake_b_decided", {"reference": world.intake_b_decided.reference}),
        ]
    if pattern.arguments == ("reference", "pk"):
        return [
            (
                "intake_a",
                {"reference": world.intake_a.reference, "pk": world.request_document_a.pk},
            ),
            (
                "intake_b",
                {"reference": world.intake_b.reference, "pk": world.request_document_b.pk},
            ),
            # Moved to case B when the request was accepted: served from the case alone.
            (
                "intake_b_decided",
                {"reference": world.intake_b_decided.reference, "pk": world.moved_document_b.pk},
            ),
        ]
    return None


def _variants_accounts(world: World, pattern: Pattern):
    if pattern.key == "accounts:link":
        return [("", {"token": "not-a-live-link"})]
    if pattern.arguments == ("pk",) and pattern.key.startswith("accounts:member_"):
        return [
            ("member_a", {"pk": world.users["volunteer_a"].pk}),
            ("member_b", {"pk": world.users["volunteer_b"].pk}),
        ]
    return None


def _variants_admin(world: World, pattern: Pattern):
    arguments = set(pattern.arguments)
    if arguments == {"object_id"}:
        return [("", {"object_id": _admin_object(world, pattern).pk})]
    if arguments == {"id"} and pattern.key == "admin:auth_user_password_change":
        return [("", {"id": world.users["volunteer_a"].pk})]
    if arguments == {"content_type_id", "object_id"}:
        user = world.users["volunteer_a"]
        content_type = ContentType.objects.get_for_model(user)
        return [("", {"content_type_id": content_type.pk, "object_id": user.pk})]
    if arguments == {"app_label"}:
        return [(label, {"app_label": label}) for label in ("axes",)]
    if arguments == {"url"}:
        return [("", {"url": "no-such-page/"})]
    return None


def _variants_destinations(world: World, pattern: Pattern):
    if pattern.arguments == ("country",):
        return [("", {"country": world.destination.country})]
    return None


def _variants_documents(world: World, pattern: Pattern):
    if pattern.arguments == ("reference",):
        return [
            ("case_a", {"reference": world.case_a.reference}),
            ("case_b", {"reference": world.case_b.reference}),
        ]
    if pattern.key == "documents:leg_document_attach":
        return [
            ("case_a", {"reference": world.case_a.reference, "pk": world.leg_a.pk}),
            ("case_b", {"reference": world.case_b.reference, "pk": world.leg_b.pk}),
        ]
    if pattern.arguments == ("reference", "pk"):
        return [
            ("case_a", {"reference": world.case_a.reference, "pk": world.document_a.pk}),
            ("case_b", {"reference": world.case_b.reference, "pk": world.document_b.pk}),
            ("leg_b", {"reference": world.case_b.reference, "pk": world.leg_document_b.pk}),
        ]
    return None


FILLERS = {
    "documents": _variants_documents,
    "destinations": _variants_destinations,
    "casework": _variants_casework,
    "intake": _variants_intake,
    "accounts": _variants_accounts,
    "admin": _variants_admin,
}


def variants(world: World, pattern: Pattern) -> list[tuple[str, str]]:
    """(variant name, concrete URL) for each way the world fills the pattern."""
    if not pattern.arguments:
        return [("", pattern.url({}))]
    filler = FILLERS.get(pattern.namespace)
    found = filler(world, pattern) if filler else None
    if not found:
        raise Unfillable(
            f"{pattern.key} ({pattern.route}, view {pattern.view}) takes {pattern.arguments}, "
            "which tests/security/urlconf.py does not know how to fill: add the objects to the "
            "world (tests/security/conftest.py) and a filler here."
        )
    return [(name, pattern.url(arguments)) for name, arguments in found]
