"""Factories for the models; policies are made through the core so they are always valid."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from policies.domain import parse
from policies.models import BackupPolicy, Membership, PolicyTag, Tenant
from tests.helpers.payloads import valid_payload

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("project_id",)

    project_id = factory.Sequence(lambda n: f"project-{n}")
    name = factory.LazyAttribute(lambda o: f"Project {o.project_id}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)


class BackupPolicyFactory(factory.django.DjangoModelFactory):
    """Build from a contract payload (``payload=...``), parsed by the core like every entrance."""

    class Meta:
        model = BackupPolicy
        # No Meta.exclude for payload: factory_boy would drop it before _create, which needs it.

    tenant = factory.SubFactory(TenantFactory)
    payload = factory.Sequence(lambda n: valid_payload(backup_policy_name=f"policy_{n:03d}", tags=[]))

    @classmethod
    def _create(cls, model_class, *args, tenant, payload=None, now=None, **kwargs):
        # ``now``: the time of the request, which a time_zone_name is read at.
        result = parse.parse_policy(payload, now=now or timezone.now())
        assert result.ok, result.problems
        policy = model_class.objects.create(
            tenant=tenant, **BackupPolicy.fields_from_spec(result.spec), **kwargs
        )
        for index, tag in enumerate(result.spec.tags):
            PolicyTag.objects.create(policy=policy, key=tag.key, value=tag.value, position=index)
        return policy
