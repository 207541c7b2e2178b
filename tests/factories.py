import factory
from django.contrib.auth.models import Group

from accounts.models import AuthenticatorDevice, Team, User
from accounts.roles import Role

PASSWORD = "correct horse battery staple 42"


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
            self.groups.add(Group.objects.get(name=Role(extracted)))

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
