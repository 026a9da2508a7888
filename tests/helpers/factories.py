"""factory-boy factories for the rows no request makes: users, tenants (projects) and memberships.

Policies are made by ``tests.helpers.policies.make_policy``, through the core and the services
as every entrance does; ``FixedIdPolicyFactory`` is the one exception (see its docstring). API
tokens come from ``accounts.token_issue``, volumes from the provider's inventory
(``tests.helpers.runs.make_volumes``).
"""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from policies.domain.contract import parse
from policies.models import BackupPolicy, Membership, PolicyTag, Tenant

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


class FixedIdPolicyFactory(factory.django.DjangoModelFactory):
    """A policy with a primary key chosen in advance, which no service makes (they draw a new UUID).

    Only the fuzz test's world needs one: schemathesis is given the policy's ID once, before any
    request, and the world puts that same policy back after each request that changed it. The
    payload is still parsed by the core, so the row is one an entrance could have stored; no audit
    record is written. Every other test makes its policies with ``make_policy``.
    """

    class Meta:
        model = BackupPolicy
        # No Meta.exclude for payload: factory_boy would drop it before _create, which needs it.

    @classmethod
    def _create(cls, model_class, *args, id, tenant, payload, **kwargs):
        result = parse.parse_policy(payload, now=timezone.now())
        assert result.ok, result.problems
        policy = model_class.objects.create(
            id=id, tenant=tenant, **BackupPolicy.fields_from_spec(result.spec)
        )
        for index, tag in enumerate(result.spec.tags):
            PolicyTag.objects.create(policy=policy, key=tag.key, value=tag.value, position=index)
        return policy
