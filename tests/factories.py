import importlib

import factory
from django.apps import apps
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import AuthenticatorDevice, Team, User
from accounts.roles import Role

PASSWORD = "correct horse battery staple 42"


def role_group(role: Role) -> Group:
    """The role's group. Transactional tests flush the tables between tests, taking the
    groups the data migration made with them; they are then made again the same way."""
    group = Group.objects.filter(name=role).first()
    if group is None:
        importlib.import_module("accounts.migrations.0002_roles").create_roles(apps, None)
        group = Group.objects.get(name=role)
    return group


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(role_group(Role(extracted)))

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.teams.add(*extracted)


class AuthenticatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuthenticatorDevice

    user = factory.SubFactory(UserFactory)
    name = "authenticator"
    confirmed = True


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "casework.Person"

    codename = factory.Sequence(lambda n: f"Test-{n:05d}")
    category = "deserter"


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "casework.Case"

    reference = factory.Sequence(lambda n: f"C-2026-{n + 50000:05d}")
    person = factory.SubFactory(PersonFactory)
    team = factory.SubFactory(TeamFactory)
    stage = "new"


class IntakeRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "intake.IntakeRequest"

    reference = factory.Sequence(lambda n: f"R-2026-{n + 50000:05d}")
    team = factory.SubFactory(TeamFactory)
    channel = "telegram"
    received_at = factory.LazyFunction(timezone.now)
    contact = "+7 900 000-00-01"
    logged_by = factory.SubFactory(UserFactory)
